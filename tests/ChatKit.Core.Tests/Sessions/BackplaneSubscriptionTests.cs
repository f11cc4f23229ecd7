using ChatKit.Core.Tests.Infrastructure;
using ChatKit.Model;
using ChatKit.Protocol;

namespace ChatKit.Core.Tests.Sessions;

/// <summary>
/// A cross-node backplane carries a room's traffic only once the node's subscription is in place, and can lose
/// traffic: connections must still get every message once.
/// </summary>
public sealed class BackplaneSubscriptionTests
{
    private static readonly ChatUser Alice = new("alice", "Alice");
    private static readonly ChatUser Bob = new("bob", "Bob");

    [Fact(Timeout = 30_000)]
    public async Task A_hello_waits_for_its_room_subscriptions_so_a_message_sent_meanwhile_is_not_lost()
    {
        var backplane = new GatedBackplane();
        using var harness = new CoreHarness(backplane: backplane);
        var (room, transport, session, hello) = await StartHelloWithHeldRoomAsync(harness, backplane);
        await using var _ = session;
        await harness.Engine.SendAsync(Alice, room.Id, "m1", "sent before the subscription was in place", CancellationToken.None);
        backplane.Open(room.Id);
        await hello;

        var frames = await transport.NextAsync(2);
        Assert.Equal("h", frames[0].Re);
        Assert.Equal(("sent before the subscription was in place", 1L), (frames[1].Body, frames[1].Seq!.Value));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_backplane_that_does_not_answer_holds_up_a_hello_only_until_the_wait_timeout_and_what_went_by_arrives_once_it_answers()
    {
        var backplane = new GatedBackplane();
        using var harness = new CoreHarness(options => options.BackplaneWaitTimeout = TimeSpan.FromSeconds(5), backplane);
        var (room, transport, session, hello) = await StartHelloWithHeldRoomAsync(harness, backplane);
        await using var _ = session;
        harness.Time.Advance(TimeSpan.FromSeconds(5));
        await hello;
        Assert.Equal("h", (await transport.NextAsync()).Re);

        // The room's channel is still missing: this message does not come live; it comes once the channel is there.
        await harness.Engine.SendAsync(Alice, room.Id, "m1", "sent while the backplane did not answer", CancellationToken.None);
        backplane.Open(room.Id);
        var caughtUp = await transport.NextAsync();
        Assert.Equal(("sent while the backplane did not answer", 1L), (caughtUp.Body, caughtUp.Seq!.Value));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_room_joined_while_connected_sends_what_was_stored_before_its_subscription_was_in_place()
    {
        var backplane = new GatedBackplane();
        using var harness = new CoreHarness(backplane: backplane);
        backplane.Receiver = harness.Registry;
        var lobby = await harness.Engine.CreateRoomAsync(Alice, "lobby", null, ["bob"], encrypted: false, CancellationToken.None);
        var transport = new RecordingTransport();
        await using var session = harness.NewSession(Bob, transport);
        _ = session.RunAsync(CancellationToken.None);
        await session.HandleFrameAsync(ProtocolJson.Serialize(new ClientFrame { Type = FrameTypes.Hello, Id = "h" }), CancellationToken.None);
        Assert.Equal("h", (await transport.NextAsync()).Re);

        var room = await harness.Engine.CreateRoomAsync(Alice, "new", null, null, encrypted: false, CancellationToken.None);
        backplane.Held.Add(room.Id);
        await harness.Engine.InviteAsync(Alice, room.Id, "bob", null, CancellationToken.None);
        await backplane.SubscriptionRequested(room.Id);
        var added = await transport.NextAsync();
        await harness.Engine.SendAsync(Alice, room.Id, "m1", "sent while the subscription was being made", CancellationToken.None);
        backplane.Open(room.Id);
        await harness.Engine.SendAsync(Alice, lobby.Id, "m2", "marker", CancellationToken.None);

        var frames = await transport.NextAsync(2);
        Assert.Equal((FrameTypes.RoomAdded, room.Id), (added.Type, added.Info!.Id));
        Assert.Equal(("sent while the subscription was being made", room.Id), (frames[0].Body, frames[0].Room));
        Assert.Equal("marker", frames[1].Body);
    }

    [Fact(Timeout = 30_000)]
    public async Task After_the_backplane_lost_traffic_a_resynchronization_sends_each_connection_what_it_missed()
    {
        var backplane = new GatedBackplane();
        using var harness = new CoreHarness(backplane: backplane);
        backplane.Receiver = harness.Registry;
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, ["bob"], encrypted: false, CancellationToken.None);
        var transport = new RecordingTransport();
        await using var session = harness.NewSession(Bob, transport);
        _ = session.RunAsync(CancellationToken.None);
        await session.HandleFrameAsync(ProtocolJson.Serialize(new ClientFrame { Type = FrameTypes.Hello, Id = "h" }), CancellationToken.None);
        Assert.Equal("h", (await transport.NextAsync()).Re);

        backplane.Losing = true;
        await harness.Engine.SendAsync(Alice, room.Id, "m1", "lost live", CancellationToken.None);
        await harness.Engine.SendAsync(Alice, room.Id, "m2", "lost live too", CancellationToken.None);
        backplane.Losing = false;
        harness.Registry.Resynchronize();

        // Nothing else is sent: only the resynchronization can bring these two.
        var frames = await transport.NextAsync(2);
        Assert.Equal([1L, 2L], frames.Select(f => f.Seq!.Value));
        Assert.Equal(["lost live", "lost live too"], frames.Select(f => f.Body));
    }

    /// <summary>Bob, a member of a new room whose subscription the backplane holds, says hello; it is still waiting.</summary>
    private static async Task<(RoomInfo Room, RecordingTransport Transport, ChatKit.Sessions.ChatSession Session, Task Hello)> StartHelloWithHeldRoomAsync(CoreHarness harness, GatedBackplane backplane)
    {
        backplane.Receiver = harness.Registry;
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, ["bob"], encrypted: false, CancellationToken.None);
        backplane.Held.Add(room.Id);
        var transport = new RecordingTransport();
        var session = harness.NewSession(Bob, transport);
        _ = session.RunAsync(CancellationToken.None);
        var hello = session.HandleFrameAsync(ProtocolJson.Serialize(new ClientFrame { Type = FrameTypes.Hello, Id = "h" }), CancellationToken.None).AsTask();
        await backplane.SubscriptionRequested(room.Id);
        Assert.False(hello.IsCompleted);
        return (room, transport, session, hello);
    }
}
