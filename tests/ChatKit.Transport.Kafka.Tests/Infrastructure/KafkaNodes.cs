using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Hosting;
using ChatKit.Transport.Kafka.Options;
using ChatKit.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ChatKit.Transport.Kafka.Tests.Infrastructure;

/// <summary>
/// ChatKit nodes (real Kestrel servers on loopback) with the Kafka message log on one mock cluster, one store and one
/// redis-server between them, as nodes behind a load balancer share them. Each set has topics and groups of its own.
/// </summary>
internal sealed class KafkaNodes : IAsyncDisposable
{
    public const int Partitions = 4;
    private readonly List<ChatTestServer> _nodes = [];

    private KafkaNodes(string prefix) => Prefix = prefix;

    public string Prefix { get; }

    public string MessagesTopic => $"{Prefix}.messages";

    public ChatTestServer this[int index] => _nodes[index];

    public static async Task<KafkaNodes> StartAsync(MockKafkaCluster kafka, string redis, IChatStore store, int nodes)
    {
        var set = new KafkaNodes(CreateTopics(kafka));
        try
        {
            for (var i = 0; i < nodes; i++)
            {
                set._nodes.Add(await StartNodeAsync(kafka, redis, store, set.Prefix));
            }
        }
        catch
        {
            await set.DisposeAsync();
            throw;
        }

        return set;
    }

    /// <summary>Starts one node on <paramref name="store"/>; without <paramref name="redis"/> it has no backplane (it delivers to its own clients only).</summary>
    public static Task<ChatTestServer> StartNodeAsync(MockKafkaCluster kafka, string? redis, IChatStore store, string prefix) =>
        StartNodeAsync(kafka, redis, kit => kit.Services.Replace(ServiceDescriptor.Singleton(store)), prefix);

    /// <summary>Starts one node whose storage <paramref name="storage"/> adds.</summary>
    public static Task<ChatTestServer> StartNodeAsync(MockKafkaCluster kafka, string? redis, Action<IChatKitBuilder> storage, string prefix, Action<KafkaTransportOptions>? configure = null) =>
        ChatTestServer.StartAsync(chatKit: kit =>
        {
            storage(kit);
            if (redis is not null)
            {
                kit.AddRedisBackplane(options =>
                {
                    options.ConnectionString = redis;
                    options.ChannelPrefix = prefix;
                });
            }

            kit.AddKafkaTransport(options =>
            {
                options.BootstrapServers = kafka.BootstrapServers;
                options.IncomingTopic = $"{prefix}.incoming";
                options.MessagesTopic = $"{prefix}.messages";
                options.GroupPrefix = prefix;
                options.Partitions = Partitions;
                options.ReplicationFactor = 3;
                options.StoreRetryDelay = TimeSpan.FromMilliseconds(200);

                // librdkafka's mock coordinator sometimes holds a joining member until the rebalance times out: keep that short.
                options.Settings["max.poll.interval.ms"] = "10000";
                options.Settings["session.timeout.ms"] = "6000";
                configure?.Invoke(options);
            });
        });

    /// <summary>Makes a set's topics on the mock cluster, as an operator would before starting ChatKit.</summary>
    public static string CreateTopics(MockKafkaCluster kafka, int partitions = Partitions)
    {
        var prefix = "k" + Guid.NewGuid().ToString("N")[..12];
        kafka.CreateTopic($"{prefix}.incoming", partitions, replicationFactor: 3);
        kafka.CreateTopic($"{prefix}.messages", partitions, replicationFactor: 3);
        return prefix;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}
