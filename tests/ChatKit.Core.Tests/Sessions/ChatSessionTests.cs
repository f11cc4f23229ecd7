using ChatKit.Backplane;
using ChatKit.Core.Tests.Infrastructure;
using ChatKit.Model;
using ChatKit.Protocol;

namespace ChatKit.Core.Tests.Sessions;

public sealed class ChatSessionTests
{
    private static readonly ChatUser Alice = new("alice", "Alice");
    private static readonly ChatUser Bob = new("bob", "Bob");

    [Fact(Timeout = 30_000)]
    public async Task Room_messages_reach_the_client_once_in_sequence_order_with_gaps_filled_from_the_store()
    {
        using var harness = new CoreHarness();
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, ["bob"], encrypted: false, CancellationToken.None);
        var transport = new RecordingTransport();
        await using var session = harness.NewSession(Bob, transport);
        var writer = session.RunAsync(CancellationToken.None);
        await session.HandleFrameAsync(ProtocolJson.Serialize(new ClientFrame { Type = FrameTypes.Hello, Id = "h" }), CancellationToken.None);
        Assert.Equal("h", (await transport.NextAsync()).Re);

        // Stored without fan-out, as if the live copies were lost or are still on their way from another node.
        for (var i = 1; i <= 5; i++)
        {
            await harness.Store.AppendMessageAsync(new NewMessage(room.Id, $"c{i}", "alice", $"m{i}", harness.Time.GetUtcNow()), CancellationToken.None);
        }

        foreach (var seq in new long[] { 3, 2, 5, 4, 3 })
        {
            harness.Registry.Receive(new BackplaneMessage(BackplaneMessageKind.RoomFrame, room.Id, room.Id, seq, ProtocolJson.Serialize(new ServerFrame
            {
                Type = FrameTypes.Message,
                Room = room.Id,
                Seq = seq,
                Cmid = $"c{seq}",
                Sender = "alice",
                Body = $"m{seq}",
            })));
        }

        var received = await transport.NextAsync(5);
        Assert.Equal([1L, 2L, 3L, 4L, 5L], received.Select(f => f.Seq!.Value));
        Assert.Equal(["m1", "m2", "m3", "m4", "m5"], received.Select(f => f.Body));

        session.Close(1000, "done");
        await writer.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1000, transport.CloseCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_room_joined_mid_connection_delivers_everything_stored_after_the_join_even_if_published_before_the_subscription()
    {
        using var harness = new CoreHarness();
        var transport = new RecordingTransport();
        await using var session = harness.NewSession(Bob, transport);
        _ = session.RunAsync(CancellationToken.None);
        await session.HandleFrameAsync(ProtocolJson.Serialize(new ClientFrame { Type = FrameTypes.Hello, Id = "h" }), CancellationToken.None);
        await transport.NextAsync();

        // The room exists with one message before bob joins; two more are stored after, but their live copies went out
        // before bob's session heard of the room.
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, null, encrypted: false, CancellationToken.None);
        await harness.Engine.SendAsync(Alice, room.Id, "c1", "before the join", CancellationToken.None);
        await harness.Store.AddMemberAsync(new RoomMember(room.Id, "bob", MemberRole.Member, harness.Time.GetUtcNow()), CancellationToken.None);
        await harness.Engine.SendAsync(Alice, room.Id, "c2", "just after", CancellationToken.None);
        await harness.Engine.SendAsync(Alice, room.Id, "c3", "also after", CancellationToken.None);
        harness.Registry.Receive(new BackplaneMessage(BackplaneMessageKind.RoomJoined, "bob", room.Id, 1, ProtocolJson.Serialize(new ServerFrame { Type = FrameTypes.RoomAdded, Info = room })));
        await harness.Engine.SendAsync(Alice, room.Id, "c4", "live", CancellationToken.None);

        var frames = await transport.NextAsync(4);
        Assert.Equal(FrameTypes.RoomAdded, frames[0].Type);
        Assert.Equal(["just after", "also after", "live"], frames.Skip(1).Select(f => f.Body));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_client_that_falls_behind_is_cut_off_at_the_outbound_limit_without_queuing_more()
    {
        using var harness = new CoreHarness(o => o.MaxOutboundBufferBytes = 4096);
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, ["bob"], encrypted: false, CancellationToken.None);
        var transport = new RecordingTransport();
        await using var session = harness.NewSession(Bob, transport);
        await session.HandleFrameAsync(ProtocolJson.Serialize(new ClientFrame { Type = FrameTypes.Hello, Id = "h" }), CancellationToken.None);

        // The writer is not running, so nothing drains: the queue grows until the limit.
        for (var i = 0; i < 100 && !session.Overflowed; i++)
        {
            await harness.Engine.SendAsync(Alice, room.Id, $"c{i}", new string('x', 500), CancellationToken.None);
        }

        Assert.True(session.Overflowed);
        Assert.InRange(session.PeakPendingBytes, 1, 4096);
    }

    [Fact(Timeout = 30_000)]
    public async Task Frames_past_the_rate_limit_are_refused_until_tokens_refill()
    {
        using var harness = new CoreHarness(o =>
        {
            o.RatePerSecond = 1;
            o.RateBurst = 2;
        });
        var transport = new RecordingTransport();
        await using var session = harness.NewSession(Alice, transport);
        _ = session.RunAsync(CancellationToken.None);
        await session.HandleFrameAsync(ProtocolJson.Serialize(new ClientFrame { Type = FrameTypes.Hello, Id = "h" }), CancellationToken.None);
        await transport.NextAsync();

        await session.HandleFrameAsync(ProtocolJson.Serialize(new ClientFrame { Type = FrameTypes.Ping, Id = "p1" }), CancellationToken.None);
        await session.HandleFrameAsync(ProtocolJson.Serialize(new ClientFrame { Type = FrameTypes.Ping, Id = "p2" }), CancellationToken.None);
        var limited = await transport.NextAsync();
        harness.Time.Advance(TimeSpan.FromSeconds(1));
        await session.HandleFrameAsync(ProtocolJson.Serialize(new ClientFrame { Type = FrameTypes.Ping, Id = "p3" }), CancellationToken.None);

        Assert.Equal(("p1", FrameTypes.Reply), (limited.Re, limited.Type));
        var second = await transport.NextAsync();
        Assert.Equal(("p2", ChatErrorCodes.RateLimited), (second.Re, second.Code));
        Assert.Equal(1000, second.RetryAfterMs);
        Assert.Equal(("p3", FrameTypes.Reply), ((await transport.NextAsync()).Re, FrameTypes.Reply));
    }
}
