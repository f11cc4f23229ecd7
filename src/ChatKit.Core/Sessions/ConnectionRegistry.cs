using System.Collections.Concurrent;
using System.Collections.Immutable;
using ChatKit.Backplane;
using ChatKit.Engine;
using Microsoft.Extensions.Logging;

namespace ChatKit.Sessions;

/// <summary>
/// This node's open sessions, by user and by room, and the <see cref="IBackplaneReceiver"/> that hands arriving
/// traffic to them. Fan-out reads lock-free; subscription changes take one lock.
/// </summary>
public sealed partial class ConnectionRegistry : IBackplaneReceiver
{
    private readonly Lock _sync = new();
    private readonly ConcurrentDictionary<string, ImmutableArray<ChatSession>> _byRoom = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ImmutableArray<ChatSession>> _byUser = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Task> _roomReady = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Task> _userReady = new(StringComparer.Ordinal);
    private readonly Lazy<IChatBackplane> _backplane;
    private readonly RoomMembershipCache _memberships;
    private readonly ILogger<ConnectionRegistry> _logger;

    /// <summary>Creates the registry. The backplane is resolved lazily because it delivers back into this registry.</summary>
    public ConnectionRegistry(Lazy<IChatBackplane> backplane, RoomMembershipCache memberships, ILogger<ConnectionRegistry> logger)
    {
        _backplane = backplane;
        _memberships = memberships;
        _logger = logger;
    }

    /// <summary>The number of open sessions on this node that said hello.</summary>
    public int Count => _byUser.Values.Sum(s => s.Length);

    /// <summary>The sessions of a user on this node.</summary>
    public IReadOnlyList<ChatSession> SessionsOf(string userId) =>
        _byUser.TryGetValue(userId, out var sessions) ? sessions : [];

    /// <inheritdoc />
    public void Receive(BackplaneMessage message)
    {
        if (message is { Kind: BackplaneMessageKind.RoomLeft or BackplaneMessageKind.RoomJoined, RoomId: not null })
        {
            // A membership changed, possibly on another node: this node must not act on what it remembers of it.
            _memberships.Forget(message.RoomId, message.Target);
        }

        switch (message.Kind)
        {
            case BackplaneMessageKind.RoomFrame when _byRoom.TryGetValue(message.Target, out var sessions):
                foreach (var session in sessions)
                {
                    session.EnqueueRoomFrame(message.Target, message.Sequence, message.Frame);
                }

                break;
            case BackplaneMessageKind.UserFrame when _byUser.TryGetValue(message.Target, out var sessions):
                foreach (var session in sessions)
                {
                    session.EnqueueEvent(message.Frame);
                }

                break;
            case BackplaneMessageKind.RoomJoined when message.RoomId is not null && _byUser.TryGetValue(message.Target, out var sessions):
                foreach (var session in sessions)
                {
                    var ready = Subscribe(session, message.RoomId);
                    session.EnqueueSubscribe(message.RoomId, message.Sequence, message.Frame, ready);
                }

                break;
            case BackplaneMessageKind.RoomLeft when message.RoomId is not null && _byUser.TryGetValue(message.Target, out var sessions):
                foreach (var session in sessions)
                {
                    Unsubscribe(session, message.RoomId);
                    session.EnqueueUnsubscribe(message.RoomId, message.Frame);
                }

                break;
        }
    }

    /// <inheritdoc />
    public bool HasRoom(string roomId) => _byRoom.ContainsKey(roomId);

    /// <inheritdoc />
    public bool HasUser(string userId) => _byUser.ContainsKey(userId);

    /// <inheritdoc />
    public void Resynchronize()
    {
        foreach (var sessions in _byUser.Values)
        {
            foreach (var session in sessions)
            {
                session.EnqueueCatchUp();
            }
        }
    }

    /// <summary>
    /// Adds a session that said hello; it receives its user's traffic once <paramref name="ready"/> completes. Returns
    /// <see langword="false"/> when the session was already removed (torn down while its hello was running).
    /// Adding twice is harmless.
    /// </summary>
    internal bool Add(ChatSession session, out Task ready)
    {
        TaskCompletionSource? started = null;
        lock (_sync)
        {
            if (session.Unregistered)
            {
                ready = Task.CompletedTask;
                return false;
            }

            if (_byUser.TryGetValue(session.User.Id, out var existing) && existing.Contains(session))
            {
                ready = Ready(_userReady, session.User.Id);
                return true;
            }

            ready = AddTo(_byUser, session.User.Id, session) ? Starting(_userReady, session.User.Id, out started) : Ready(_userReady, session.User.Id);
        }

        if (started is not null)
        {
            Change(static (backplane, user) => backplane.SubscribeUserAsync(user, CancellationToken.None), session.User.Id, started);
        }

        return true;
    }

