using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Backplane.Redis.Options;
using ChatKit.Engine;
using ChatKit.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ChatKit.Backplane.Redis.Tests.Infrastructure;

/// <summary>
/// Several ChatKit nodes (real Kestrel servers on loopback) that share one store and one redis-server, as nodes
/// behind a load balancer share one database and one Redis.
/// </summary>
internal sealed class RedisCluster : IAsyncDisposable
{
    private readonly List<ChatTestServer> _nodes = [];

    private RedisCluster()
    {
    }

    public IReadOnlyList<ChatTestServer> Nodes => _nodes;

    /// <summary>The channel and key prefix the nodes share (<c>ChatKit:Redis:ChannelPrefix</c>).</summary>
    public string Prefix { get; private init; } = "";

    public ChatTestServer this[int index] => _nodes[index];

    public static async Task<RedisCluster> StartAsync(string redisConnectionString, int nodes, Action<RedisBackplaneOptions>? configure = null, Action<ChatKitOptions>? chatKit = null, IChatStore? store = null)
    {
        var prefix = "c" + Guid.NewGuid().ToString("N")[..12];
        var cluster = new RedisCluster { Prefix = prefix };
        store ??= new InMemoryChatStore();
        for (var i = 0; i < nodes; i++)
        {
            cluster._nodes.Add(await ChatTestServer.StartAsync(chatKit, kit =>
            {
                kit.Services.Replace(ServiceDescriptor.Singleton<IChatStore>(store));
                kit.AddRedisBackplane(options =>
                {
                    options.ConnectionString = redisConnectionString;
                    options.ChannelPrefix = prefix;
                    configure?.Invoke(options);
                });
            }));
        }

        return cluster;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}
