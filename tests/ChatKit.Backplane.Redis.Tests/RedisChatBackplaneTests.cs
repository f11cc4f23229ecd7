using ChatKit.Backplane.Redis.Options;
using ChatKit.Backplane.Redis.Tests.Infrastructure;
using ChatKit.Core.Tests.Backplane;
using ChatKit.Core.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace ChatKit.Backplane.Redis.Tests;

[Collection(RedisGroup.Name)]
public sealed class RedisChatBackplaneTests(RedisFixture redis) : ChatBackplaneSpecification, IAsyncLifetime
{
    private readonly string _prefix = "t" + Guid.NewGuid().ToString("N")[..12];
    private readonly List<RedisConnection> _connections = [];

    [Fact(Timeout = 30_000)]
    public async Task A_node_gets_a_rooms_traffic_only_while_it_has_connections_in_it()
    {
        var a = new RecordingReceiver();
        var b = new RecordingReceiver();
        var nodeA = await CreateNodeAsync(a);
        var nodeB = await CreateNodeAsync(b);
        b.Rooms["r"] = true;
        b.Users["bob"] = true;
        await nodeB.SubscribeRoomAsync("r", CancellationToken.None);
        await nodeB.SubscribeUserAsync("bob", CancellationToken.None);

        await nodeA.PublishAsync(new BackplaneMessage(BackplaneMessageKind.RoomFrame, "r", "r", 1, "while there"u8.ToArray()), CancellationToken.None);
        Assert.Equal(1, (await b.NextAsync()).Sequence);

        b.Rooms.TryRemove("r", out _);
        await nodeB.UnsubscribeRoomAsync("r", CancellationToken.None);
        await nodeA.PublishAsync(new BackplaneMessage(BackplaneMessageKind.RoomFrame, "r", "r", 2, "after leaving"u8.ToArray()), CancellationToken.None);
        await nodeA.PublishAsync(new BackplaneMessage(BackplaneMessageKind.UserFrame, "bob", null, 0, "marker"u8.ToArray()), CancellationToken.None);

        // Redis delivers one publisher's messages in order: the marker arriving first means the room's never will.
        var next = await b.NextAsync();
        Assert.Equal((BackplaneMessageKind.UserFrame, "bob"), (next.Kind, next.Target));
    }

    [Fact(Timeout = 30_000)]
    public async Task Subscription_changes_that_arrive_out_of_order_end_in_the_state_the_node_wants()
    {
        var a = new RecordingReceiver();
        var b = new RecordingReceiver();
        var nodeA = await CreateNodeAsync(a);
        var nodeB = await CreateNodeAsync(b);

        // The registry left the room and came back at once; its two calls reach the backplane the wrong way round.
        b.Rooms["r"] = true;
        await Task.WhenAll(nodeB.SubscribeRoomAsync("r", CancellationToken.None).AsTask(), nodeB.UnsubscribeRoomAsync("r", CancellationToken.None).AsTask());
        await nodeB.UnsubscribeRoomAsync("r", CancellationToken.None);

        await nodeA.PublishAsync(new BackplaneMessage(BackplaneMessageKind.RoomFrame, "r", "r", 7, "still wanted"u8.ToArray()), CancellationToken.None);
        Assert.Equal(7, (await b.NextAsync()).Sequence);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_node_does_not_get_its_own_publishes_back_from_redis()
    {
        var a = new RecordingReceiver();
        var b = new RecordingReceiver();
        var nodeA = await CreateNodeAsync(a);
        var nodeB = await CreateNodeAsync(b);
        a.Rooms["r"] = true;
        b.Rooms["r"] = true;
        await nodeA.SubscribeRoomAsync("r", CancellationToken.None);
        await nodeB.SubscribeRoomAsync("r", CancellationToken.None);

        await nodeA.PublishAsync(new BackplaneMessage(BackplaneMessageKind.RoomFrame, "r", "r", 1, "from a"u8.ToArray()), CancellationToken.None);
        Assert.Equal(1, (await b.NextAsync()).Sequence);
        await nodeB.PublishAsync(new BackplaneMessage(BackplaneMessageKind.RoomFrame, "r", "r", 2, "from b"u8.ToArray()), CancellationToken.None);

        // Redis sent A's publish to its subscribers before B's: an echo of it would arrive before B's message.
        Assert.Equal([1L, 2L], (await a.UntilAsync(m => m.Sequence == 2)).Select(m => m.Sequence));
    }

    // Subscribing at once races StackExchange.Redis noticing the loss: the SUBSCRIBE fails, or waits in its queue until
    // Redis is back. Once it has noticed, it completes the subscribe at once and makes it later. All must end subscribed
    // exactly once.
    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_subscription_made_while_redis_was_away_is_made_once_when_it_is_back(bool lossNoticed)
    {
        await using var server = await RedisServer.StartAsync();
        var a = new RecordingReceiver();
        var b = new RecordingReceiver();
        var nodeA = await CreateNodeAsync(a, server.ConnectionString);
        var nodeB = await CreateNodeAsync(b, server.ConnectionString);
        var (connectionA, connectionB) = (_connections[0], _connections[1]);

        await server.StopAsync();
        while (lossNoticed && connectionB.IsConnected)
        {
            await Task.Delay(20);
        }

        b.Rooms["r"] = true;
        var subscribing = nodeB.SubscribeRoomAsync("r", CancellationToken.None).AsTask();
        await server.StartAgainAsync();
        await subscribing;

        // Publishes are lost until both nodes are back; each try has its own sequence, and the first that arrives ends them.
        var attempt = 0L;
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!b.TryTake(out _))
        {
            Assert.False(patience.IsCancellationRequested, $"Nothing arrived on node B after {attempt} publishes (A connected: {connectionA.IsConnected}, B connected: {connectionB.IsConnected}, B resynchronized {b.Resynchronizations} times).");
            await nodeA.PublishAsync(new BackplaneMessage(BackplaneMessageKind.RoomFrame, "r", "r", ++attempt, "try"u8.ToArray()), CancellationToken.None);
            await Task.Delay(100);
        }

        // A try that failed may still be republished later (delivery is at least once; connections drop repeats by
        // sequence). A subscription made twice would deliver every message twice: fresh ones show it. Redis keeps a
        // channel's order, so a second copy of each but the last arrives before the last.
        for (var marker = 1_000L; marker <= 1_004; marker++)
        {
            await nodeA.PublishAsync(new BackplaneMessage(BackplaneMessageKind.RoomFrame, "r", "r", marker, "marker"u8.ToArray()), CancellationToken.None);
        }

        var rest = await b.UntilAsync(m => m.Sequence == 1_004);
        Assert.Equal([1_000L, 1_001, 1_002, 1_003, 1_004], rest.Where(m => m.Sequence >= 1_000).Select(m => m.Sequence));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            connection.Dispose();
        }

        return Task.CompletedTask;
    }

    private protected override Task<IChatBackplane> CreateNodeAsync(RecordingReceiver receiver) => CreateNodeAsync(receiver, redis.ConnectionString);

    private async Task<IChatBackplane> CreateNodeAsync(RecordingReceiver receiver, string connectionString)
    {
        var options = Microsoft.Extensions.Options.Options.Create(new RedisBackplaneOptions { ConnectionString = connectionString, ChannelPrefix = _prefix });
        var connection = new RedisConnection(options, NullLogger<RedisConnection>.Instance);
        _connections.Add(connection);
        await connection.ConnectAsync(CancellationToken.None);
        return new RedisChatBackplane(connection, receiver, NullLogger<RedisChatBackplane>.Instance);
    }
}
