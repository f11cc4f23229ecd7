using System.Diagnostics;
using ChatKit.Engine;
using ChatKit.Model;
using ChatKit.Storage;
using ChatKit.Storage.EfCore.Options;
using ChatKit.Storage.EfCore.Tests;
using ChatKit.Transport.Kafka;
using ChatKit.Transport.Kafka.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ChatKit.Benchmarks;

internal sealed record KafkaResult(string Store, int Senders, double CapacityPerSecond, double OfferedPerSecond, double AchievedPerSecond, double P50Ms, double P99Ms, double CommittedP50Ms, double CommittedP99Ms, int Samples);

/// <summary>
/// The Kafka message log on librdkafka's mock cluster (3 brokers, acks=all): acknowledged sends per second through
/// the engine, the log's writer and the store in a closed loop, then the latency of sends paced at fractions of that.
/// </summary>
internal static class KafkaBenchmark
{
    private const int Partitions = 12;
    private const int Rooms = 64;
    private const string Body = "a message of a typical length, about sixty bytes long";

    // Each PostgreSQL phase starts on a database with history in other rooms, analyzed: a new, empty one fills faster
    // than autovacuum takes its statistics, and plans made from a nearly empty table's are not what a running
    // database gets.
    private const int HistoryPerRoom = 100;
    private static readonly IReadOnlyList<string> HistoryRooms = [.. Enumerable.Range(0, 1000).Select(r => $"history-{r}")];

    /// <summary>The untimed closed-loop round before the capacity: the writers' group join, tiered compilation, caches.</summary>
    public static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(8);

    public static async Task<IReadOnlyList<KafkaResult>> RunAsync(TimeSpan closed, int senders, TimeSpan paced, IReadOnlyList<double> loads, string stores, Action<string> progress)
    {
        var results = new List<KafkaResult>();
        if (stores.Contains("memory", StringComparison.Ordinal))
        {
            progress("Kafka log, in-memory store");
            results.AddRange(await MeasureAsync("in-memory", () => Task.FromResult<IChatStore>(new InMemoryChatStore()), closed, senders, paced, loads, progress));
        }

        if (stores.Contains("postgres", StringComparison.Ordinal))
        {
            progress("Kafka log, PostgreSQL 15 (fsync on)");
            await using var server = await PostgresServer.StartAsync(durable: true);
            results.AddRange(await MeasureAsync("PostgreSQL 15 (fsync on)", async () =>
            {
                var database = await server.CreateDatabaseAsync();
                var store = await StoreFactory.CreateAsync(EfCoreStorageProvider.PostgreSql, database);
                await PostgresHistory.SeedAsync(database, HistoryRooms, HistoryPerRoom);
                return store;
            }, closed, senders, paced, loads, progress));
        }

        return results;
    }

    private static async Task<List<KafkaResult>> MeasureAsync(string name, Func<Task<IChatStore>> newStore, TimeSpan closed, int senders, TimeSpan paced, IReadOnlyList<double> loads, Action<string> progress)
    {
        // The mock cluster finds the record set a fetch asks for by walking the partition's record sets from the first
        // (a FIXME in librdkafka's rdkafka_mock.c; a broker has an offset index), so its cost grows with the log until
        // the mock's cap of 5 MB per partition. Each phase therefore runs on a new cluster, node and store (an in-memory
        // store holding the earlier phases' million messages would make every garbage collection slower); the process
        // keeps what the warm-up compiled.
        progress($"  warm-up for {WarmUp.TotalSeconds:N0} s (tiered compilation), then {closed.TotalSeconds:N0} s of {senders} senders sending one after another, on new clusters");
        await using (var node = await KafkaNode.StartAsync(await newStore(), senders))
        {
            await SendForAsync(node, senders, WarmUp, "warm", _ => { });
        }

        double capacity;
        await using (var node = await KafkaNode.StartAsync(await newStore(), senders))
        {
            capacity = await SendForAsync(node, senders, closed, "m", progress);
        }

        var results = new List<KafkaResult>();
        foreach (var load in loads)
        {
            var offered = capacity * load;
            progress($"  {offered:N0} sends/s ({load:P0} of the capacity) paced for {paced.TotalSeconds:N0} s, on a new cluster");
            await using var node = await KafkaNode.StartAsync(await newStore(), senders);
            var commits = new CommitTimes(node.Rooms);
            node.Writer.Committed = commits.Record;
            var paused = GC.GetTotalPauseDuration();
            var collections = GC.CollectionCount(0);
            var allocated = GC.GetTotalAllocatedBytes();
            var (achieved, sends) = await PacedAsync(node, senders, offered, paced);
            await commits.WaitForAsync(sends, TimeSpan.FromSeconds(30));
            node.Writer.Committed = null;
            progress($"    {GC.CollectionCount(0) - collections} garbage collections, {(GC.GetTotalPauseDuration() - paused).TotalMilliseconds:N0} ms paused, {(GC.GetTotalAllocatedBytes() - allocated) / sends.Length:N0} bytes allocated in the process per send");

            var acknowledged = sends.Select(s => Stopwatch.GetElapsedTime(s.Due, s.Acknowledged).TotalMilliseconds).Order().ToList();
            var durable = sends.Select(s => Stopwatch.GetElapsedTime(s.Due, Math.Max(s.Acknowledged, commits.At(s.Room, s.Seq))).TotalMilliseconds).Order().ToList();
            results.Add(new KafkaResult(name, senders, capacity, offered, achieved, Percentile(acknowledged, 0.5), Percentile(acknowledged, 0.99), Percentile(durable, 0.5), Percentile(durable, 0.99), sends.Length));
        }

        return results;
    }

