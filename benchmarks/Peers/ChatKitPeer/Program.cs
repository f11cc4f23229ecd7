using ChatKit.Peers;
using System.Globalization;
using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Storage;
using ChatKit.Storage.EfCore.Options;
using ChatKit.Transport.Kafka.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection.Extensions;

// ChatKit as a peer of the side-by-side benchmark (benchmarks/ChatKit.LoadGen). The contract every peer keeps:
// listen on 127.0.0.1:PORT, print "READY PORT" once connections are accepted, log only warnings and errors, run
// until SIGTERM.
//
//   ChatKit.Peers.ChatKit --port P                                  one node, in-memory store
//   ChatKit.Peers.ChatKit --port P --redis 127.0.0.1:R --postgres CS  one of several nodes: Redis backplane and a
//                                                                   shared PostgreSQL store (rooms and sequences
//                                                                   must be the same on every node)
//   ChatKit.Peers.ChatKit --port P1,P2 --redis 127.0.0.1:R          two nodes in this process on the Redis backplane,
//                                                                   sharing one in-memory store (delivery and the
//                                                                   backplane measured without a database); READY P1
//                                                                   once both accept connections
//   ChatKit.Peers.ChatKit --port P --durable --postgres CS          the durable path: Kafka message log on
//                                                                   librdkafka's mock cluster (started in this
//                                                                   process) in front of the PostgreSQL store
const string Usage = "usage: ChatKit.Peers.ChatKit --port P[,P2...] [--redis HOST:PORT [--postgres CONNECTION]] [--durable --postgres CONNECTION]";
var ports = (Option("--port") ?? "").Split(',').Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : 0).ToList();
var redis = Option("--redis");
var postgres = Option("--postgres");
var durable = args.Contains("--durable", StringComparer.Ordinal);
if (ports.Any(p => p <= 0) || (durable && (postgres is null || ports.Count > 1)) || (redis is not null && postgres is null && ports.Count == 1) || (ports.Count > 1 && redis is null))
{
    // Nodes on Redis need one store between them: room ids and sequences are made by the store. Nodes in separate
    // processes share PostgreSQL; nodes in this process share one in-memory store.
    Console.Error.WriteLine(Usage);
    return 2;
}

using var kafka = durable ? MockKafkaCluster.Start(brokers: 3) : null;
var store = postgres is null ? new InMemoryChatStore() : null;
var apps = new List<WebApplication>();
foreach (var port in ports)
{
    apps.Add(Build(port));
}

try
{
    return await PeerHost.RunAsync(apps, ports);
}
finally
{
    foreach (var app in apps)
    {
        await app.DisposeAsync();
    }
}

WebApplication Build(int port)
{
    var builder = WebApplication.CreateSlimBuilder();
    // The direct listener: ChatKit's WebSockets run on Kestrel's connections without an HTTP request each.
    PeerHost.Configure(builder, port, listen => listen.UseChatKit());
    builder.Services.AddAuthentication(TestAuthHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, TestAuthHandler>(TestAuthHandler.SchemeName, null);
    var chatKit = builder.Services.AddChatKit(options =>
    {
        // The load generator paces its own sends; ChatKit's per-connection limit (50 frames/s, bursts of 100) would
        // refuse the senders of the big scenarios, which send several hundred frames per second each.
        options.RatePerSecond = 1_000_000;
        options.RateBurst = 1_000_000;
    });
    if (postgres is not null)
    {
        chatKit.AddEfCoreStorage(options =>
        {
            options.Provider = EfCoreStorageProvider.PostgreSql;
            options.ConnectionString = postgres;
            options.ApplyMigrationsAtStart = true;
        });
    }
    else
    {
        chatKit.Services.Replace(ServiceDescriptor.Singleton<IChatStore>(store!));
    }

    if (redis is not null)
    {
        chatKit.AddRedisBackplane(redis);
    }

    if (kafka is not null)
    {
        // Topics through the mock's own API (the 2.0.2 mock answers no CreateTopics), as the Kafka benchmark makes them.
        var prefix = "peer" + Guid.NewGuid().ToString("N")[..8];
        kafka.CreateTopic($"{prefix}.incoming", 12, replicationFactor: 3);
        kafka.CreateTopic($"{prefix}.messages", 12, replicationFactor: 3);
        chatKit.AddKafkaTransport(options =>
        {
            options.BootstrapServers = kafka.BootstrapServers;
            options.IncomingTopic = $"{prefix}.incoming";
            options.MessagesTopic = $"{prefix}.messages";
            options.GroupPrefix = prefix;
            options.Partitions = 12;
            MockKafkaCluster.ApplyMeasurementSettings(options);
        });
    }

    var app = builder.Build();
    app.UseWebSockets();
    app.UseAuthentication();
    app.MapChatKit("/chat");
    return app;
}

string? Option(string name) => args.SkipWhile(a => !string.Equals(a, name, StringComparison.Ordinal)).Skip(1).FirstOrDefault();
