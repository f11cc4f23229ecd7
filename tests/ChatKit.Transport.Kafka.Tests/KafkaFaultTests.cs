using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Model;
using ChatKit.Protocol;
using ChatKit.Storage;
using ChatKit.Storage.EfCore.Options;
using ChatKit.Storage.EfCore.Tests;
using ChatKit.Transport.Kafka.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ChatKit.Transport.Kafka.Tests;

/// <summary>Faults around the Kafka message log: the database away, brokers away.</summary>
public sealed class KafkaFaultTests
{
    [Fact(Timeout = 180_000)]
    public async Task With_the_database_down_sends_are_still_acknowledged_and_history_has_them_all_once_it_is_back()
    {
        using var kafka = MockKafkaCluster.Start(brokers: 3);
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync();
        var prefix = KafkaNodes.CreateTopics(kafka);
        await using var node = await KafkaNodes.StartNodeAsync(kafka, redis: null, kit => kit.AddEfCoreStorage(options =>
        {
            options.Provider = EfCoreStorageProvider.PostgreSql;
            options.ConnectionString = database;
            options.ApplyMigrationsAtStart = true;
        }), prefix);
        await using var alice = await RawChatClient.ConnectAsync(node, "alice");
        await using var bob = await RawChatClient.ConnectAsync(node, "bob");
        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "outage", Members = ["bob"] })).Info!.Id;
        await bob.WaitForEventAsync(e => e.Type == FrameTypes.RoomAdded && e.Info!.Id == room);
        var bodies = Enumerable.Range(1, 30).Select(i => $"message {i}").ToList();
        foreach (var body in bodies[..5])
        {
            await alice.SendAsync(room, body);
        }

        await postgres.StopAsync();
        var acknowledged = new List<long>();
        foreach (var body in bodies[5..25])
        {
            acknowledged.Add((await alice.SendAsync(room, body)).Seq!.Value);
        }

        Assert.Equal(Enumerable.Range(6, 20).Select(i => (long)i), acknowledged);
        Assert.Equal(bodies[..25], (await bob.WaitForMessagesAsync(room, 25)).Select(m => m.Body));

        await postgres.StartAgainAsync();
        foreach (var body in bodies[25..])
        {
            await alice.SendAsync(room, body);
        }

        // The store worker stores the outage's messages from the log; the writer the ones after it once their turn comes.
        var store = node.Services.GetRequiredService<IChatStore>();
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await LatestAsync(store, room) < bodies.Count)
        {
            await Task.Delay(100, patience.Token);
        }

        var history = await store.GetMessagesAsync(room, new MessageRange(0, null, 100), CancellationToken.None);
        Assert.Equal(Enumerable.Range(1, bodies.Count).Select(i => (long)i), history.Select(m => m.Sequence));
        Assert.Equal(bodies, history.Select(m => m.Body));
        Assert.Equal(bodies, (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.History, Room = room, After = 0, Limit = 100 })).Messages!.Select(m => m.Body));
    }

    [Fact(Timeout = 180_000)]
    public async Task With_the_database_down_a_room_the_writer_does_not_know_waits_for_it_and_holds_up_no_other_room()
    {
        using var kafka = MockKafkaCluster.Start(brokers: 3);
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync();

        // One partition: both rooms are in it, so they share one writer and its batches.
        var prefix = KafkaNodes.CreateTopics(kafka, partitions: 1);
        await using var node = await KafkaNodes.StartNodeAsync(
            kafka,
            redis: null,
            kit => kit.AddEfCoreStorage(options =>
            {
                options.Provider = EfCoreStorageProvider.PostgreSql;
                options.ConnectionString = database;
                options.ApplyMigrationsAtStart = true;
            }),
            prefix,
            options =>
            {
                options.Partitions = 1;
                options.SendTimeout = TimeSpan.FromSeconds(3);
            });
        await using var alice = await RawChatClient.ConnectAsync(node, "alice");
        await using var bob = await RawChatClient.ConnectAsync(node, "bob");
        var known = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "known", Members = ["bob"] })).Info!.Id;
        var unknown = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "unknown" })).Info!.Id;
        // The writer may still be joining its group (the send times out after 3 s here): retry as a client would.
        Assert.Equal(1, (await Sends.UntilAcknowledgedAsync(bob, known, "before the outage", "before-1")).Seq);

        // Alice's membership of the new room is cached, so her send gets past the engine's checks to the log.
        await alice.RequestAsync(new ClientFrame { Type = FrameTypes.History, Room = unknown, After = 0, Limit = 10 });
        await postgres.StopAsync();

        var waiting = alice.RequestErrorOrReplyAsync(new ClientFrame { Type = FrameTypes.Send, Room = unknown, Body = "first in a new room", Cmid = "new-1" });
        foreach (var i in Enumerable.Range(1, 3))
        {
            Assert.Equal(1 + i, (await bob.SendAsync(known, $"during the outage {i}")).Seq);
        }

        var refused = await waiting;
        Assert.Equal((FrameTypes.Error, ChatErrorCodes.Unavailable), (refused.Type, refused.Code));
        Assert.Contains("not numbered in time", refused.Message, StringComparison.Ordinal);

        // Once the database is back the same send is numbered, as the room's first message.
        await postgres.StartAgainAsync();
        Assert.Equal(1, (await Sends.UntilAcknowledgedAsync(alice, unknown, "first in a new room", "new-1")).Seq);
    }

    [Fact(Timeout = 180_000)]
    public async Task Brokers_taken_down_one_after_another_during_sends_lose_and_repeat_nothing()
    {
        using var kafka = MockKafkaCluster.Start(brokers: 3);
        var store = new InMemoryChatStore();
        await using var node = await KafkaNodes.StartNodeAsync(kafka, redis: null, store, KafkaNodes.CreateTopics(kafka));
        await using var alice = await RawChatClient.ConnectAsync(node, "alice");
        await using var bob = await RawChatClient.ConnectAsync(node, "bob");
        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "rolling", Members = ["bob"] })).Info!.Id;
        await bob.WaitForEventAsync(e => e.Type == FrameTypes.RoomAdded && e.Info!.Id == room);

        const int Total = 60;
        var acknowledged = new List<long>();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sending = Task.Run(async () =>
        {
            for (var i = 1; i <= Total; i++)
            {
                // A send that outlives an outage fails with unavailable; the client sends it again with the same id.
                acknowledged.Add((await Sends.UntilAcknowledgedAsync(alice, room, $"message {i}", $"cmid-{i}")).Seq!.Value);
                if (i == 10)
                {
                    started.TrySetResult();
                }
            }
        });

        // Each broker in turn is away for 1.5 s while the sends go on: every leader, coordinator and replica is hit once.
        await started.Task;
        for (var broker = 1; broker <= kafka.Brokers; broker++)
        {
            kafka.SetBrokerDown(broker);
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            kafka.SetBrokerUp(broker);
        }

        await sending;
        Assert.Equal(Enumerable.Range(1, Total).Select(i => (long)i), acknowledged);
        Assert.Equal(Enumerable.Range(1, Total).Select(i => $"message {i}"), (await bob.WaitForMessagesAsync(room, Total)).Select(m => m.Body));
        var stored = await store.GetMessagesAsync(room, new MessageRange(0, null, 100), CancellationToken.None);
        Assert.Equal(Enumerable.Range(1, Total).Select(i => $"message {i}"), stored.Select(m => m.Body));
    }

    private static async Task<long> LatestAsync(IChatStore store, string room)
    {
        try
        {
            return await store.GetLatestSequenceAsync(room, CancellationToken.None);
        }
        catch (ChatKit.Engine.ChatException)
        {
            return 0;
        }
    }
}
