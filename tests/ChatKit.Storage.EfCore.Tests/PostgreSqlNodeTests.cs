using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Protocol;
using ChatKit.Storage.EfCore.Options;
using Microsoft.Extensions.DependencyInjection;

namespace ChatKit.Storage.EfCore.Tests;

/// <summary>ChatKit nodes (real Kestrel servers) sharing a real PostgreSQL database.</summary>
[Collection(PostgresGroup.Name)]
public sealed class PostgreSqlNodeTests(PostgresFixture postgres)
{
    [Fact(Timeout = 180_000)]
    public async Task Two_nodes_with_twenty_writers_each_store_every_message_once_in_one_gap_free_order()
    {
        const int WritersPerNode = 20;
        const int MessagesPerWriter = 10;
        var database = await postgres.Server.CreateDatabaseAsync();
        await using var nodeA = await StartNodeAsync(database);
        await using var nodeB = await StartNodeAsync(database);
        var writers = new List<RawChatClient>();
        try
        {
            await using var owner = await RawChatClient.ConnectAsync(nodeA, "owner");
            var members = Enumerable.Range(0, WritersPerNode * 2).Select(i => $"w{i}").ToList();
            var rooms = new List<string>();
            for (var r = 0; r < 2; r++)
            {
                rooms.Add((await owner.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = $"shared {r}", Members = members })).Info!.Id);
            }

            for (var i = 0; i < WritersPerNode * 2; i++)
            {
                writers.Add(await RawChatClient.ConnectAsync(i % 2 == 0 ? nodeA : nodeB, $"w{i}"));
            }

            var acks = await Task.WhenAll(writers.Select(async writer =>
            {
                var seqs = new List<(string Room, long Seq)>();
                for (var m = 0; m < MessagesPerWriter; m++)
                {
                    var room = rooms[m % 2];
                    seqs.Add((room, (await writer.SendAsync(room, $"{writer.User}:{m}", $"{writer.User}-{m}")).Seq!.Value));
                }

                return seqs;
            }));

