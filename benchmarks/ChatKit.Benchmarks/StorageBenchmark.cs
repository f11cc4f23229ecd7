using System.Diagnostics;
using ChatKit.Engine;
using ChatKit.Model;
using ChatKit.Storage;
using ChatKit.Storage.EfCore.Options;
using ChatKit.Storage.EfCore.Tests;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ChatKit.Benchmarks;

/// <summary>
/// Storage through the engine: acknowledged sends per second with concurrent senders, and the latency of a
/// 50-message history page in a room of a million messages, for each store.
/// </summary>
internal static class StorageBenchmark
{
    public static async Task<IReadOnlyList<StorageResult>> RunAsync(int sends, IReadOnlyList<int> senderCounts, int historyRoomSize, string stores, Action<string> progress)
    {
        var results = new List<StorageResult>();
        if (stores.Contains("memory", StringComparison.Ordinal))
        {
            progress("in-memory store");
            results.Add(await MeasureAsync("in-memory", new InMemoryChatStore(), sends, senderCounts, historyRoomSize: 0, seed: null, progress));
        }

        if (stores.Contains("sqlite", StringComparison.Ordinal))
        {
            results.Add(await MeasureSqliteAsync(sends, senderCounts, historyRoomSize, progress));
        }

        if (stores.Contains("postgres", StringComparison.Ordinal))
        {
            progress("PostgreSQL 15 (fsync on)");
            await using var server = await PostgresServer.StartAsync(durable: true);
            var database = await server.CreateDatabaseAsync();
            var postgres = await StoreFactory.CreateAsync(EfCoreStorageProvider.PostgreSql, database);
            results.Add(await MeasureAsync("PostgreSQL 15 (fsync on)", postgres, sends, senderCounts, historyRoomSize, room => PostgresHistory.SeedAsync(database, [room], historyRoomSize), progress));
        }

        return results;
    }

    private static async Task<StorageResult> MeasureSqliteAsync(int sends, IReadOnlyList<int> senderCounts, int historyRoomSize, Action<string> progress)
    {
        var sqliteFile = Path.Combine(Path.GetTempPath(), $"chatkit-bench-{Guid.NewGuid():N}.db");
        try
        {
            progress("SQLite (file, WAL)");
            var sqlite = await StoreFactory.CreateAsync(EfCoreStorageProvider.Sqlite, $"Data Source={sqliteFile}");
            return await MeasureAsync("SQLite (file, WAL)", sqlite, sends, senderCounts, historyRoomSize, room => SeedSqliteAsync(sqliteFile, room, historyRoomSize), progress);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(sqliteFile);
        }
    }

    private static async Task<StorageResult> MeasureAsync(string name, IChatStore store, int sends, IReadOnlyList<int> senderCounts, int historyRoomSize, Func<string, Task>? seed, Action<string> progress)
    {
        var engine = NewEngine(store);
        var rates = new List<double>();
        foreach (var senders in senderCounts)
        {
            progress($"  {sends:N0} sends from {senders} senders");
            rates.Add(await MeasureSendsAsync(engine, sends, senders));
        }

        if (seed is null || historyRoomSize <= 0)
        {
            return new StorageResult(name, sends, rates, null, null, null, null);
        }

        progress($"  history of a {historyRoomSize:N0}-message room");
        var owner = new ChatUser("owner", "Owner");
        var big = (await engine.CreateRoomAsync(owner, "big", null, null, encrypted: false, CancellationToken.None)).Id;
        await seed(big);
        var random = new Random(42);

        // The first pass finds the room's pages on disk; the second, at other positions, finds them in memory, as a
        // database that has been serving the room would.
        var cold = await MeasurePagesAsync(engine, owner, big, historyRoomSize, random);
        var warm = await MeasurePagesAsync(engine, owner, big, historyRoomSize, random);
        return new StorageResult(name, sends, rates, historyRoomSize, Percentile(cold, 0.99), Percentile(warm, 0.5), Percentile(warm, 0.99));
    }

