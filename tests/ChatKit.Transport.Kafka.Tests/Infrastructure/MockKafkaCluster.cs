using System.Reflection;
using System.Runtime.InteropServices;
using ChatKit.Transport.Kafka.Options;
using Confluent.Kafka;

namespace ChatKit.Transport.Kafka.Tests.Infrastructure;

/// <summary>
/// librdkafka's Kafka-protocol mock cluster: brokers on 127.0.0.1 that live as long as the client that started them.
/// Any Kafka client (other processes and kcat too) reaches them through <see cref="BootstrapServers"/>. The mock
/// answers no admin request that needs a controller (creating topics), so topics are made through librdkafka's mock
/// API, which also takes brokers down and up.
/// </summary>
internal sealed partial class MockKafkaCluster : IDisposable
{
    private readonly IProducer<Null, Null> _owner;
    private readonly IntPtr _cluster;

    private MockKafkaCluster(IProducer<Null, Null> owner, string bootstrapServers, int brokers)
    {
        _owner = owner;
        BootstrapServers = bootstrapServers;
        Brokers = brokers;
        var handle = (SafeHandle)typeof(Handle).GetProperty("LibrdkafkaHandle", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(owner.Handle)!;
        _cluster = rd_kafka_handle_mock_cluster(handle.DangerousGetHandle());
        if (_cluster == IntPtr.Zero)
        {
            throw new InvalidOperationException("librdkafka returned no mock cluster for a client made with test.mock.num.brokers.");
        }
    }

    public string BootstrapServers { get; }

    /// <summary>
    /// Client settings that take two artefacts of the mock out of measurements. Its brokers leave Nagle's algorithm on
    /// (a real broker turns it off), so with several requests in flight on one connection the last reply waits for the
    /// client's delayed ACK, about 40 ms on Linux, and a transaction costs 40 to 55 ms whatever it holds: one request in
    /// flight per connection avoids the wait (every client). And a fetch that finds no new record waits out its whole
    /// <c>fetch.wait.max.ms</c> even when records arrive meanwhile (a real broker answers as soon as they do; the
    /// mock's source says so): a 1 ms wait stands in for that wake-up, at the cost of more fetches, which the
    /// measurement pays in CPU (consumers only). On a real cluster they would only cost throughput and CPU.
    /// </summary>
    public static void ApplyMeasurementSettings(KafkaTransportOptions options)
    {
        options.Settings["max.in.flight.requests.per.connection"] = "1";
        options.ConsumerSettings["fetch.wait.max.ms"] = "1";
    }

    public int Brokers { get; }

    public static MockKafkaCluster Start(int brokers)
    {
        var config = new ProducerConfig();
        config.Set("test.mock.num.brokers", brokers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var owner = new ProducerBuilder<Null, Null>(config).Build();
        try
        {
            using var admin = new DependentAdminClientBuilder(owner.Handle).Build();
            var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
            return new MockKafkaCluster(owner, string.Join(',', metadata.Brokers.Select(b => $"{b.Host}:{b.Port}")), brokers);
        }
        catch
        {
            owner.Dispose();
            throw;
        }
    }

    /// <summary>Creates a topic on every broker as a real cluster's controller would.</summary>
    public void CreateTopic(string topic, int partitions, int replicationFactor)
    {
        var error = rd_kafka_mock_topic_create(_cluster, topic, partitions, replicationFactor);
        if (error != 0)
        {
            throw new InvalidOperationException($"The mock cluster did not create topic {topic}: error {error}.");
        }
    }

    /// <summary>Takes broker <paramref name="id"/> (1 to <see cref="Brokers"/>) down: its connections drop and it answers nothing.</summary>
    public void SetBrokerDown(int id) => Check(rd_kafka_mock_broker_set_down(_cluster, id), id);

    /// <summary>Brings broker <paramref name="id"/> back.</summary>
    public void SetBrokerUp(int id) => Check(rd_kafka_mock_broker_set_up(_cluster, id), id);

    public void Dispose() => _owner.Dispose();

    private static void Check(int error, int broker)
    {
        if (error != 0)
        {
            throw new InvalidOperationException($"The mock cluster refused to change broker {broker}: error {error}.");
        }
    }

    [LibraryImport("librdkafka")]
    private static partial IntPtr rd_kafka_handle_mock_cluster(IntPtr rk);

    [LibraryImport("librdkafka", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rd_kafka_mock_topic_create(IntPtr cluster, string topic, int partitions, int replicationFactor);

    [LibraryImport("librdkafka")]
    private static partial int rd_kafka_mock_broker_set_down(IntPtr cluster, int brokerId);

    [LibraryImport("librdkafka")]
    private static partial int rd_kafka_mock_broker_set_up(IntPtr cluster, int brokerId);
}