            var expectedPerRoom = WritersPerNode * 2 * MessagesPerWriter / 2;
            foreach (var room in rooms)
            {
                var acked = acks.SelectMany(a => a).Where(a => a.Room == room).Select(a => a.Seq).Order().ToList();
                Assert.Equal(Enumerable.Range(1, expectedPerRoom).Select(i => (long)i), acked);

                // Every client, on either node, reads the same order.
                List<string>? first = null;
                foreach (var reader in new[] { writers[0], writers[1] })
                {
                    var order = await ReadAllAsync(reader, room);
                    Assert.Equal(expectedPerRoom, order.Select(m => m.Cmid).Distinct().Count());
                    Assert.Equal(Enumerable.Range(1, expectedPerRoom).Select(i => (long)i), order.Select(m => m.Seq));
                    first ??= order.Select(m => m.Cmid).ToList();
                    Assert.Equal(first, order.Select(m => m.Cmid));
                }
            }
        }
        finally
        {
            foreach (var writer in writers)
            {
                await writer.DisposeAsync();
            }
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task A_stopped_database_refuses_sends_clearly_and_loses_nothing_acknowledged()
    {
        await using var server = await PostgresServer.StartAsync();
        var database = await server.CreateDatabaseAsync();
        await using var node = await StartNodeAsync(database);
        await using var alice = await RawChatClient.ConnectAsync(node, "alice");
        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "outage" })).Info!;
        var acknowledged = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            await alice.SendAsync(room.Id, $"before {i}", $"before-{i}");
            acknowledged.Add($"before-{i}");
        }

        await server.StopAsync();
        var refused = await alice.RequestErrorAsync(new ClientFrame { Type = FrameTypes.Send, Room = room.Id, Cmid = "during", Body = "while the database is down" });
        Assert.Equal(ChatErrorCodes.Unavailable, refused.Code);
        Assert.Equal(FrameTypes.Reply, (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.Ping })).Type);

        await server.StartAgainAsync();
        var retried = await SendWhenBackAsync(alice, room.Id, "during");
        acknowledged.Add("during");
        for (var i = 0; i < 5; i++)
        {
            await alice.SendAsync(room.Id, $"after {i}", $"after-{i}");
            acknowledged.Add($"after-{i}");
        }

        var stored = await ReadAllAsync(alice, room.Id);
        Assert.Equal(acknowledged, stored.Select(m => m.Cmid));
        Assert.Equal(Enumerable.Range(1, acknowledged.Count).Select(i => (long)i), stored.Select(m => m.Seq));
        Assert.Equal(6, retried);
    }

    [Fact(Timeout = 180_000)]
    public async Task Users_who_all_leave_at_once_are_each_recorded_and_announced_offline_through_a_one_connection_pool()
    {
        const int Users = 400;
        const int PerRoom = 100;
        var database = await postgres.Server.CreateDatabaseAsync();
        // One pooled connection, waited for at most a second: every departure of the crowd has to share it.
        await using var node = await StartNodeAsync(database + ";Maximum Pool Size=1;Timeout=1");
        await using var owner = await RawChatClient.ConnectAsync(node, "owner");
        var users = Enumerable.Range(0, Users).Select(i => $"crowd{i}").ToList();
        foreach (var members in users.Chunk(PerRoom))
        {
            await owner.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "crowd", Members = [.. members] });
        }

        var clients = new List<RawChatClient>();
        foreach (var user in users)
        {
            clients.Add(await RawChatClient.ConnectAsync(node, user));
        }

        await owner.WaitForEventAsync(e => e.Type == FrameTypes.Presence && e.User == users[^1] && e.Online == true);

        await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));

        foreach (var user in users)
        {
            var offline = await owner.WaitForEventAsync(e => e.Type == FrameTypes.Presence && e.User == user && e.Online == false);
            Assert.NotNull(offline.LastSeen);
        }

        foreach (var chunk in users.Chunk(PerRoom))
        {
            var presence = (await owner.RequestAsync(new ClientFrame { Type = FrameTypes.Presence, Users = [.. chunk] })).Presence!;
            Assert.Equal(chunk, presence.Where(p => p is { Online: false, LastSeen: not null }).Select(p => p.User));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Over_long_and_invalid_fields_are_refused_before_they_reach_the_database()
    {
        var database = await postgres.Server.CreateDatabaseAsync();
        await using var node = await StartNodeAsync(database);
        await using var alice = await RawChatClient.ConnectAsync(node, "alice");
        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "checked" })).Info!;

        var refusals = new[]
        {
            new ClientFrame { Type = FrameTypes.RoomsCreate, Name = new string('n', 101) },
            new ClientFrame { Type = FrameTypes.Send, Room = room.Id, Cmid = new string('c', 65), Body = "x" },
            new ClientFrame { Type = FrameTypes.Send, Room = room.Id, Cmid = "it's", Body = "x" },
            new ClientFrame { Type = FrameTypes.Send, Room = new string('r', 65), Cmid = "ok", Body = "x" },
            new ClientFrame { Type = FrameTypes.MembersInvite, Room = room.Id, User = new string('u', 129) },
            new ClientFrame { Type = FrameTypes.MembersInvite, Room = room.Id, User = "bad\u0000user" },
        };
        foreach (var frame in refusals)
        {
            Assert.Equal(ChatErrorCodes.InvalidField, (await alice.RequestErrorAsync(frame)).Code);
        }

        // A room id that is only odd, not invalid, is looked up with a parameter and simply not found.
        Assert.Equal(ChatErrorCodes.NotFound, (await alice.RequestErrorAsync(new ClientFrame { Type = FrameTypes.History, Room = "r'; DROP TABLE chatkit_messages; --" })).Code);
        await alice.SendAsync(room.Id, "still fine");
        Assert.Single(await ReadAllAsync(alice, room.Id));
        Assert.Equal(["alice"], (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.MembersList, Room = room.Id })).Members!.Select(m => m.User));
    }

    /// <summary>The first sends after a restart may meet pooled connections the restart broke: retry those with the same id.</summary>
    private static async Task<long> SendWhenBackAsync(RawChatClient client, string room, string cmid)
    {
        for (var attempt = 1; ; attempt++)
        {
            var reply = await client.RequestErrorOrReplyAsync(new ClientFrame { Type = FrameTypes.Send, Room = room, Cmid = cmid, Body = "while the database is down" });
            if (reply.Type == FrameTypes.Reply)
            {
                return reply.Seq!.Value;
            }

            Assert.Equal(ChatErrorCodes.Unavailable, reply.Code);
            Assert.True(attempt < 20, "the database did not come back");
        }
    }

    private static async Task<List<MessageInfo>> ReadAllAsync(RawChatClient client, string room)
    {
        var all = new List<MessageInfo>();
        while (true)
        {
            var page = await client.RequestAsync(new ClientFrame { Type = FrameTypes.History, Room = room, After = all.Count == 0 ? 0 : all[^1].Seq, Limit = 200 });
            all.AddRange(page.Messages!);
            if (page.HasMore != true)
            {
                return all;
            }
        }
    }

    /// <summary>A node that applies the schema at start: nodes starting together exercise the migration lock.</summary>
    private static Task<ChatTestServer> StartNodeAsync(string connectionString) =>
        ChatTestServer.StartAsync(chatKit: kit => kit.AddEfCoreStorage(o =>
        {
            o.Provider = EfCoreStorageProvider.PostgreSql;
            o.ConnectionString = connectionString;
            o.ApplyMigrationsAtStart = true;
            o.CommandTimeout = TimeSpan.FromSeconds(5);
        }));
}
