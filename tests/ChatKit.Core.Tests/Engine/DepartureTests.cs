using System.Collections.Concurrent;
using ChatKit.Core.Tests.Infrastructure;
using ChatKit.Engine;
using ChatKit.Model;
using ChatKit.Protocol;
using ChatKit.Sessions;

namespace ChatKit.Core.Tests.Engine;

/// <summary>Users going offline: last seen and offline presence, written in batches.</summary>
public sealed class DepartureTests
{
    private static readonly ChatUser Alice = new("alice", "Alice");
    private static readonly ChatUser Bob = new("bob", "Bob");

    [Fact(Timeout = 30_000)]
    public async Task Users_who_leave_while_a_batch_is_written_are_written_together_in_the_next_one()
    {
        var store = new HookedStore();
        using var harness = new CoreHarness(store: store);
        var batches = new ConcurrentQueue<int>();
        var writing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.BeforeLastSeenWrite = async users =>
        {
            batches.Enqueue(users.Count);
            if (writing.TrySetResult())
            {
                await release.Task;
            }
        };
        var users = Enumerable.Range(0, 51).Select(i => new ChatUser($"u{i}", $"User {i}")).ToList();
        foreach (var user in users)
        {
            await harness.Engine.UserConnectedAsync(user, "c_" + user.Id, CancellationToken.None);
        }

        var first = harness.Engine.UserDisconnectedAsync(users[0], "c_u0", CancellationToken.None);
        await writing.Task;
        // The in-memory presence tracker answers at once, so each of these is queued before the call returns.
        var rest = users.Skip(1).Select(u => harness.Engine.UserDisconnectedAsync(u, "c_" + u.Id, CancellationToken.None)).ToList();
        release.SetResult();
        await Task.WhenAll(rest.Append(first));

        Assert.Equal([1, 50], batches);
        var profiles = await harness.Store.GetUsersAsync(users.Select(u => u.Id).ToList(), CancellationToken.None);
        Assert.Equal(51, profiles.Count(p => p.LastSeen == harness.Time.GetUtcNow()));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_user_back_online_before_their_departure_is_written_is_not_announced_offline()
    {
        var store = new HookedStore();
        using var harness = new CoreHarness(store: store);
        var room = await harness.Engine.CreateRoomAsync(Alice, "r", null, ["bob"], encrypted: false, CancellationToken.None);
        var (alice, watcher) = await ConnectAsync(harness, Alice);
        await using var _ = alice;
        await harness.Engine.UserConnectedAsync(Bob, "b1", CancellationToken.None);
        var writing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.BeforeLastSeenWrite = async _ =>
        {
            writing.TrySetResult();
            await release.Task;
        };

        var leaving = harness.Engine.UserDisconnectedAsync(Bob, "b1", CancellationToken.None);
        await writing.Task;
        await harness.Engine.UserConnectedAsync(Bob, "b2", CancellationToken.None);
        release.SetResult();
        await leaving;
        await harness.Engine.SendAsync(Alice, room.Id, "marker", "after bob's departure was written", CancellationToken.None);

        var frames = await watcher.NextAsync(3);
        Assert.Equal([(FrameTypes.Presence, (bool?)true), (FrameTypes.Presence, true)], frames.Take(2).Select(f => (f.Type, f.Online)));
        Assert.Equal("after bob's departure was written", frames[2].Body);
        Assert.Equal(harness.Time.GetUtcNow(), Assert.Single(await harness.Store.GetUsersAsync(["bob"], CancellationToken.None)).LastSeen);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_user_whose_last_seen_cannot_be_stored_is_still_announced_offline()
    {
        var store = new HookedStore();
        using var harness = new CoreHarness(store: store);
        await harness.Engine.CreateRoomAsync(Alice, "r", null, ["bob"], encrypted: false, CancellationToken.None);
        var (alice, watcher) = await ConnectAsync(harness, Alice);
        await using var _ = alice;
        await harness.Engine.UserConnectedAsync(Bob, "b1", CancellationToken.None);
        store.FailLastSeenWrites = new ChatException(ChatErrorCodes.Unavailable, "database down");

        await harness.Engine.UserDisconnectedAsync(Bob, "b1", CancellationToken.None);

        var frames = await watcher.NextAsync(2);
        Assert.Equal([("bob", (bool?)true), ("bob", false)], frames.Select(f => (f.User, f.Online)));
        Assert.Equal(harness.Time.GetUtcNow(), frames[1].LastSeen);
    }

    private static async Task<(ChatSession Session, RecordingTransport Transport)> ConnectAsync(CoreHarness harness, ChatUser user)
    {
        var transport = new RecordingTransport();
        var session = harness.NewSession(user, transport);
        _ = session.RunAsync(CancellationToken.None);
        await session.HandleFrameAsync(ProtocolJson.Serialize(new ClientFrame { Type = FrameTypes.Hello, Id = "h" }), CancellationToken.None);
        Assert.Equal("h", (await transport.NextAsync()).Re);
        return (session, transport);
    }
}