    /// <summary>Acknowledged sends per second: each sender sends its share one after another, in rooms it is a member of.</summary>
    private static async Task<double> MeasureSendsAsync(ChatEngine engine, int sends, int senders)
    {
        const int Rooms = 32;
        var rooms = new List<string>();
        for (var r = 0; r < Rooms; r++)
        {
            // Sender s sends to rooms (s + k * senders) % Rooms; those are the rooms it is a member of.
            var members = Enumerable.Range(0, senders).Where(s => Enumerable.Range(0, Rooms).Any(k => (s + (k * senders)) % Rooms == r)).Select(s => $"u{s}").ToList();
            rooms.Add((await engine.CreateRoomAsync(new ChatUser("owner", "Owner"), $"room {r}", null, members, encrypted: false, CancellationToken.None)).Id);
        }

        // A first round, not timed, compiles the hot paths and fills pools and caches.
        await SendAllAsync(engine, rooms, senders, Math.Min(sends, 20_000), "warm");
        var started = Stopwatch.GetTimestamp();
        await SendAllAsync(engine, rooms, senders, sends, "m");
        return sends / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static async Task<List<double>> MeasurePagesAsync(ChatEngine engine, ChatUser owner, string room, int roomSize, Random random)
    {
        var samples = new List<double>();
        for (var i = 0; i < 2_000; i++)
        {
            var before = random.NextInt64(51, roomSize + 1);
            var t = Stopwatch.GetTimestamp();
            var page = await engine.GetHistoryAsync(owner, room, before, null, 50, CancellationToken.None);
            samples.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            if (page.Messages.Count != 50)
            {
                throw new InvalidOperationException($"A history page held {page.Messages.Count} messages, not 50.");
            }
        }

        samples.Sort();
        return samples;
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * p))];

    private static Task SendAllAsync(ChatEngine engine, List<string> rooms, int senders, int sends, string prefix) =>
        Task.WhenAll(Enumerable.Range(0, senders).Select(async s =>
        {
            var user = new ChatUser($"u{s}", $"User {s}");
            for (var i = s; i < sends; i += senders)
            {
                await engine.SendAsync(user, rooms[i % rooms.Count], $"{prefix}{i}", "a message of a typical length, about sixty bytes long", CancellationToken.None);
            }
        }));

    private static ChatEngine NewEngine(IChatStore store)
    {
        var services = new ServiceCollection();
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddSingleton(store);
        services.AddChatKitCore(o => o.MaxOutboundBufferBytes = 64 * 1024 * 1024);
        return services.BuildServiceProvider().GetRequiredService<ChatEngine>();
    }

    /// <summary>Writes a room's history straight into the tables (setting up a million messages through sends would take too long).</summary>
    private static async Task SeedSqliteAsync(string file, string room, int count)
    {
        await using var connection = new SqliteConnection($"Data Source={file}");
        await connection.OpenAsync();
        await using var transaction = connection.BeginTransaction();
        await using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO chatkit_messages (room_id, sequence, client_message_id, sender_id, body, sent_at_ms) VALUES ($room, $seq, $cmid, 'owner', 'a message of a typical length, about sixty bytes long', 0)";
        var roomParameter = insert.Parameters.Add("$room", SqliteType.Text);
        var seqParameter = insert.Parameters.Add("$seq", SqliteType.Integer);
        var cmidParameter = insert.Parameters.Add("$cmid", SqliteType.Text);
        roomParameter.Value = room;
        for (var seq = 1; seq <= count; seq++)
        {
            seqParameter.Value = seq;
            cmidParameter.Value = $"seed{seq}";
            await insert.ExecuteNonQueryAsync();
        }

        await using var counter = connection.CreateCommand();
        counter.CommandText = "UPDATE chatkit_rooms SET last_sequence = $count WHERE id = $room";
        counter.Parameters.AddWithValue("$count", count);
        counter.Parameters.AddWithValue("$room", room);
        await counter.ExecuteNonQueryAsync();
        await transaction.CommitAsync();
    }
}
