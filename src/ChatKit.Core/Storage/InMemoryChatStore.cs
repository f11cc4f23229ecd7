using System.Collections.Concurrent;
using ChatKit.Model;

namespace ChatKit.Storage;

/// <summary>
/// The default <see cref="IChatStore"/>: everything in process memory, lost when the process exits.
/// Right for one node, tests and development; use a storage adapter for anything that must survive a restart.
/// </summary>
/// <remarks>
/// Thread safe. Each room has its own lock; rooms wait for one another only while a message is copied into or out of
/// the store's message archive, which keeps messages as bytes in large arrays rather than as objects (so garbage
/// collections have nothing of them to copy).
/// </remarks>
public sealed class InMemoryChatStore : IChatStore
{
    private readonly ConcurrentDictionary<string, RoomState> _rooms = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> _roomsByUser = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, UserProfile> _users = new(StringComparer.Ordinal);
    private readonly MessageArchive _archive = new();

    /// <inheritdoc />
    public ValueTask UpsertUserAsync(string userId, string displayName, CancellationToken cancellationToken)
    {
        _users.AddOrUpdate(userId, static (id, name) => new UserProfile(id, name, null), static (_, old, name) => old with { DisplayName = name }, displayName);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask SetLastSeenAsync(IReadOnlyCollection<UserLastSeen> users, CancellationToken cancellationToken)
    {
        // A user listed twice keeps the later time, as one write of the batch would.
        foreach (var user in users.GroupBy(u => u.UserId, StringComparer.Ordinal))
        {
            var seen = user.Max(u => u.LastSeen);
            _users.AddOrUpdate(user.Key, static (id, seen) => new UserProfile(id, id, seen), static (_, old, seen) => old with { LastSeen = seen }, seen);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<UserProfile>> GetUsersAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        var found = new List<UserProfile>(userIds.Count);
        foreach (var id in userIds)
        {
            if (_users.TryGetValue(id, out var profile))
            {
                found.Add(profile);
            }
        }

        return ValueTask.FromResult<IReadOnlyList<UserProfile>>(found);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<UserProfile>> SearchUsersAsync(string prefix, int limit, CancellationToken cancellationToken)
    {
        IReadOnlyList<UserProfile> found = _users.Values
            .Where(u => u.Id.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || u.DisplayName.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .OrderBy(u => u.Id, StringComparer.Ordinal)
            .Take(limit)
            .ToList();
        return ValueTask.FromResult(found);
    }

    /// <inheritdoc />
    public ValueTask<bool> CreateRoomAsync(Room room, IReadOnlyList<RoomMember> members, CancellationToken cancellationToken)
    {
        var state = new RoomState(room, _archive);
        lock (state.Sync)
        {
            if (!_rooms.TryAdd(room.Id, state))
            {
                return ValueTask.FromResult(false);
            }

            foreach (var member in members)
            {
                AddMemberLocked(state, member);
            }
        }

        return ValueTask.FromResult(true);
    }

    /// <inheritdoc />
    public ValueTask<Room?> GetRoomAsync(string roomId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_rooms.TryGetValue(roomId, out var state) ? state.Room : null);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<Room>> GetPublicRoomsAsync(int limit, CancellationToken cancellationToken)
    {
        IReadOnlyList<Room> rooms = _rooms.Values
            .Select(s => s.Room)
            .Where(r => r.Kind == RoomKind.Group && r.Visibility == RoomVisibility.Public)
            .OrderByDescending(r => r.CreatedAt)
            .ThenBy(r => r.Id, StringComparer.Ordinal)
            .Take(limit)
            .ToList();
        return ValueTask.FromResult(rooms);
    }

    /// <inheritdoc />
    public ValueTask<bool> AddMemberAsync(RoomMember member, CancellationToken cancellationToken)
    {
        var state = GetState(member.RoomId);
        lock (state.Sync)
        {
            return ValueTask.FromResult(AddMemberLocked(state, member));
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> RemoveMemberAsync(string roomId, string userId, CancellationToken cancellationToken)
    {
        if (!_rooms.TryGetValue(roomId, out var state))
        {
            return ValueTask.FromResult(false);
        }

        lock (state.Sync)
        {
            if (!state.Members.Remove(userId))
            {
                return ValueTask.FromResult(false);
            }

            state.ReadStates.Remove(userId);
            if (_roomsByUser.TryGetValue(userId, out var rooms))
            {
                rooms.TryRemove(roomId, out _);
            }
        }

        return ValueTask.FromResult(true);
    }

    /// <inheritdoc />
    public ValueTask<RoomMember?> GetMemberAsync(string roomId, string userId, CancellationToken cancellationToken)
    {
        if (!_rooms.TryGetValue(roomId, out var state))
        {
            return ValueTask.FromResult<RoomMember?>(null);
        }

        lock (state.Sync)
        {
            return ValueTask.FromResult(state.Members.TryGetValue(userId, out var member) ? member : null);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<MemberState>> GetMembersAsync(string roomId, CancellationToken cancellationToken)
    {
        if (!_rooms.TryGetValue(roomId, out var state))
        {
            return ValueTask.FromResult<IReadOnlyList<MemberState>>([]);
        }

        lock (state.Sync)
        {
            IReadOnlyList<MemberState> members = state.Members.Values
                .OrderBy(m => m.JoinedAt)
                .ThenBy(m => m.UserId, StringComparer.Ordinal)
                .Select(m => new MemberState(m, state.ReadStates[m.UserId]))
                .ToList();
            return ValueTask.FromResult(members);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<Membership>> GetMembershipsAsync(string userId, CancellationToken cancellationToken)
    {
        if (!_roomsByUser.TryGetValue(userId, out var roomIds))
        {
            return ValueTask.FromResult<IReadOnlyList<Membership>>([]);
        }

        var memberships = new List<Membership>(roomIds.Count);
        foreach (var roomId in roomIds.Keys)
        {
            if (!_rooms.TryGetValue(roomId, out var state))
            {
                continue;
            }

            lock (state.Sync)
            {
                if (state.Members.TryGetValue(userId, out var member))
                {
                    var peer = state.Room.Kind == RoomKind.Direct ? state.Members.Keys.FirstOrDefault(k => !string.Equals(k, userId, StringComparison.Ordinal)) : null;
                    memberships.Add(new Membership(state.Room, member.Role, state.Messages.Count, state.ReadStates[userId], peer));
                }
            }
        }

        memberships.Sort(static (a, b) => string.CompareOrdinal(a.Room.Id, b.Room.Id));
        return ValueTask.FromResult<IReadOnlyList<Membership>>(memberships);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyDictionary<string, IReadOnlyList<string>>> GetRoomIdsOfUsersAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var userId in userIds)
        {
            if (!_roomsByUser.TryGetValue(userId, out var roomIds))
            {
                continue;
            }

            var rooms = new List<string>(roomIds.Count);
            foreach (var roomId in roomIds.Keys)
            {
                if (_rooms.TryGetValue(roomId, out var state) && IsMember(state, userId))
                {
                    rooms.Add(roomId);
                }
            }

            if (rooms.Count > 0)
            {
                result[userId] = rooms;
            }
        }

        return ValueTask.FromResult<IReadOnlyDictionary<string, IReadOnlyList<string>>>(result);
    }

    private static bool IsMember(RoomState state, string userId)
    {
        lock (state.Sync)
        {
            return state.Members.ContainsKey(userId);
        }
    }

    /// <inheritdoc />
    public ValueTask<AppendResult> AppendMessageAsync(NewMessage message, CancellationToken cancellationToken)
    {
        var state = GetState(message.RoomId);
        lock (state.Sync)
        {
            var existing = state.Messages.Find(message.ClientMessageId);
            if (existing > 0)
            {
                return ValueTask.FromResult(new AppendResult(state.Messages.Get(existing), Duplicate: true));
            }

            var sequence = state.Messages.Add(message.ClientMessageId, message.SenderId, message.Body, message.SentAt);
            var stored = new ChatMessage(state.Room.Id, sequence, message.ClientMessageId, message.SenderId, message.Body, message.SentAt);
            if (state.ReadStates.ContainsKey(message.SenderId))
            {
                state.ReadStates[message.SenderId] = new ReadState(stored.Sequence, stored.Sequence);
            }

            return ValueTask.FromResult(new AppendResult(stored, Duplicate: false));
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<LoggedMessageResult>> StoreLoggedMessagesAsync(IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var results = new List<LoggedMessageResult>(messages.Count);
        foreach (var message in messages)
        {
            if (!_rooms.TryGetValue(message.RoomId, out var state))
            {
                results.Add(new LoggedMessageResult(LoggedMessageOutcome.NoRoom, message));
                continue;
            }

            lock (state.Sync)
            {
                results.Add(StoreLogged(state, message));
            }
        }

        return ValueTask.FromResult<IReadOnlyList<LoggedMessageResult>>(results);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ChatMessage>> GetMessagesAsync(string roomId, MessageRange range, CancellationToken cancellationToken)
    {
        if (!_rooms.TryGetValue(roomId, out var state))
        {
            return ValueTask.FromResult<IReadOnlyList<ChatMessage>>([]);
        }

        lock (state.Sync)
        {
            // Message n sits at index n - 1, so a range is two clamped indexes.
            var count = state.Messages.Count;
            var low = Math.Max(range.After ?? 0, 0);
            var high = Math.Min((range.Before ?? long.MaxValue) - 1, count);
            if (high <= low)
            {
                return ValueTask.FromResult<IReadOnlyList<ChatMessage>>([]);
            }

            var take = (int)Math.Min(high - low, range.Limit);
            var start = range.FromNewest ? high - take : low;
            IReadOnlyList<ChatMessage> page = state.Messages.Get(start + 1, take);
            return ValueTask.FromResult(page);
        }
    }

    /// <inheritdoc />
    public ValueTask<long> GetLatestSequenceAsync(string roomId, CancellationToken cancellationToken)
    {
        if (!_rooms.TryGetValue(roomId, out var state))
        {
            return ValueTask.FromResult(0L);
        }

        lock (state.Sync)
        {
            return ValueTask.FromResult(state.Messages.Count);
        }
    }

    /// <inheritdoc />
    public ValueTask<ReadState> AdvanceReadStateAsync(string roomId, string userId, ReceiptKind kind, long sequence, CancellationToken cancellationToken)
    {
        var state = GetState(roomId);
        lock (state.Sync)
        {
            if (!state.ReadStates.TryGetValue(userId, out var current))
            {
                throw new KeyNotFoundException($"User '{userId}' is not a member of room '{roomId}'.");
            }

            var read = kind == ReceiptKind.Read ? Math.Max(current.ReadSequence, sequence) : current.ReadSequence;
            var updated = new ReadState(Math.Max(Math.Max(current.DeliveredSequence, sequence), read), read);
            state.ReadStates[userId] = updated;
            return ValueTask.FromResult(updated);
        }
    }

    private bool AddMemberLocked(RoomState state, RoomMember member)
    {
        if (!state.Members.TryAdd(member.UserId, member))
        {
            return false;
        }

        var latest = state.Messages.Count;
        state.ReadStates[member.UserId] = new ReadState(latest, latest);
        _roomsByUser.GetOrAdd(member.UserId, static _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal))[member.RoomId] = 0;
        return true;
    }

    private RoomState GetState(string roomId) =>
        _rooms.TryGetValue(roomId, out var state) ? state : throw new KeyNotFoundException($"Room '{roomId}' does not exist.");

    private static LoggedMessageResult StoreLogged(RoomState state, ChatMessage message)
    {
        var existing = state.Messages.Find(message.ClientMessageId);
        if (existing > 0)
        {
            return new LoggedMessageResult(existing == message.Sequence ? LoggedMessageOutcome.AlreadyStored : LoggedMessageOutcome.Duplicate, state.Messages.Get(existing));
        }

        var latest = state.Messages.Count;
        if (message.Sequence <= latest)
        {
            return new LoggedMessageResult(LoggedMessageOutcome.SequenceTaken, state.Messages.Get(message.Sequence));
        }

        if (message.Sequence > latest + 1)
        {
            return new LoggedMessageResult(LoggedMessageOutcome.Gap, message);
        }

        state.Messages.Add(message.ClientMessageId, message.SenderId, message.Body, message.SentAt);
        if (state.ReadStates.ContainsKey(message.SenderId))
        {
            state.ReadStates[message.SenderId] = new ReadState(message.Sequence, message.Sequence);
        }

        return new LoggedMessageResult(LoggedMessageOutcome.Stored, message);
    }

    private sealed class RoomState(Room room, MessageArchive archive)
    {
        public Lock Sync { get; } = new();

        public Room Room { get; } = room;

        public RoomMessages Messages { get; } = new(archive, room.Id);

        public Dictionary<string, RoomMember> Members { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, ReadState> ReadStates { get; } = new(StringComparer.Ordinal);
    }
}
