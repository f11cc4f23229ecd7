using System.Text.Json;
using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Backplane.Redis.Tests.Infrastructure;
using ChatKit.Model;
using ChatKit.Protocol;
using ChatKit.Storage;
using ChatKit.Transport.Kafka.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ChatKit.Transport.Kafka.Tests;

/// <summary>ChatKit nodes with the Kafka message log on librdkafka's mock cluster of three brokers.</summary>
public sealed class KafkaTransportTests
{
    private static readonly string[] Users = ["alice", "bob", "carol", "dave"];

    [Fact(Timeout = 120_000)]
    public async Task Messages_sent_through_two_nodes_reach_every_client_in_one_gap_free_order_and_are_stored_once()
    {
        using var kafka = MockKafkaCluster.Start(brokers: 3);
        await using var redis = await RedisServer.StartAsync();
        var store = new InMemoryChatStore();
        await using var nodes = await KafkaNodes.StartAsync(kafka, redis.ConnectionString, store, nodes: 2);
        var clients = new List<RawChatClient>();
        try
        {
            for (var i = 0; i < Users.Length; i++)
            {
                clients.Add(await RawChatClient.ConnectAsync(nodes[i % 2], Users[i]));
            }

            var room = (await clients[0].RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "logged", Members = [.. Users[1..]] })).Info!.Id;
            foreach (var client in clients.Skip(1))
            {
                await client.WaitForEventAsync(e => e.Type == FrameTypes.RoomAdded && e.Info!.Id == room);
            }

            const int Each = 25;
            var acks = await Task.WhenAll(clients.Select((client, index) => Task.Run(async () =>
            {
                var replies = new List<ServerFrame>();
                for (var i = 0; i < Each; i++)
                {
                    replies.Add(await Sends.UntilAcknowledgedAsync(client, room, $"{Users[index]} {i}", $"{Users[index]}-{i}"));
                }

                return replies;
            })));

            const int Total = Each * 4;
            Assert.Equal(Enumerable.Range(1, Total).Select(i => (long)i), acks.SelectMany(a => a).Select(a => a.Seq!.Value).Order());
            var order = (await clients[0].WaitForMessagesAsync(room, Total)).Select(m => (m.Seq!.Value, m.Body)).ToList();
            Assert.Equal(Enumerable.Range(1, Total).Select(i => (long)i), order.Select(m => m.Value));
            foreach (var client in clients.Skip(1))
            {
                Assert.Equal(order, (await client.WaitForMessagesAsync(room, Total)).Select(m => (m.Seq!.Value, m.Body)));
            }

