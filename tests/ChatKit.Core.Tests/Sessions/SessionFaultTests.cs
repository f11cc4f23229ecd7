using System.Text;
using ChatKit.Backplane;
using ChatKit.Core.Tests.Infrastructure;
using ChatKit.Engine;
using ChatKit.Model;
using ChatKit.Protocol;

namespace ChatKit.Core.Tests.Sessions;

/// <summary>Races and faults around a session's life: each test forces one interleaving through a hooked port.</summary>
public sealed class SessionFaultTests
{
    // Membership reads during a hello: 1 = the hello's subscriptions, 2 = the welcome (the presence announcement reads
    // only room ids).
    private const int HelloSubscriptionRead = 1;

    private static readonly ChatUser Alice = new("alice", "Alice");
    private static readonly ChatUser Bob = new("bob", "Bob");

    [Fact(Timeout = 30_000)]
    public async Task A_message_stored_while_the_hello_runs_reaches_a_resuming_client_once()
    {
        var store = new HookedStore();
        using var harness = new CoreHarness(store: store);
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, ["bob"], encrypted: false, CancellationToken.None);
        store.AfterMembershipsRead = async call =>
        {
            if (call == HelloSubscriptionRead)
            {
                await harness.Engine.SendAsync(Alice, room.Id, "during", "sent during the hello", CancellationToken.None);
            }
        };
        var transport = new RecordingTransport();
        await using var session = harness.NewSession(Bob, transport);
        _ = session.RunAsync(CancellationToken.None);

        await session.HandleFrameAsync(Frame(new ClientFrame { Type = FrameTypes.Hello, Id = "h", Resume = new Dictionary<string, long> { [room.Id] = 0 } }), CancellationToken.None);
        store.AfterMembershipsRead = null;
        await harness.Engine.SendAsync(Alice, room.Id, "after", "sent after", CancellationToken.None);

        var frames = await transport.NextAsync(3);
        Assert.Equal("h", frames[0].Re);
        Assert.Equal(["sent during the hello", "sent after"], frames.Skip(1).Select(f => f.Body));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_user_removed_while_the_hello_runs_gets_no_events_of_that_room()
    {
        var store = new HookedStore();
        using var harness = new CoreHarness(store: store);
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, ["bob"], encrypted: false, CancellationToken.None);
        var other = await harness.Engine.CreateRoomAsync(Alice, "other", null, ["bob"], encrypted: false, CancellationToken.None);
        store.AfterMembershipsRead = async call =>
        {
            if (call == HelloSubscriptionRead)
            {
                await harness.Engine.RemoveMemberAsync(Alice, room.Id, "bob", CancellationToken.None);
            }
        };
        var transport = new RecordingTransport();
        await using var session = harness.NewSession(Bob, transport);
        _ = session.RunAsync(CancellationToken.None);
        await session.HandleFrameAsync(Frame(new ClientFrame { Type = FrameTypes.Hello, Id = "h" }), CancellationToken.None);
        store.AfterMembershipsRead = null;

        await harness.Engine.SetTypingAsync(Alice, room.Id, active: true, CancellationToken.None);
        await harness.Engine.SendAsync(Alice, room.Id, "secret", "not for bob", CancellationToken.None);
        await harness.Engine.SendAsync(Alice, other.Id, "marker", "for bob", CancellationToken.None);

        var welcome = await transport.NextAsync();
        Assert.Equal([other.Id], welcome.Rooms!.Select(r => r.Id));
        var next = await transport.NextAsync();
        Assert.Equal(("for bob", other.Id), (next.Body, next.Room));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_hello_that_fails_half_way_answers_once_and_can_be_retried()
    {
        var store = new HookedStore();
        using var harness = new CoreHarness(store: store);
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, ["bob"], encrypted: false, CancellationToken.None);
        store.FailMembershipsRead = call => call == HelloSubscriptionRead ? new ChatException(ChatErrorCodes.Unavailable, "database down") : null;
        var transport = new RecordingTransport();
        await using var session = harness.NewSession(Bob, transport);
        _ = session.RunAsync(CancellationToken.None);

        await session.HandleFrameAsync(Frame(new ClientFrame { Type = FrameTypes.Hello, Id = "h1" }), CancellationToken.None);
        store.FailMembershipsRead = null;
        await session.HandleFrameAsync(Frame(new ClientFrame { Type = FrameTypes.Hello, Id = "h2" }), CancellationToken.None);
        await harness.Engine.SendAsync(Alice, room.Id, "c1", "arrives", CancellationToken.None);