    /// <summary>Removes a session and all its room subscriptions, for good.</summary>
    internal void Remove(ChatSession session)
    {
        var emptiedRooms = new List<string>();
        bool lastOfUser;
        lock (_sync)
        {
            session.Unregistered = true;
            foreach (var room in session.SubscribedRooms)
            {
                if (RemoveFrom(_byRoom, room, session))
                {
                    _roomReady.Remove(room);
                    emptiedRooms.Add(room);
                }
            }

            session.SubscribedRooms.Clear();
            lastOfUser = RemoveFrom(_byUser, session.User.Id, session);
            if (lastOfUser)
            {
                _userReady.Remove(session.User.Id);
            }
        }

        foreach (var room in emptiedRooms)
        {
            Change(static (backplane, room) => backplane.UnsubscribeRoomAsync(room, CancellationToken.None), room, done: null);
        }

        if (lastOfUser)
        {
            Change(static (backplane, user) => backplane.UnsubscribeUserAsync(user, CancellationToken.None), session.User.Id, done: null);
        }
    }

    /// <summary>Makes the session's room subscriptions exactly <paramref name="roomIds"/>.</summary>
    internal void Reconcile(ChatSession session, IEnumerable<string> roomIds)
    {
        var wanted = roomIds.ToHashSet(StringComparer.Ordinal);
        List<string> stale;
        lock (_sync)
        {
            stale = session.SubscribedRooms.Where(r => !wanted.Contains(r)).ToList();
        }

        foreach (var room in stale)
        {
            Unsubscribe(session, room);
        }

        foreach (var room in wanted)
        {
            _ = Subscribe(session, room);
        }
    }

    /// <summary>
    /// Delivers a room's traffic to the session; the returned task completes once the backplane carries the room to
    /// this node. It never fails: a subscription the backplane could not make is logged, and the backplane
    /// resynchronizes the connections when it is back.
    /// </summary>
    internal Task Subscribe(ChatSession session, string roomId)
    {
        TaskCompletionSource? started = null;
        Task ready;
        lock (_sync)
        {
            if (session.Unregistered || !session.SubscribedRooms.Add(roomId))
            {
                return Ready(_roomReady, roomId);
            }

            ready = AddTo(_byRoom, roomId, session) ? Starting(_roomReady, roomId, out started) : Ready(_roomReady, roomId);
        }

        if (started is not null)
        {
            Change(static (backplane, room) => backplane.SubscribeRoomAsync(room, CancellationToken.None), roomId, started);
        }

        return ready;
    }

    /// <summary>Stops delivering a room's traffic to the session.</summary>
    internal void Unsubscribe(ChatSession session, string roomId)
    {
        bool last;
        lock (_sync)
        {
            if (!session.SubscribedRooms.Remove(roomId))
            {
                return;
            }

            last = RemoveFrom(_byRoom, roomId, session);
            if (last)
            {
                _roomReady.Remove(roomId);
            }
        }

        if (last)
        {
            Change(static (backplane, room) => backplane.UnsubscribeRoomAsync(room, CancellationToken.None), roomId, done: null);
        }
    }

    private static Task Starting(Dictionary<string, Task> readiness, string target, out TaskCompletionSource started)
    {
        started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        readiness[target] = started.Task;
        return started.Task;
    }

    private static Task Ready(Dictionary<string, Task> readiness, string target) =>
        readiness.GetValueOrDefault(target) ?? Task.CompletedTask;

    private static bool AddTo(ConcurrentDictionary<string, ImmutableArray<ChatSession>> map, string key, ChatSession session)
    {
        if (map.TryGetValue(key, out var sessions))
        {
            map[key] = sessions.Add(session);
            return false;
        }

        map[key] = [session];
        return true;
    }

    private static bool RemoveFrom(ConcurrentDictionary<string, ImmutableArray<ChatSession>> map, string key, ChatSession session)
    {
        if (!map.TryGetValue(key, out var sessions))
        {
            return false;
        }

        var remaining = sessions.Remove(session);
        if (remaining.IsEmpty)
        {
            map.TryRemove(key, out _);
            return true;
        }

        map[key] = remaining;
        return false;
    }

    /// <summary>
    /// Runs a backplane subscription change and then completes <paramref name="done"/>, success or not: a failure
    /// is logged, never thrown into fan-out or a hello.
    /// </summary>
    private void Change(Func<IChatBackplane, string, ValueTask> change, string target, TaskCompletionSource? done)
    {
        ValueTask pending;
        try
        {
            pending = change(_backplane.Value, target);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogSubscriptionFailed(_logger, ex, target);
            done?.TrySetResult();
            return;
        }

        if (pending.IsCompletedSuccessfully)
        {
            done?.TrySetResult();
            return;
        }

        _ = ObserveAsync(pending, target, done);
    }

    private async Task ObserveAsync(ValueTask task, string target, TaskCompletionSource? done)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogSubscriptionFailed(_logger, ex, target);
        }
        finally
        {
            done?.TrySetResult();
        }
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Backplane subscription change for {Target} failed; clients resume from the store when they reconnect")]
    private static partial void LogSubscriptionFailed(ILogger logger, Exception exception, string target);
}
