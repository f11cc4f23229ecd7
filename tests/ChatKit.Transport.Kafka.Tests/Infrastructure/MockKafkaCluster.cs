using Confluent.Kafka;

namespace ChatKit.Transport.Kafka.Tests.Infrastructure;

/// <summary>
/// librdkafka's Kafka-protocol mock cluster: brokers on 127.0.0.1 that live as long as the client that started them.
/// Any Kafka client (other processes and kcat too) reaches them through <see cref="BootstrapServers"/>.
/// </summary>
internal sealed class MockKafkaCluster : IDisposable
{
    private readonly IProducer<Null, Null> _owner;

    private MockKafkaCluster(IProducer<Null, Null> owner, string bootstrapServers)
    {
        _owner = owner;
        BootstrapServers = bootstrapServers;
    }

    public string BootstrapServers { get; }

    public static MockKafkaCluster Start(int brokers)
    {
        var config = new ProducerConfig();
        config.Set("test.mock.num.brokers", brokers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var owner = new ProducerBuilder<Null, Null>(config).Build();
        try
        {
            using var admin = new DependentAdminClientBuilder(owner.Handle).Build();
            var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
            return new MockKafkaCluster(owner, string.Join(',', metadata.Brokers.Select(b => $"{b.Host}:{b.Port}")));
        }
        catch
        {
            owner.Dispose();
            throw;
        }
    }

    public void Dispose() => _owner.Dispose();
}
