using ChatKit.Transport.Kafka.Tests.Infrastructure;
using Confluent.Kafka;

namespace ChatKit.Transport.Kafka.Tests;

public sealed class ConsumerBatchesTests
{
    [Fact(Timeout = 60_000)]
    public async Task Batches_of_a_full_partition_hold_every_record_once_and_in_order()
    {
        using var kafka = MockKafkaCluster.Start(brokers: 1);
        var topic = "batches-" + Guid.NewGuid().ToString("N")[..8];
        kafka.CreateTopic(topic, partitions: 1, replicationFactor: 1);
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers }).Build())
        {
            for (var i = 0; i < 7; i++)
            {
                await producer.ProduceAsync(topic, new Message<byte[], byte[]> { Key = [], Value = [(byte)i] });
            }
        }

        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = kafka.BootstrapServers, GroupId = "batches" }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var values = new List<byte>();
        var sizes = new List<int>();
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (values.Count < 7)
        {
            Assert.False(patience.IsCancellationRequested, $"Only {values.Count} of 7 records came out of the batches: {string.Join(',', values)}.");
            var batch = consumer.TakeBatch(max: 3, TimeSpan.FromMilliseconds(500), ex => throw ex);
            if (batch.Count > 0)
            {
                sizes.Add(batch.Count);
                values.AddRange(batch.Select(r => r.Message.Value[0]));
            }
        }

        Assert.Equal([0, 1, 2, 3, 4, 5, 6], values);
        Assert.All(sizes, size => Assert.InRange(size, 1, 3));
    }
}
