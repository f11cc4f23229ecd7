using ChatKit.Transport.Kafka.Tests.Infrastructure;
using Confluent.Kafka;

namespace ChatKit.Transport.Kafka.Tests;

/// <summary>
/// The ground the Kafka transport stands on here: Confluent.Kafka 1.9.3 on the system's librdkafka, librdkafka's mock
/// cluster as the broker, and kcat as an outside consumer.
/// </summary>
public sealed class MockKafkaClusterTests
{
    [Fact(Timeout = 60_000)]
    public async Task Three_mock_brokers_take_idempotent_acks_all_produces_that_a_consumer_group_and_kcat_read_back_in_order()
    {
        using var cluster = MockKafkaCluster.Start(brokers: 3);
        Assert.Equal(3, cluster.BootstrapServers.Split(',').Length);
        const string Topic = "chatkit-ground";
        var sent = Enumerable.Range(1, 100).Select(i => $"message {i}").ToList();

        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, EnableIdempotence = true, Acks = Acks.All }).Build())
        {
            foreach (var value in sent)
            {
                var result = await producer.ProduceAsync(Topic, new Message<string, string> { Key = "room-1", Value = value });
                Assert.Equal(PersistenceStatus.Persisted, result.Status);
            }
        }

        using (var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "ground", AutoOffsetReset = AutoOffsetReset.Earliest }).Build())
        {
            consumer.Subscribe(Topic);
            var read = new List<string>();
            while (read.Count < sent.Count)
            {
                var record = consumer.Consume(TimeSpan.FromSeconds(20)) ?? throw new TimeoutException($"Only {read.Count} of {sent.Count} records came back.");
                read.Add(record.Message.Value);
            }

            Assert.Equal(sent, read);
            consumer.Close();
        }

        var kcat = await Processes.RunAsync("kcat", "-C", "-b", cluster.BootstrapServers, "-t", Topic, "-e", "-q", "-f", "%k %s\n");
        Assert.Equal(sent.Select(v => $"room-1 {v}"), kcat.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
