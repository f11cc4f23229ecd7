using ChatKit.Model;
using ChatKit.Storage;

namespace ChatKit.Core.Tests.Infrastructure;

/// <summary>The in-memory store with hooks that let a test run code in the middle of a store call.</summary>
internal sealed class HookedStore : IChatStore
{
    private readonly InMemoryChatStore _inner = new();
    private int _membershipCalls;
    private int _memberReads;
    private Func<RoomMember?, ValueTask>? _afterMemberRead;

    /// <summary>How many single memberships were read.</summary>
    public int MemberReads => Volatile.Read(ref _memberReads);

    /// <summary>Runs once, after the next single membership read and before it returns.</summary>
    public Func<RoomMember?, ValueTask>? AfterMemberRead
    {
        get => Volatile.Read(ref _afterMemberRead);
        set => Volatile.Write(ref _afterMemberRead, value);
    }

    /// <summary>Runs after the n-th (1-based) membership read, before it returns.</summary>
    public Func<int, ValueTask>? AfterMembershipsRead { get; set; }

    /// <summary>Runs after each read of users' room ids (presence announcements), before it returns.</summary>
    public Func<ValueTask>? AfterRoomIdsRead { get; set; }

    /// <summary>Runs before each last-seen write, with the batch it writes.</summary>
    public Func<IReadOnlyCollection<UserLastSeen>, ValueTask>? BeforeLastSeenWrite { get; set; }

    /// <summary>Throws from last-seen writes when set.</summary>
    public Exception? FailLastSeenWrites { get; set; }

    /// <summary>Throws from room reads when set.</summary>
    public Exception? FailRoomReads { get; set; }

    /// <summary>Throws from the n-th (1-based) membership read when it returns an exception.</summary>
    public Func<int, Exception?>? FailMembershipsRead { get; set; }

    public ValueTask UpsertUserAsync(string userId, string displayName, CancellationToken cancellationToken) => _inner.UpsertUserAsync(userId, displayName, cancellationToken);

    public async ValueTask SetLastSeenAsync(IReadOnlyCollection<UserLastSeen> users, CancellationToken cancellationToken)
    {
        if (BeforeLastSeenWrite is { } hook)
        {
            await hook(users);
        }

        if (FailLastSeenWrites is { } failure)
        {
            throw failure;
        }

        await _inner.SetLastSeenAsync(users, cancellationToken);
    }

    public ValueTask<IReadOnlyList<UserProfile>> GetUsersAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken) => _inner.GetUsersAsync(userIds, cancellationToken);

    public ValueTask<IReadOnlyList<UserProfile>> SearchUsersAsync(string prefix, int limit, CancellationToken cancellationToken) => _inner.SearchUsersAsync(prefix, limit, cancellationToken);

    public ValueTask<bool> CreateRoomAsync(Room room, IReadOnlyList<RoomMember> members, CancellationToken cancellationToken) => _inner.CreateRoomAsync(room, members, cancellationToken);

    public ValueTask<Room?> GetRoomAsync(string roomId, CancellationToken cancellationToken) =>
        FailRoomReads is { } failure ? ValueTask.FromException<Room?>(failure) : _inner.GetRoomAsync(roomId, cancellationToken);

    public ValueTask<IReadOnlyList<Room>> GetPublicRoomsAsync(int limit, CancellationToken cancellationToken) => _inner.GetPublicRoomsAsync(limit, cancellationToken);

    public ValueTask<bool> AddMemberAsync(RoomMember member, CancellationToken cancellationToken) => _inner.AddMemberAsync(member, cancellationToken);

    public ValueTask<bool> RemoveMemberAsync(string roomId, string userId, CancellationToken cancellationToken) => _inner.RemoveMemberAsync(roomId, userId, cancellationToken);

    public async ValueTask<RoomMember?> GetMemberAsync(string roomId, string userId, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _memberReads);
        var member = await _inner.GetMemberAsync(roomId, userId, cancellationToken);
        if (Interlocked.Exchange(ref _afterMemberRead, null) is { } hook)
        {
            await hook(member);
        }

        return member;
    }

    public ValueTask<IReadOnlyList<MemberState>> GetMembersAsync(string roomId, CancellationToken cancellationToken) => _inner.GetMembersAsync(roomId, cancellationToken);

    public async ValueTask<IReadOnlyList<Membership>> GetMembershipsAsync(string userId, CancellationToken cancellationToken)
    {
        var call = Interlocked.Increment(ref _membershipCalls);
        if (FailMembershipsRead?.Invoke(call) is { } failure)
        {
            throw failure;
        }

        var result = await _inner.GetMembershipsAsync(userId, cancellationToken);
        if (AfterMembershipsRead is { } hook)
        {
            await hook(call);
        }

        return result;
    }

    public async ValueTask<IReadOnlyDictionary<string, IReadOnlyList<string>>> GetRoomIdsOfUsersAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        var result = await _inner.GetRoomIdsOfUsersAsync(userIds, cancellationToken);
        if (AfterRoomIdsRead is { } hook)
        {
            await hook();
        }

        return result;
    }

    public ValueTask<AppendResult> AppendMessageAsync(NewMessage message, CancellationToken cancellationToken) => _inner.AppendMessageAsync(message, cancellationToken);

    public ValueTask<IReadOnlyList<LoggedMessageResult>> StoreLoggedMessagesAsync(IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken) => _inner.StoreLoggedMessagesAsync(messages, cancellationToken);

    public ValueTask<IReadOnlyList<ChatMessage>> GetMessagesAsync(string roomId, MessageRange range, CancellationToken cancellationToken) => _inner.GetMessagesAsync(roomId, range, cancellationToken);

    public ValueTask<long> GetLatestSequenceAsync(string roomId, CancellationToken cancellationToken) => _inner.GetLatestSequenceAsync(roomId, cancellationToken);

    public ValueTask<ReadState> AdvanceReadStateAsync(string roomId, string userId, ReceiptKind kind, long sequence, CancellationToken cancellationToken) =>
        _inner.AdvanceReadStateAsync(roomId, userId, kind, sequence, cancellationToken);
}
