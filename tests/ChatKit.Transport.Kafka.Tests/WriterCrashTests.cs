using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Backplane.Redis.Tests.Infrastructure;
using ChatKit.Protocol;
using ChatKit.Storage.EfCore.Tests;
using ChatKit.Transport.Kafka.Tests.Infrastructure;
using Confluent.Kafka;
using Npgsql;

namespace ChatKit.Transport.Kafka.Tests;

/// <summary>Two node processes on PostgreSQL, Redis and the mock Kafka cluster; the one that writes half the partitions is killed.</summary>
public sealed partial class WriterCrashTests
{
    private static readonly string[] Users = ["alice", "bob", "carol", "dave"];
    private const int Rooms = 16;
    private const int RoundsPerUser = 2;

    [Fact(Timeout = 240_000)]
    public async Task The_node_writing_a_partition_is_killed_and_the_other_continues_its_rooms_without_a_gap_or_a_repeat()
    {
        using var kafka = MockKafkaCluster.Start(brokers: 3);
        await using var postgres = await PostgresServer.StartAsync();
        await using var redis = await RedisServer.StartAsync();
        var prefix = KafkaNodes.CreateTopics(kafka);
        var database = await postgres.CreateDatabaseAsync();
        string[] settings =
        [
            "ChatKit:Storage:Provider=PostgreSql",
            $"ChatKit:Storage:ConnectionString={database}",
            "ChatKit:Storage:ApplyMigrationsAtStart=true",
            $"ChatKit:Redis:ConnectionString={redis.ConnectionString}",
            $"ChatKit:Redis:ChannelPrefix={prefix}",
            $"ChatKit:Kafka:BootstrapServers={kafka.BootstrapServers}",
            $"ChatKit:Kafka:IncomingTopic={prefix}.incoming",
            $"ChatKit:Kafka:MessagesTopic={prefix}.messages",
            $"ChatKit:Kafka:GroupPrefix={prefix}",
            $"ChatKit:Kafka:Partitions={KafkaNodes.Partitions}",
            "ChatKit:Kafka:SendTimeout=00:00:05",
            "ChatKit:Kafka:Settings:session.timeout.ms=6000",
            "ChatKit:Kafka:Settings:max.poll.interval.ms=10000",
        ];

        // The doomed node starts first (and makes the schema); each node then writes half the partitions.
        await using var doomed = await StartNodeAsync(settings);
        await using var survivor = await StartNodeAsync(settings);
        var doomedId = NodeId().Match(doomed.Output).Groups["id"].Value;
        var clients = new List<RawChatClient>();
        try
        {
            foreach (var user in Users)
            {
                clients.Add(await RawChatClient.ConnectAsync(survivor.WebSocketUri, user));
            }

            var rooms = new List<string>();
            for (var r = 0; r < Rooms; r++)
            {
                rooms.Add((await clients[0].RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = $"room {r}", Members = [.. Users[1..]] })).Info!.Id);
            }

            foreach (var client in clients.Skip(1))
            {
                await client.WaitForEventAsync(_ => client.Events.Count(e => e.Type == FrameTypes.RoomAdded) == Rooms);
            }

            // Every user sends to every room in turn; the doomed node is killed once a third of the sends are acknowledged.
            const int Total = 4 * Rooms * RoundsPerUser;
            var acknowledged = new ConcurrentBag<ServerFrame>();
            var third = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var sending = clients.Select((client, index) => Task.Run(async () =>
            {
                for (var round = 0; round < RoundsPerUser; round++)
                {
                    foreach (var room in rooms)
                    {
                        acknowledged.Add(await Sends.UntilAcknowledgedAsync(client, room, $"{Users[index]} {round} in {room}", $"{Users[index]}-{round}-{room}"));
                        if (acknowledged.Count >= Total / 3)
                        {
                            third.TrySetResult();
                        }
                    }
                }
            })).ToList();
            await third.Task.WaitAsync(TimeSpan.FromSeconds(90));
            await doomed.KillAsync();
            await Task.WhenAll(sending).WaitAsync(TimeSpan.FromSeconds(180));

            // Each room: sequences 1..n acknowledged once each, stored once each, and seen by alice in that order.
            await using var data = NpgsqlDataSource.Create(database);
            foreach (var room in rooms)
            {
                var acks = acknowledged.Where(a => a.Room == room).ToList();
                Assert.Equal(Enumerable.Range(1, Users.Length * RoundsPerUser).Select(i => (long)i), acks.Select(a => a.Seq!.Value).Order());
                var stored = await StoredAsync(data, room);
                Assert.Equal(acks.OrderBy(a => a.Seq).Select(a => (a.Seq!.Value, a.Cmid!)), stored);
                Assert.Equal(stored.Select(s => s.Sequence), (await clients[0].WaitForMessagesAsync(room, stored.Count)).Select(m => m.Seq!.Value));
            }

            // The kill did hit a writer: the doomed node had numbered messages, and the survivor numbered the rest.
            var writers = ReadWriters(kafka, $"{prefix}.messages");
            Assert.Contains(doomedId, writers);
            Assert.Equal(2, writers.Count);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    private static Task<NodeProcess> StartNodeAsync(string[] settings) =>
        NodeProcess.StartAsync(Path.Combine("tests", "ChatKit.Transport.Kafka.TestNode"), "ChatKit.Transport.Kafka.TestNode", "ChatKit test node: serving", settings);

    private static async Task<List<(long Sequence, string Cmid)>> StoredAsync(NpgsqlDataSource data, string room)
    {
        await using var command = data.CreateCommand("SELECT sequence, client_message_id FROM chatkit_messages WHERE room_id = $1 ORDER BY sequence");
        command.Parameters.AddWithValue(room);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(long, string)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt64(0), reader.GetString(1)));
        }

        return rows;
    }

    /// <summary>The distinct <c>chatkit-writer</c> headers on the messages topic.</summary>
    private static HashSet<string> ReadWriters(MockKafkaCluster kafka, string topic)
    {
        var config = new ConsumerConfig { BootstrapServers = kafka.BootstrapServers, GroupId = "test-" + Guid.NewGuid().ToString("N"), EnablePartitionEof = true, IsolationLevel = IsolationLevel.ReadCommitted };
        using var consumer = new ConsumerBuilder<byte[], byte[]>(config).Build();
        consumer.Assign(Enumerable.Range(0, KafkaNodes.Partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var writers = new HashSet<string>(StringComparer.Ordinal);
        var ended = 0;
        while (ended < KafkaNodes.Partitions)
        {
            var result = consumer.Consume(TimeSpan.FromSeconds(20)) ?? throw new TimeoutException($"{topic} was not read to its end.");
            if (result.IsPartitionEOF)
            {
                ended++;
            }
            else if (result.Message.Headers.TryGetLastBytes("chatkit-writer", out var writer))
            {
                writers.Add(Encoding.UTF8.GetString(writer));
            }
        }

        return writers;
    }

    [GeneratedRegex(@"Kafka message log at .* node (?<id>\S+)", RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex NodeId();
}