    /// <summary>
    /// Closed loop: every sender sends its next message when the last one was acknowledged, until <paramref name="duration"/>
    /// is over. Returns the acknowledged sends per second, from the first send to the last acknowledgement; each second's
    /// rate goes to <paramref name="progress"/>, so a run that has not settled shows it.
    /// </summary>
    private static async Task<double> SendForAsync(KafkaNode node, int senders, TimeSpan duration, string prefix, Action<string> progress)
    {
        var acknowledged = 0L;
        var started = Stopwatch.GetTimestamp();
        var stop = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var all = Task.WhenAll(Enumerable.Range(0, senders).Select(async s =>
        {
            for (var n = 0; Stopwatch.GetTimestamp() < stop; n++)
            {
                await node.Engine.SendAsync(node.Users[s], node.Rooms[s % Rooms], $"{prefix}{s}-{n}", Body, CancellationToken.None);
                Interlocked.Increment(ref acknowledged);
            }
        }));

        var second = 0;
        var before = 0L;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await Task.WhenAny(all, timer.WaitForNextTickAsync().AsTask()) != all)
        {
            var now = Interlocked.Read(ref acknowledged);
            progress($"    second {++second}: {now - before:N0} sends acknowledged");
            before = now;
        }

        await all;
        return acknowledged / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>
    /// Open loop: send n is due at n / rate seconds, whatever earlier sends are doing, and is timed from when it was due
    /// to its acknowledgement (the moment the engine publishes it to the room's connections). Only an array of values
    /// outlives a send: keeping each send's task would keep hundreds of thousands of objects alive, and collecting them
    /// would put the benchmark's own garbage collections into ChatKit's latency.
    /// </summary>
    private static async Task<(double Achieved, PacedSend[] Sends)> PacedAsync(KafkaNode node, int senders, double rate, TimeSpan duration)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var sends = new PacedSend[total];
        var remaining = total;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = Stopwatch.GetTimestamp();
        for (var n = 0; n < total; n++)
        {
            var due = started + (long)(n / rate * Stopwatch.Frequency);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait);
            }

            _ = SendAsync(n, due);
        }

        await done.Task;
        return (total / Stopwatch.GetElapsedTime(started).TotalSeconds, sends);

        async Task SendAsync(int n, long due)
        {
            await Task.Yield();
            try
            {
                var s = n % senders;
                var result = await node.Engine.SendAsync(node.Users[s], node.Rooms[s % Rooms], $"p{n}", Body, CancellationToken.None);
                sends[n] = new PacedSend(s % Rooms, result.Seq, due, Stopwatch.GetTimestamp());
                if (Interlocked.Decrement(ref remaining) == 0)
                {
                    done.SetResult();
                }
            }
            catch (Exception ex)
            {
                done.TrySetException(ex);
            }
        }
    }

    private readonly record struct PacedSend(int Room, long Seq, long Due, long Acknowledged);

    /// <summary>When the writer committed each room's sequences (it calls <see cref="Record"/> on its own thread).</summary>
    private sealed class CommitTimes(List<string> rooms)
    {
        private readonly Dictionary<string, List<long>> _byRoom = rooms.ToDictionary(r => r, _ => new List<long>(), StringComparer.Ordinal);

        public void Record(IReadOnlyList<ChatMessage> messages)
        {
            var now = Stopwatch.GetTimestamp();
            lock (_byRoom)
            {
                foreach (var message in messages)
                {
                    var times = _byRoom[message.RoomId];
                    while (times.Count <= message.Sequence)
                    {
                        times.Add(0);
                    }

                    if (times[(int)message.Sequence] == 0)
                    {
                        times[(int)message.Sequence] = now;
                    }
                }

                Monitor.PulseAll(_byRoom);
            }
        }

        /// <summary>
        /// Waits until every send's batch has committed: on the mock the last sends can be acknowledged before their
        /// batch's commit.
        /// </summary>
        public Task WaitForAsync(PacedSend[] sends, TimeSpan timeout) => Task.Run(() =>
        {
            var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            lock (_byRoom)
            {
                foreach (var send in sends)
                {
                    while (!Has(send.Room, send.Seq))
                    {
                        var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                        if (left <= TimeSpan.Zero)
                        {
                            throw new InvalidOperationException($"Room {rooms[send.Room]} sequence {send.Seq} was acknowledged but no writer committed it within {timeout.TotalSeconds:N0} s.");
                        }

                        Monitor.Wait(_byRoom, left);
                    }
                }
            }
        });

        public long At(int room, long seq)
        {
            lock (_byRoom)
            {
                return _byRoom[rooms[room]][(int)seq];
            }
        }

        private bool Has(int room, long seq)
        {
            var times = _byRoom[rooms[room]];
            return seq < times.Count && times[(int)seq] != 0;
        }
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * p))];

    /// <summary>
    /// A mock cluster of 3 brokers with the two topics, and one ChatKit node on it with 64 rooms, ready: every sender has
    /// had one send acknowledged, so the writers' group has joined and taken every partition.
    /// </summary>
    private sealed class KafkaNode : IAsyncDisposable
    {
        private readonly MockKafkaCluster _kafka;
        private readonly ServiceProvider _provider;
        private readonly List<IHostedService> _hosted;

        private KafkaNode(MockKafkaCluster kafka, ServiceProvider provider, List<IHostedService> hosted, int senders)
        {
            Users = Enumerable.Range(0, senders).Select(s => new ChatUser($"u{s}", $"User {s}")).ToArray();
            _kafka = kafka;
            _provider = provider;
            _hosted = hosted;
            Engine = provider.GetRequiredService<ChatEngine>();
            Writer = provider.GetRequiredService<PartitionWriter>();
        }

        public ChatEngine Engine { get; }

        public PartitionWriter Writer { get; }

        public List<string> Rooms { get; } = [];

        /// <summary>Sender s is user <c>u{s}</c>, a member of room s mod 64.</summary>
        public ChatUser[] Users { get; }

        public static async Task<KafkaNode> StartAsync(IChatStore store, int senders)
        {
            var kafka = MockKafkaCluster.Start(brokers: 3);
            var prefix = "bench" + Guid.NewGuid().ToString("N")[..8];
            kafka.CreateTopic($"{prefix}.incoming", Partitions, replicationFactor: 3);
            kafka.CreateTopic($"{prefix}.messages", Partitions, replicationFactor: 3);
            var services = new ServiceCollection();
            services.AddLogging(logging => logging.AddSimpleConsole().AddFilter("ChatKit", LogLevel.Warning).SetMinimumLevel(LogLevel.Warning));
            services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
            services.AddSingleton(store);
            services.AddChatKitCore(o => o.MaxOutboundBufferBytes = 64 * 1024 * 1024).AddKafkaTransport(o =>
            {
                o.BootstrapServers = kafka.BootstrapServers;
                o.IncomingTopic = $"{prefix}.incoming";
                o.MessagesTopic = $"{prefix}.messages";
                o.GroupPrefix = prefix;
                o.Partitions = Partitions;
                MockKafkaCluster.ApplyMeasurementSettings(o);
            });
            var provider = services.BuildServiceProvider();
            var node = new KafkaNode(kafka, provider, provider.GetServices<IHostedService>().ToList(), senders);
            foreach (var service in node._hosted)
            {
                await service.StartAsync(CancellationToken.None);
            }

            for (var r = 0; r < KafkaBenchmark.Rooms; r++)
            {
                var members = Enumerable.Range(0, senders).Where(s => s % KafkaBenchmark.Rooms == r).Select(s => $"u{s}").ToList();
                node.Rooms.Add((await node.Engine.CreateRoomAsync(new ChatUser("owner", "Owner"), $"room {r}", null, members, encrypted: false, CancellationToken.None)).Id);
            }

            await Task.WhenAll(Enumerable.Range(0, senders).Select(s =>
                node.Engine.SendAsync(node.Users[s], node.Rooms[s % KafkaBenchmark.Rooms], $"ready{s}", "ready", CancellationToken.None)));
            return node;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var service in _hosted)
            {
                await service.StopAsync(CancellationToken.None);
            }

            await _provider.DisposeAsync();
            _kafka.Dispose();
        }
    }
}
