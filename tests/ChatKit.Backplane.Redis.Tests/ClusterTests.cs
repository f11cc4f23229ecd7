using ChatKit.AspNetCore.Tests.Infrastructure;
using ChatKit.Backplane.Redis.Tests.Infrastructure;
using ChatKit.Core.Tests.Infrastructure;
using ChatKit.Protocol;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace ChatKit.Backplane.Redis.Tests;

/// <summary>Clients spread over three nodes that share a store and a real redis-server.</summary>
[Collection(RedisGroup.Name)]
public sealed class ClusterTests(RedisFixture redis)
{
    [Fact(Timeout = 120_000)]
    public async Task Messages_typing_receipts_and_direct_messages_reach_every_intended_client_on_any_node_and_no_other()
    {
        await using var cluster = await RedisCluster.StartAsync(redis.ConnectionString, nodes: 3);
        await using var alice = await RawChatClient.ConnectAsync(cluster[0], "alice");
        await using var bob = await RawChatClient.ConnectAsync(cluster[1], "bob");
        await using var carol = await RawChatClient.ConnectAsync(cluster[2], "carol");
        await using var dave = await RawChatClient.ConnectAsync(cluster[0], "dave");
        await using var erin = await RawChatClient.ConnectAsync(cluster[1], "erin");

        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "team", Members = ["bob", "carol"] })).Info!.Id;
        await bob.WaitForEventAsync(e => e.Type == FrameTypes.RoomAdded && e.Info!.Id == room);
        await carol.WaitForEventAsync(e => e.Type == FrameTypes.RoomAdded && e.Info!.Id == room);

        await alice.SendAsync(room, "from alice on node 1");
        await bob.SendAsync(room, "from bob on node 2");
        await carol.SendAsync(room, "from carol on node 3");
        foreach (var client in new[] { alice, bob, carol })
        {
            var messages = await client.WaitForMessagesAsync(room, 3);
            Assert.Equal([1L, 2L, 3L], messages.Select(m => m.Seq!.Value));
            Assert.Equal(["from alice on node 1", "from bob on node 2", "from carol on node 3"], messages.Select(m => m.Body));
        }

        await carol.RequestAsync(new ClientFrame { Type = FrameTypes.Typing, Room = room });
        await alice.WaitForEventAsync(e => e.Type == FrameTypes.Typing && e.User == "carol" && e.Active == true);
        await bob.WaitForEventAsync(e => e.Type == FrameTypes.Typing && e.User == "carol" && e.Active == true);

        await bob.RequestAsync(new ClientFrame { Type = FrameTypes.Receipt, Room = room, Seq = 3, Kind = "read" });
        await alice.WaitForEventAsync(e => e.Type == FrameTypes.Receipt && e.User == "bob" && e.Seq == 3);
        await carol.WaitForEventAsync(e => e.Type == FrameTypes.Receipt && e.User == "bob" && e.Seq == 3);

        var direct = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsDirect, User = "erin" })).Info!.Id;
        await erin.WaitForEventAsync(e => e.Type == FrameTypes.RoomAdded && e.Info!.Id == direct);
        await alice.SendAsync(direct, "only for erin");
        Assert.Equal("only for erin", (await erin.WaitForMessagesAsync(direct, 1)).Single().Body);

        // Dave shares node 1 with Alice, Erin node 2 with Bob. A last message to each, published by node 1 after
        // everything above, arrives after anything of the team room would have.
        var daves = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsDirect, User = "dave" })).Info!.Id;
        await alice.SendAsync(daves, "last, for dave");
        await alice.SendAsync(direct, "last, for erin");
        await dave.WaitForMessagesAsync(daves, 1);
        await erin.WaitForMessagesAsync(direct, 2);
        Assert.DoesNotContain(dave.Events, e => e.Room == room || e.Info?.Id == room || e.Info?.Id == direct);
        Assert.DoesNotContain(erin.Events, e => e.Room == room || e.Info?.Id == room || e.Info?.Id == daves);
        Assert.DoesNotContain(bob.Events, e => e.Room == direct || e.Room == daves);
        Assert.DoesNotContain(carol.Events, e => e.Room == direct || e.Room == daves);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_user_is_online_while_any_connection_on_any_node_is()
    {
        await using var cluster = await RedisCluster.StartAsync(redis.ConnectionString, nodes: 3);
        await using var alice = await RawChatClient.ConnectAsync(cluster[0], "alice");
        await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "friends", Members = ["bob"] });

        var tab1 = await RawChatClient.ConnectAsync(cluster[1], "bob");
        await alice.WaitForEventAsync(e => e.Type == FrameTypes.Presence && e.User == "bob" && e.Online == true);
        var tab2 = await RawChatClient.ConnectAsync(cluster[2], "bob");
        await tab1.DisposeAsync();

        var during = await alice.RequestAsync(new ClientFrame { Type = FrameTypes.Presence, Users = ["bob"] });
        Assert.True(during.Presence!.Single().Online);

        await tab2.DisposeAsync();
        var offline = await alice.WaitForEventAsync(e => e.Type == FrameTypes.Presence && e.User == "bob" && e.Online == false);
        Assert.NotNull(offline.LastSeen);
        Assert.Equal([true, false], alice.Events.Where(e => e.Type == FrameTypes.Presence && e.User == "bob").Select(e => e.Online));
        var after = await alice.RequestAsync(new ClientFrame { Type = FrameTypes.Presence, Users = ["bob"] });
        Assert.False(after.Presence!.Single().Online);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_node_that_vanishes_without_goodbye_has_its_users_go_offline_after_the_expiry()
    {
        var friends = await FriendsOnTwoQuickNodesAsync();
        await using var cluster = friends.Cluster;
        await using var alice = friends.Alice;
        await using var bob = friends.Bob;

        // Node 2 loses Redis for good with Bob still connected: it can neither beat nor say goodbye, as if killed.
        cluster[1].Services.GetRequiredService<RedisConnection>().Dispose();

        var offline = await alice.WaitForEventAsync(e => e.Type == FrameTypes.Presence && e.User == "bob" && e.Online == false);
        Assert.NotNull(offline.LastSeen);
        var presence = await alice.RequestAsync(new ClientFrame { Type = FrameTypes.Presence, Users = ["bob"] });
        Assert.False(presence.Presence!.Single().Online);
    }

    [Fact(Timeout = 120_000)]
    public async Task Users_whose_presence_redis_lost_are_put_back_and_announced_online_by_their_nodes()
    {
        var friends = await FriendsOnTwoQuickNodesAsync();
        await using var cluster = friends.Cluster;
        await using var alice = friends.Alice;
        await using var bob = friends.Bob;

        // Redis loses every presence key of the cluster, as a restart without persistence would.
        using var client = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var server = client.GetServer(client.GetEndPoints().Single());
        await client.GetDatabase().KeyDeleteAsync(server.Keys(pattern: $"{cluster.Prefix}:presence:*").ToArray());

        // Each node finds itself missing at its next beat, puts its users back and announces them online again.
        var bobOnline = 0;
        await alice.WaitForEventAsync(e => e.Type == FrameTypes.Presence && e.User == "bob" && e.Online == true && ++bobOnline == 2);
        await bob.WaitForEventAsync(e => e.Type == FrameTypes.Presence && e.User == "alice" && e.Online == true);
        var presence = await alice.RequestAsync(new ClientFrame { Type = FrameTypes.Presence, Users = ["bob"] });
        Assert.True(presence.Presence!.Single().Online);
        Assert.True(await client.GetDatabase().SetContainsAsync($"{cluster.Prefix}:presence:user:bob", cluster[1].Services.GetRequiredService<RedisConnection>().NodeId));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_user_who_left_while_redis_was_down_is_offline_once_redis_is_back_with_its_data()
    {
        await using var server = await RedisServer.StartAsync(persistent: true);
        await using var cluster = await RedisCluster.StartAsync(server.ConnectionString, nodes: 2, options =>
        {
            options.PresenceHeartbeat = TimeSpan.FromMilliseconds(200);
            options.CommandTimeout = TimeSpan.FromSeconds(1);
        });
        await using var alice = await RawChatClient.ConnectAsync(cluster[0], "alice");
        await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "friends", Members = ["bob"] });
        var bob = await RawChatClient.ConnectAsync(cluster[1], "bob");
        await alice.WaitForEventAsync(e => e.Type == FrameTypes.Presence && e.User == "bob" && e.Online == true);

        // Redis goes down with Bob in its presence sets (on disk), and Bob leaves node 2 meanwhile: node 2 cannot
        // take him out. Redis comes back with its data, so nothing tells the nodes that Bob's entry is stale.
        var tracker = cluster[1].Services.GetRequiredService<RedisPresenceTracker>();
        await LeaveWhileRedisIsDownAsync(server, bob, tracker);

        // Node 2's next heartbeat that reaches Redis writes what it could not: Bob is offline for every node.
        await UntilAsync(async () => !(await alice.RequestAsync(new ClientFrame { Type = FrameTypes.Presence, Users = ["bob"] })).Presence!.Single().Online);
        await UntilAsync(() => tracker.UnrecordedCount == 0);
        var again = await alice.RequestAsync(new ClientFrame { Type = FrameTypes.Presence, Users = ["bob"] });
        Assert.False(again.Presence!.Single().Online);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_node_does_not_count_itself_for_a_user_whose_departure_it_could_not_write_to_redis()
    {
        await using var server = await RedisServer.StartAsync(persistent: true);
        // No heartbeat during the test: it would write the departure, and the node's own answer is what is tested.
        await using var cluster = await RedisCluster.StartAsync(server.ConnectionString, nodes: 2, options =>
        {
            options.PresenceHeartbeat = TimeSpan.FromMinutes(5);
            options.PresenceExpiry = TimeSpan.FromMinutes(10);
            options.CommandTimeout = TimeSpan.FromSeconds(1);
        });
        await using var alice = await RawChatClient.ConnectAsync(cluster[0], "alice");
        await using var carol = await RawChatClient.ConnectAsync(cluster[1], "carol");
        var bob = await RawChatClient.ConnectAsync(cluster[0], "bob");
        var tracker = cluster[0].Services.GetRequiredService<RedisPresenceTracker>();

        // Bob leaves node 1 while Redis is down; Redis comes back with his entry (on disk) still naming node 1.
        await LeaveWhileRedisIsDownAsync(server, bob, tracker);

        // Carol, on node 2, shows online to node 1 only through Redis: once she does, the same read answered for Bob.
        var presence = await UntilAsync(
            async () => (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.Presence, Users = ["bob", "carol"] })).Presence!,
            p => p.Single(u => u.User == "carol").Online);
        Assert.False(presence.Single(u => u.User == "bob").Online);
        Assert.Equal(1, tracker.UnrecordedCount);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_node_that_sweeps_a_dead_node_of_many_users_keeps_beating_while_their_departures_are_written()
    {
        const int Users = 1_200;
        var store = new HookedStore();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.BeforeLastSeenWrite = _ => new ValueTask(gate.Task);
        await using var cluster = await RedisCluster.StartAsync(redis.ConnectionString, nodes: 1, options =>
        {
            options.PresenceHeartbeat = TimeSpan.FromMilliseconds(200);
            options.PresenceExpiry = TimeSpan.FromSeconds(1);
        }, store: store);
        using var client = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var database = client.GetDatabase();
        var nodes = (RedisKey)$"{cluster.Prefix}:presence:nodes";

        // A node that died long ago, its users still in their sets (more than one script's chunk of them).
        var users = Enumerable.Range(0, Users).Select(i => $"gone{i}").ToList();
        await Task.WhenAll(users.Select(u => database.SetAddAsync($"{cluster.Prefix}:presence:user:{u}", "dead-node")));
        await database.SetAddAsync($"{cluster.Prefix}:presence:node:dead-node", users.Select(u => (RedisValue)u).ToArray());
        await database.SortedSetAddAsync(nodes, "dead-node", 0);
        await UntilAsync(async () => await database.SortedSetScoreAsync(nodes, "dead-node") is null);

        // The departures wait for the store; the sweeping node's heartbeats must go on meanwhile, or the other nodes
        // would take it for dead as well.
        var self = cluster[0].Services.GetRequiredService<RedisConnection>().NodeId;
        var swept = await database.SortedSetScoreAsync(nodes, self);
        await UntilAsync(async () => await database.SortedSetScoreAsync(nodes, self) > swept);
        Assert.Empty(await store.GetUsersAsync(users, CancellationToken.None));

        gate.SetResult();
        await UntilAsync(async () => (await store.GetUsersAsync(users, CancellationToken.None)).Count(u => u.LastSeen is not null) == Users);
        Assert.DoesNotContain(true, await Task.WhenAll(users.Select(u => database.KeyExistsAsync($"{cluster.Prefix}:presence:user:{u}"))));
    }

    [Fact(Timeout = 180_000)]
    public async Task Redis_restarted_during_steady_sends_leaves_no_acknowledged_message_missing_on_any_client()
    {
        await using var server = await RedisServer.StartAsync();
        await using var cluster = await RedisCluster.StartAsync(server.ConnectionString, nodes: 2);
        await using var alice = await RawChatClient.ConnectAsync(cluster[0], "alice");
        await using var bob = await RawChatClient.ConnectAsync(cluster[1], "bob");
        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "steady", Members = ["bob"] })).Info!.Id;
        await bob.WaitForEventAsync(e => e.Type == FrameTypes.RoomAdded && e.Info!.Id == room);

        const int PerPhase = 30;
        var acknowledged = new List<long>();
        async Task PhaseAsync(string phase, params RawChatClient[] senders)
        {
            for (var i = 0; i < PerPhase; i++)
            {
                foreach (var sender in senders)
                {
                    acknowledged.Add((await sender.SendAsync(room, $"{sender.User} {phase} {i}")).Seq!.Value);
                }
            }
        }

        await PhaseAsync("before", alice, bob);
        await server.StopAsync();
        await PhaseAsync("during", alice, bob);
        await server.StartAgainAsync();

        // Alice sends nothing more: no later message of hers can reveal to Bob's connection what it missed.
        await PhaseAsync("after", bob);

        var expected = acknowledged.Order().ToList();
        Assert.Equal(Enumerable.Range(1, PerPhase * 5).Select(i => (long)i), expected);
        foreach (var client in new[] { alice, bob })
        {
            var received = await client.WaitForMessagesAsync(room, expected.Count);
            Assert.Equal(expected, received.Select(m => m.Seq!.Value));
        }

        // Both nodes reconnect by themselves (StackExchange.Redis retries in the background), and live traffic
        // crosses between them again: typing, which nothing replays, is repeated until it comes through.
        await CrossesLiveAsync(bob, alice, room);
        await CrossesLiveAsync(alice, bob, room);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_hung_redis_holds_up_no_hello_and_the_node_serves_its_own_clients_until_redis_answers_again()
    {
        await using var server = await RedisServer.StartAsync();
        await using var cluster = await RedisCluster.StartAsync(server.ConnectionString, nodes: 2, options => options.CommandTimeout = TimeSpan.FromSeconds(1), options => options.BackplaneWaitTimeout = TimeSpan.FromSeconds(1));
        await using var alice = await RawChatClient.ConnectAsync(cluster[0], "alice");
        var room = (await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "frozen", Members = ["bob", "carol"] })).Info!.Id;
        await alice.SendAsync(room, "before the freeze");

        await server.PauseAsync();
        try
        {
            // Bob's hello needs channels Redis cannot make now: it is answered anyway, with the room caught up.
            await using var bob = await RawChatClient.ConnectAsync(cluster[0], "bob", resume: new Dictionary<string, long> { [room] = 0 });
            Assert.Equal("before the freeze", (await bob.WaitForMessagesAsync(room, 1)).Single().Body);
            await alice.SendAsync(room, "during the freeze");
            Assert.Equal("during the freeze", (await bob.WaitForMessagesAsync(room, 2))[1].Body);
        }
        finally
        {
            await server.ResumeAsync();
        }

        // Redis answers again: Carol on the other node gets what was sent since, live.
        await using var carol = await RawChatClient.ConnectAsync(cluster[1], "carol", resume: new Dictionary<string, long> { [room] = 2 });
        await CrossesLiveAsync(alice, carol, room);
        await alice.SendAsync(room, "after the freeze");
        Assert.Equal("after the freeze", (await carol.WaitForMessagesAsync(room, 1)).Single().Body);
    }

    /// <summary>Checks the condition every 50 ms until it holds (the test's timeout ends a wait that never does).</summary>
    /// <summary>
    /// Two nodes that beat every 200 ms and expire each other after 1 s; Alice on the first and Bob on the second share a
    /// room, and Alice has seen Bob come online.
    /// </summary>
    private async Task<(RedisCluster Cluster, RawChatClient Alice, RawChatClient Bob)> FriendsOnTwoQuickNodesAsync()
    {
        var cluster = await RedisCluster.StartAsync(redis.ConnectionString, nodes: 2, options =>
        {
            options.PresenceHeartbeat = TimeSpan.FromMilliseconds(200);
            options.PresenceExpiry = TimeSpan.FromSeconds(1);
        });
        var alice = await RawChatClient.ConnectAsync(cluster[0], "alice");
        await alice.RequestAsync(new ClientFrame { Type = FrameTypes.RoomsCreate, Name = "friends", Members = ["bob"] });
        var bob = await RawChatClient.ConnectAsync(cluster[1], "bob");
        await alice.WaitForEventAsync(e => e.Type == FrameTypes.Presence && e.User == "bob" && e.Online == true);
        return (cluster, alice, bob);
    }

    /// <summary>Stops Redis, closes the client's connection (its node cannot write the departure), starts Redis again.</summary>
    private static async Task LeaveWhileRedisIsDownAsync(RedisServer server, RawChatClient client, RedisPresenceTracker tracker)
    {
        await server.StopAsync();
        await client.DisposeAsync();
        await UntilAsync(() => tracker.UnrecordedCount == 1);
        await server.StartAgainAsync();
    }

    private static Task UntilAsync(Func<bool> condition) => UntilAsync(() => Task.FromResult(condition()));

    private static async Task UntilAsync(Func<Task<bool>> condition)
    {
        while (!await condition())
        {
            await Task.Delay(50);
        }
    }

    private static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            await Task.Delay(50);
        }
    }

    private static async Task CrossesLiveAsync(RawChatClient from, RawChatClient to, string room)
    {
        for (var active = true; ; active = !active)
        {
            await from.RequestAsync(new ClientFrame { Type = FrameTypes.Typing, Room = room, Active = active });
            if (await to.TryWaitForEventAsync(e => e.Type == FrameTypes.Typing && e.User == from.User && e.Active == active, TimeSpan.FromSeconds(1)) is not null)
            {
                return;
            }
        }
    }
}
