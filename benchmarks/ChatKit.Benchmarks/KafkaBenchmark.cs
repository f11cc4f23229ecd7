using System.Diagnostics;
using ChatKit.Engine;
using ChatKit.Model;
using ChatKit.Storage;
using ChatKit.Storage.EfCore.Options;
using ChatKit.Storage.EfCore.Tests;
using ChatKit.Transport.Kafka.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ChatKit.Benchmarks;

internal sealed record KafkaResult(string Store, int Senders, double CapacityPerSecond, double OfferedPerSecond, double AchievedPerSecond, double P50Ms, double P99Ms, int Samples);

/// <summary>
/// The Kafka message log on librdkafka's mock cluster (3 brokers, acks=all): acknowledged sends per second through
/// the engine, the log's writer and the store, then the latency of sends paced at half that rate.
/// </summary>
internal static class KafkaBenchmark
{
    private const int Partitions = 12;
    private const int Rooms = 64;

    public static async Task<IReadOnlyList<KafkaResult>> RunAsync(int sends, int senders, TimeSpan paced, string stores, Action<string> progress)
    {
        var results = new List<KafkaResult>();
        if (stores.Contains("memory", StringComparison.Ordinal))
        {
            progress("Kafka log, in-memory store");
            results.Add(await MeasureAsync("in-memory", new InMemoryChatStore(), sends, senders, paced, progress));
        }

        if (stores.Contains("postgres", StringComparison.Ordinal))
        {
            progress("Kafka log, PostgreSQL 15 (fsync on)");
            await using var server = await PostgresServer.StartAsync(durable: true);
            var store = await StoreFactory.CreateAsync(EfCoreStorageProvider.PostgreSql, await server.CreateDatabaseAsync());
            results.Add(await MeasureAsync("PostgreSQL 15 (fsync on)", store, sends, senders, paced, progress));
        }

        return results;
    }

    private static async Task<KafkaResult> MeasureAsync(string name, IChatStore store, int sends, int senders, TimeSpan paced, Action<string> progress)
    {
        using var kafka = MockKafkaCluster.Start(brokers: 3);
        var prefix = "bench" + Guid.NewGuid().ToString("N")[..8];
        kafka.CreateTopic($"{prefix}.incoming", Partitions, replicationFactor: 3);
        kafka.CreateTopic($"{prefix}.messages", Partitions, replicationFactor: 3);
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddSimpleConsole().AddFilter("ChatKit", LogLevel.Information).SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddSingleton(store);
        services.AddChatKitCore(o => o.MaxOutboundBufferBytes = 64 * 1024 * 1024).AddKafkaTransport(o =>
        {
            o.BootstrapServers = kafka.BootstrapServers;
            o.IncomingTopic = $"{prefix}.incoming";
            o.MessagesTopic = $"{prefix}.messages";
            o.GroupPrefix = prefix;
            o.Partitions = Partitions;
            foreach (var (key, value) in MockKafkaCluster.MeasurementSettings)
            {
                o.Settings[key] = value;
            }
        });
        await using var provider = services.BuildServiceProvider();
        var hosted = provider.GetServices<IHostedService>().ToList();
        foreach (var service in hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }

        try
        {
            var engine = provider.GetRequiredService<ChatEngine>();
            var rooms = new List<string>();
            for (var r = 0; r < Rooms; r++)
            {
                var members = Enumerable.Range(0, senders).Where(s => s % Rooms == r).Select(s => $"u{s}").ToList();
                rooms.Add((await engine.CreateRoomAsync(new ChatUser("owner", "Owner"), $"room {r}", null, members, encrypted: false, CancellationToken.None)).Id);
            }

            // The first round (untimed) waits out the writers' group join, compiles the hot paths and fills the caches.
            progress($"  warm-up, then {sends:N0} sends from {senders} senders");
            await SendAllAsync(engine, rooms, senders, Math.Min(sends, 5_000), "warm");
            var started = Stopwatch.GetTimestamp();
            await SendAllAsync(engine, rooms, senders, sends, "m");
            var capacity = sends / Stopwatch.GetElapsedTime(started).TotalSeconds;

            var offered = capacity / 2;
            progress($"  {offered:N0} sends/s paced for {paced.TotalSeconds:N0} s");
            var (achieved, latencies) = await PacedAsync(engine, rooms, senders, offered, paced);
            latencies.Sort();
            return new KafkaResult(name, senders, capacity, offered, achieved, Percentile(latencies, 0.5), Percentile(latencies, 0.99), latencies.Count);
        }
        finally
        {
            foreach (var service in hosted)
            {
                await service.StopAsync(CancellationToken.None);
            }
        }
    }

    private static Task SendAllAsync(ChatEngine engine, List<string> rooms, int senders, int sends, string prefix) =>
        Task.WhenAll(Enumerable.Range(0, senders).Select(async s =>
        {
            var user = new ChatUser($"u{s}", $"User {s}");
            for (var i = s; i < sends; i += senders)
            {
                await engine.SendAsync(user, rooms[s % Rooms], $"{prefix}{i}", "a message of a typical length, about sixty bytes long", CancellationToken.None);
            }
        }));

    /// <summary>
    /// Open loop: send n is due at n / rate seconds, whatever earlier sends are doing, and is timed from when it was due
    /// to its acknowledgement (the moment the engine publishes it to the room's connections).
    /// </summary>
    private static async Task<(double Achieved, List<double> Latencies)> PacedAsync(ChatEngine engine, List<string> rooms, int senders, double rate, TimeSpan duration)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var latencies = new List<double>(total);
        var inFlight = new List<Task>(total);
        var started = Stopwatch.GetTimestamp();
        for (var n = 0; n < total; n++)
        {
            var due = started + (long)(n / rate * Stopwatch.Frequency);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait);
            }

            var s = n % senders;
            var index = n;
            inFlight.Add(Task.Run(async () =>
            {
                await engine.SendAsync(new ChatUser($"u{s}", $"User {s}"), rooms[s % Rooms], $"p{index}", "a message of a typical length, about sixty bytes long", CancellationToken.None);
                var latency = Stopwatch.GetElapsedTime(due).TotalMilliseconds;
                lock (latencies)
                {
                    latencies.Add(latency);
                }
            }));
        }

        await Task.WhenAll(inFlight);
        return (total / Stopwatch.GetElapsedTime(started).TotalSeconds, latencies);
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * p))];
}
