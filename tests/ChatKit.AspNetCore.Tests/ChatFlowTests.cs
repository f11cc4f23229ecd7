using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Protocol;

namespace ChatKit.AspNetCore.Tests;

public sealed class ChatFlowTests
{
    [Fact(Timeout = 60_000)]
    public async Task Two_users_chat_in_a_room_and_a_direct_conversation_and_see_the_same_order()
    {
        await using var server = await ChatTestServer.StartAsync();
        await using var alice = await RawChatClient.ConnectAsync(server, "alice");
        await using var bob = await RawChatClient.ConnectAsync(server, "bob");

        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "General", Members = ["bob"] })).Info!;
        Assert.Equal("owner", room.Role);
        var added = await bob.WaitForEventAsync(e => e.Type == FrameTypes.RoomAdded && e.Info!.Id == room.Id);
        Assert.Equal("member", added.Info!.Role);

        var direct = (await bob.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsDirect, User = "alice" })).Info!;
        Assert.Equal("direct", direct.Kind);
        Assert.Equal("alice", direct.Peer);
        Assert.Equal("Name of alice", direct.Name);
        await alice.WaitForEventAsync(e => e.Type == FrameTypes.RoomAdded && e.Info!.Id == direct.Id);

        var acks = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            acks.Add((await alice.SendAsync(room.Id, $"alice {i}")).Seq!.Value);
            acks.Add((await bob.SendAsync(room.Id, $"bob {i}")).Seq!.Value);
        }

        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), acks);
        await alice.SendAsync(direct.Id, "hi bob");
        await bob.SendAsync(direct.Id, "hi alice");

        foreach (var client in new[] { alice, bob })
        {
            var roomMessages = await client.WaitForMessagesAsync(room.Id, 10);
            Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), roomMessages.Select(m => m.Seq!.Value));
            Assert.Equal(Enumerable.Range(0, 5).SelectMany(i => new[] { $"alice {i}", $"bob {i}" }), roomMessages.Select(m => m.Body));
            var directMessages = await client.WaitForMessagesAsync(direct.Id, 2);
            Assert.Equal(["hi bob", "hi alice"], directMessages.Select(m => m.Body));
            Assert.Equal([1L, 2L], directMessages.Select(m => m.Seq!.Value));
        }

        // Opening the direct conversation again finds the same room.
        var again = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsDirect, User = "bob" })).Info!;
        Assert.Equal(direct.Id, again.Id);
    }

    [Fact(Timeout = 120_000)]
    public async Task Fifty_clients_in_five_rooms_see_every_message_of_their_rooms_once_in_one_gap_free_order()
    {
        const int Rooms = 5;
        const int ClientsPerRoom = 10;
        const int MessagesPerClient = 200;
        await using var server = await ChatTestServer.StartAsync();
        var clients = new List<RawChatClient>();
        try
        {
            var roomIds = new List<string>();
            for (var r = 0; r < Rooms; r++)
            {
                var members = Enumerable.Range(0, ClientsPerRoom).Select(c => $"u{r}-{c}").ToList();
                await using var owner = await RawChatClient.ConnectAsync(server, $"owner{r}");
                var info = (await owner.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = $"room {r}", Members = members })).Info!;
                roomIds.Add(info.Id);
            }

            for (var r = 0; r < Rooms; r++)
            {
                for (var c = 0; c < ClientsPerRoom; c++)
                {
                    clients.Add(await RawChatClient.ConnectAsync(server, $"u{r}-{c}"));
                }
            }

            await Task.WhenAll(clients.Select(async (client, index) =>
            {
                var room = roomIds[index / ClientsPerRoom];
                for (var i = 0; i < MessagesPerClient; i++)
                {
                    await client.SendAsync(room, $"{client.User}:{i}", $"{client.User}-{i}");
                }
            }));

            const int PerRoom = ClientsPerRoom * MessagesPerClient;
            var orders = new Dictionary<string, List<string?>>();
            for (var index = 0; index < clients.Count; index++)
            {
                var room = roomIds[index / ClientsPerRoom];
                var messages = await clients[index].WaitForMessagesAsync(room, PerRoom);
                Assert.Equal(PerRoom, messages.Count);
                Assert.Equal(Enumerable.Range(1, PerRoom).Select(i => (long)i), messages.Select(m => m.Seq!.Value));
                Assert.Equal(PerRoom, messages.Select(m => m.Cmid).Distinct().Count());
                Assert.All(clients[index].Events.Where(e => e.Type == FrameTypes.Message), m => Assert.Equal(room, m.Room));
                var order = messages.Select(m => m.Cmid).ToList();
                if (orders.TryGetValue(room, out var first))
                {
                    Assert.Equal(first, order);
                }
                else
                {
                    orders[room] = order;
                }

                // Each sender's own messages keep the order they were sent in.
                var own = messages.Where(m => m.Sender == clients[index].User).Select(m => m.Body).ToList();
                Assert.Equal(Enumerable.Range(0, MessagesPerClient).Select(i => $"{clients[index].User}:{i}"), own);
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Members_added_while_messages_flow_receive_every_message_sent_after_they_were_added()
    {
        await using var server = await ChatTestServer.StartAsync();
        await using var alice = await RawChatClient.ConnectAsync(server, "alice");
        var bobs = new List<RawChatClient>();
        try
        {
            for (var i = 0; i < 5; i++)
            {
                bobs.Add(await RawChatClient.ConnectAsync(server, $"bob{i}"));
            }

            // No waiting between the create and the sends: the members' subscriptions race the messages.
            var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "race", Members = bobs.Select(b => b.User).ToList() })).Info!;
            for (var i = 1; i <= 30; i++)
            {
                await alice.SendAsync(room.Id, $"m{i}");
            }

            foreach (var bob in bobs)
            {
                var messages = await bob.WaitForMessagesAsync(room.Id, 30);
                Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), messages.Select(m => m.Seq!.Value));
            }
        }
        finally
        {
            foreach (var bob in bobs)
            {
                await bob.DisposeAsync();
            }
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_send_retried_with_the_same_client_message_id_stores_one_message_with_one_sequence()
    {
        await using var server = await ChatTestServer.StartAsync();
        await using var alice = await RawChatClient.ConnectAsync(server, "alice");
        await using var bob = await RawChatClient.ConnectAsync(server, "bob");
        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "retry", Members = ["bob"] })).Info!;
        await alice.SendAsync(room.Id, "before");

        var first = await alice.SendAsync(room.Id, "hello", "cmid-1");
        var retry = await alice.SendAsync(room.Id, "hello (retry)", "cmid-1");
        await alice.SendAsync(room.Id, "after");

        Assert.False(first.Duplicate);
        Assert.True(retry.Duplicate);
        Assert.Equal(first.Seq, retry.Seq);
        Assert.Equal(first.SentAt, retry.SentAt);
        var history = await bob.RequestAsync(new ClientFrame { Type = FrameTypes.History, Room = room.Id, After = 0 });
        Assert.Equal(["before", "hello", "after"], history.Messages!.Select(m => m.Body));
        Assert.Equal([1L, 2L, 3L], history.Messages!.Select(m => m.Seq));
        var live = await bob.WaitForMessagesAsync(room.Id, 3);
        Assert.Single(live, m => m.Cmid == "cmid-1");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_client_that_reconnects_with_resume_receives_exactly_the_missed_messages_in_order()
    {
        await using var server = await ChatTestServer.StartAsync();
        await using var alice = await RawChatClient.ConnectAsync(server, "alice");
        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "resume", Members = ["bob"] })).Info!;
        var other = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsDirect, User = "bob" })).Info!;

        var bob = await RawChatClient.ConnectAsync(server, "bob");
        for (var i = 1; i <= 5; i++)
        {
            await alice.SendAsync(room.Id, $"m{i}");
        }

        var seen = (await bob.WaitForMessagesAsync(room.Id, 5)).Max(m => m.Seq!.Value);
        await bob.DisposeAsync();

        for (var i = 6; i <= 12; i++)
        {
            await alice.SendAsync(room.Id, $"m{i}");
        }

        await alice.SendAsync(other.Id, "direct while away");

        await using var back = await RawChatClient.ConnectAsync(server, "bob", new Dictionary<string, long> { [room.Id] = seen, [other.Id] = 0 });
        for (var i = 13; i <= 15; i++)
        {
            await alice.SendAsync(room.Id, $"m{i}");
        }

        var messages = await back.WaitForMessagesAsync(room.Id, 10);
        Assert.Equal(Enumerable.Range(6, 10).Select(i => $"m{i}"), messages.Select(m => m.Body));
        Assert.Equal(Enumerable.Range(6, 10).Select(i => (long)i), messages.Select(m => m.Seq!.Value));
        var direct = await back.WaitForMessagesAsync(other.Id, 1);
        Assert.Equal("direct while away", Assert.Single(direct).Body);
        Assert.Equal(12, back.Welcome!.Rooms!.Single(r => r.Id == room.Id).LatestSeq);
    }
}