        var frames = await transport.NextAsync(3);
        Assert.Equal(("h1", ChatErrorCodes.Unavailable), (frames[0].Re, frames[0].Code));
        Assert.Equal(("h2", FrameTypes.Reply), (frames[1].Re, frames[1].Type));
        Assert.Equal("arrives", frames[2].Body);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_session_torn_down_while_its_hello_runs_leaves_no_registration_and_the_user_offline()
    {
        var store = new HookedStore();
        using var harness = new CoreHarness(store: store);
        var inHello = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.AfterRoomIdsRead = async () =>
        {
            if (inHello.TrySetResult())
            {
                await release.Task;
            }
        };
        var session = harness.NewSession(Bob, new RecordingTransport());
        var hello = session.HandleFrameAsync(Frame(new ClientFrame { Type = FrameTypes.Hello, Id = "h" }), CancellationToken.None).AsTask();
        await inHello.Task;

        await session.DisposeAsync();
        release.SetResult();
        await hello;

        Assert.Empty(harness.Registry.SessionsOf("bob"));
        Assert.False(Assert.Single(await harness.Engine.GetPresenceAsync(["bob"], CancellationToken.None)).Online);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_session_removed_during_a_room_join_fan_out_is_not_brought_back()
    {
        var backplane = new HookedBackplane();
        using var harness = new CoreHarness(backplane: backplane);
        backplane.Receiver = harness.Registry;
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", "public", null, encrypted: false, CancellationToken.None);
        await using var first = harness.NewSession(Bob, new RecordingTransport());
        await using var second = harness.NewSession(Bob, new RecordingTransport());
        await first.HandleFrameAsync(Frame(new ClientFrame { Type = FrameTypes.Hello, Id = "h" }), CancellationToken.None);
        await second.HandleFrameAsync(Frame(new ClientFrame { Type = FrameTypes.Hello, Id = "h" }), CancellationToken.None);
        backplane.OnSubscribeRoom = id =>
        {
            if (id == room.Id)
            {
                harness.Registry.Remove(second);
            }
        };

        await harness.Engine.JoinAsync(Bob, room.Id, CancellationToken.None);
        backplane.OnSubscribeRoom = null;
        await harness.Engine.SendAsync(Alice, room.Id, "c1", "hello", CancellationToken.None);

        Assert.Equal([first], harness.Registry.SessionsOf("bob"));
        Assert.Empty(second.SubscribedRooms);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_gap_the_store_cannot_fill_closes_the_connection_for_a_resume_instead_of_skipping_it()
    {
        using var harness = new CoreHarness();
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, ["bob"], encrypted: false, CancellationToken.None);
        var transport = new RecordingTransport();
        await using var session = harness.NewSession(Bob, transport);
        var writer = session.RunAsync(CancellationToken.None);
        await session.HandleFrameAsync(Frame(new ClientFrame { Type = FrameTypes.Hello, Id = "h" }), CancellationToken.None);
        await transport.NextAsync();

        // Sequence 3 arrives live from another node before 1 and 2 are readable here.
        harness.Registry.Receive(new BackplaneMessage(BackplaneMessageKind.RoomFrame, room.Id, room.Id, 3, ProtocolJson.Serialize(new ServerFrame { Type = FrameTypes.Message, Room = room.Id, Seq = 3, Body = "m3" })));
        await writer.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(ChatCloseCodes.ResumeRequired, transport.CloseCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task Cancelling_the_connection_ends_a_writer_that_waits_on_an_empty_queue_and_drops_the_socket()
    {
        using var harness = new CoreHarness();
        var transport = new RecordingTransport();
        await using var session = harness.NewSession(Bob, transport);
        using var connection = new CancellationTokenSource();
        var writer = session.RunAsync(connection.Token);
        await session.HandleFrameAsync(Frame(new ClientFrame { Type = FrameTypes.Hello, Id = "h" }), CancellationToken.None);
        await transport.NextAsync();

        await connection.CancelAsync();
        await writer.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(transport.Aborted);
        Assert.Null(transport.CloseCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_writer_started_on_a_cancelled_connection_sends_nothing_queued_and_drops_the_socket()
    {
        using var harness = new CoreHarness();
        var transport = new RecordingTransport();
        await using var session = harness.NewSession(Bob, transport);
        session.Close(ChatCloseCodes.HelloTimeout, "hello_timeout");
        using var connection = new CancellationTokenSource();
        await connection.CancelAsync();

        await session.RunAsync(connection.Token).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(transport.Aborted);
        Assert.Null(transport.CloseCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task Malformed_frames_count_against_the_rate_limit()
    {
        using var harness = new CoreHarness(o =>
        {
            o.RatePerSecond = 1;
            o.RateBurst = 2;
        });
        var transport = new RecordingTransport();
        await using var session = harness.NewSession(Alice, transport);
        _ = session.RunAsync(CancellationToken.None);

        for (var i = 0; i < 5; i++)
        {
            await session.HandleFrameAsync(Encoding.UTF8.GetBytes("{\"type\":\"ping\"}"), CancellationToken.None);
        }

        var codes = (await transport.NextAsync(5)).Select(f => f.Code).ToList();
        Assert.Equal([ChatErrorCodes.MissingField, ChatErrorCodes.MissingField, ChatErrorCodes.RateLimited, ChatErrorCodes.RateLimited, ChatErrorCodes.RateLimited], codes);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_port_that_gives_up_yields_unavailable_and_the_connection_keeps_working()
    {
        var store = new HookedStore();
        using var harness = new CoreHarness(store: store);
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, null, encrypted: false, CancellationToken.None);
        var transport = new RecordingTransport();
        await using var session = harness.NewSession(Alice, transport);
        _ = session.RunAsync(CancellationToken.None);
        await session.HandleFrameAsync(Frame(new ClientFrame { Type = FrameTypes.Hello, Id = "h" }), CancellationToken.None);
        await transport.NextAsync();

        store.FailRoomReads = new TaskCanceledException("command timeout");
        await session.HandleFrameAsync(Frame(new ClientFrame { Type = FrameTypes.Send, Id = "s1", Room = room.Id, Cmid = "c", Body = "x" }), CancellationToken.None);
        store.FailRoomReads = null;
        await session.HandleFrameAsync(Frame(new ClientFrame { Type = FrameTypes.Send, Id = "s2", Room = room.Id, Cmid = "c", Body = "x" }), CancellationToken.None);

        var frames = await transport.NextAsync(3);
        Assert.Equal(("s1", ChatErrorCodes.Unavailable), (frames[0].Re, frames[0].Code));
        Assert.Contains(frames, f => f.Re == "s2" && f.Type == FrameTypes.Reply && f.Seq == 1);
    }

    private static ReadOnlyMemory<byte> Frame(ClientFrame frame) => ProtocolJson.Serialize(frame);
}