            // The writers stored each message before its ack: the store has each once, at the sequence clients saw.
            var stored = await store.GetMessagesAsync(room, new MessageRange(0, null, 500), CancellationToken.None);
            Assert.Equal(order, stored.Select(m => (m.Sequence, (string?)m.Body)));
            Assert.Equal(Total, stored.Select(m => m.ClientMessageId).Distinct(StringComparer.Ordinal).Count());
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Kcat_reads_the_messages_topic_as_docs_kafka_records_describes_it()
    {
        using var kafka = MockKafkaCluster.Start(brokers: 3);
        await using var redis = await RedisServer.StartAsync();
        await using var nodes = await KafkaNodes.StartAsync(kafka, redis.ConnectionString, new InMemoryChatStore(), nodes: 1);
        await using var alice = await RawChatClient.ConnectAsync(nodes[0], "alice");
        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "outside", Members = ["bob"] })).Info!.Id;
        var first = await alice.SendAsync(room, "hello <world> \"quoted\" ünïcode", "cmid-1");
        var again = await alice.SendAsync(room, "hello <world> \"quoted\" ünïcode", "cmid-1");
        Assert.True(again.Duplicate);

        // Key | headers | value, one record per line (bodies here have no newline).
        var lines = (await Processes.RunAsync("kcat", "-C", "-b", kafka.BootstrapServers, "-t", nodes.MessagesTopic, "-e", "-q", "-f", "%k|%h|%s\n"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(2, lines.Length);
        var (key, headers, value) = Split(lines[0]);
        Assert.Equal(room, key);
        Assert.Equal("1", headers["chatkit-stored"]);
        Assert.False(string.IsNullOrEmpty(headers["chatkit-writer"]));
        Assert.False(headers.ContainsKey("chatkit-repeat"));
        using (var json = JsonDocument.Parse(value))
        {
            var root = json.RootElement;
            Assert.Equal(["room", "seq", "cmid", "sender", "body", "sentAt"], root.EnumerateObject().Select(p => p.Name));
            Assert.Equal((room, first.Seq!.Value, "cmid-1", "alice", "hello <world> \"quoted\" ünïcode"), (root.GetProperty("room").GetString(), root.GetProperty("seq").GetInt64(), root.GetProperty("cmid").GetString(), root.GetProperty("sender").GetString(), root.GetProperty("body").GetString()));
            Assert.Equal(first.SentAt, root.GetProperty("sentAt").GetDateTimeOffset());
        }

        // The retried send is answered by a repeat of the same message, marked so outside readers can skip it.
        var (_, repeatHeaders, repeatValue) = Split(lines[1]);
        Assert.Equal("1", repeatHeaders["chatkit-repeat"]);
        Assert.Equal(value, repeatValue);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_node_whose_host_stops_it_twice_stops_without_an_error()
    {
        using var kafka = MockKafkaCluster.Start(brokers: 3);
        var node = await KafkaNodes.StartNodeAsync(kafka, redis: null, new InMemoryChatStore(), KafkaNodes.CreateTopics(kafka));
        var transport = node.Services.GetServices<IHostedService>().OfType<KafkaTransportService>().Single();

        // What a host does when the app calls StopAsync after WaitForShutdownAsync has stopped it; then the server's own stop.
        await transport.StopAsync(CancellationToken.None);
        await transport.StopAsync(CancellationToken.None);
        await node.DisposeAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unreachable_kafka_stops_the_start_saying_where_it_looked_and_what_to_check()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ChatTestServer.StartAsync(chatKit: kit => kit.AddKafkaTransport(options =>
        {
            options.BootstrapServers = $"127.0.0.1:{RedisServer.FreePort()}";
            options.ConnectTimeout = TimeSpan.FromSeconds(2);
        })));

        Assert.Contains("Could not reach Kafka at 127.0.0.1:", error.Message, StringComparison.Ordinal);
        Assert.Contains("ChatKit:Kafka:BootstrapServers", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_topic_with_other_partitions_than_configured_stops_the_start_saying_which_and_how_many()
    {
        using var kafka = MockKafkaCluster.Start(brokers: 3);
        var prefix = "k" + Guid.NewGuid().ToString("N")[..12];
        kafka.CreateTopic($"{prefix}.incoming", KafkaNodes.Partitions, replicationFactor: 3);
        kafka.CreateTopic($"{prefix}.messages", partitions: 2, replicationFactor: 3);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => KafkaNodes.StartNodeAsync(kafka, redis: null, new InMemoryChatStore(), prefix));

        Assert.Contains($"Kafka topic {prefix}.messages (ChatKit:Kafka:MessagesTopic) has 2 partitions but ChatKit:Kafka:Partitions is {KafkaNodes.Partitions}", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Missing_or_invalid_settings_are_listed_with_their_keys()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => ChatTestServer.StartAsync(chatKit: kit => kit.AddKafkaTransport(options =>
        {
            options.MessagesTopic = "has spaces";
            options.Partitions = 0;
        })));

        Assert.Contains("ChatKit:Kafka:BootstrapServers is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("ChatKit:Kafka:MessagesTopic", error.Message, StringComparison.Ordinal);
        Assert.Contains("ChatKit:Kafka:Partitions", error.Message, StringComparison.Ordinal);
    }

    private static (string Key, Dictionary<string, string> Headers, string Value) Split(string line)
    {
        var parts = line.Split('|', 3);
        var headers = parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(h => h.Split('=', 2)).ToDictionary(h => h[0], h => h[1], StringComparer.Ordinal);
        return (parts[0], headers, parts[2]);
    }
}
