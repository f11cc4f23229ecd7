using ChatKit.Model;

namespace ChatKit.Storage;

/// <summary>
/// Where ChatKit keeps rooms, members, messages, read state and user profiles. The in-memory default
/// serves one node; storage adapters (EF Core) make it durable and shared by every node.
/// </summary>
/// <remarks>
/// Implementations must be thread safe. <see cref="AppendMessageAsync"/> is where guarantees 1 and 2 live
/// when no durable log sits in front: it assigns per-room sequence numbers that are strictly increasing and
/// gap-free, even when several nodes append to one room at once, and it stores a client message id at most
/// once per room. A store that cannot be reached throws <see cref="ChatKit.Engine.ChatException"/> with code
/// <c>unavailable</c>; nothing is stored then.
/// </remarks>
public interface IChatStore
{
    /// <summary>Adds or updates a user's display name; keeps the last-seen time.</summary>
    ValueTask UpsertUserAsync(string userId, string displayName, CancellationToken cancellationToken);

    /// <summary>
    /// Records when users' last connections closed, many in one call (the engine writes departures in batches). A
    /// user with no profile yet gets one, named by their id.
    /// </summary>
    ValueTask SetLastSeenAsync(IReadOnlyCollection<UserLastSeen> users, CancellationToken cancellationToken);

    /// <summary>The profiles of the given users that exist.</summary>
    ValueTask<IReadOnlyList<UserProfile>> GetUsersAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken);

    /// <summary>Users whose id or display name starts with <paramref name="prefix"/> (case-insensitive), ordered by id.</summary>
    ValueTask<IReadOnlyList<UserProfile>> SearchUsersAsync(string prefix, int limit, CancellationToken cancellationToken);

    /// <summary>Creates a room with its first members; returns <see langword="false"/> and changes nothing when the id is taken.</summary>
    ValueTask<bool> CreateRoomAsync(Room room, IReadOnlyList<RoomMember> members, CancellationToken cancellationToken);

    /// <summary>The room, or <see langword="null"/>.</summary>
    ValueTask<Room?> GetRoomAsync(string roomId, CancellationToken cancellationToken);

    /// <summary>Public group rooms, newest first.</summary>
    ValueTask<IReadOnlyList<Room>> GetPublicRoomsAsync(int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Adds a member; returns <see langword="false"/> when the user already is one. The new member's read and
    /// delivered positions start at the room's latest sequence, so earlier messages do not count as unread.
    /// </summary>
    ValueTask<bool> AddMemberAsync(RoomMember member, CancellationToken cancellationToken);

    /// <summary>Removes a member and their read state; returns <see langword="false"/> when the user was not one.</summary>
    ValueTask<bool> RemoveMemberAsync(string roomId, string userId, CancellationToken cancellationToken);

    /// <summary>The membership, or <see langword="null"/>.</summary>
    ValueTask<RoomMember?> GetMemberAsync(string roomId, string userId, CancellationToken cancellationToken);

    /// <summary>The room's members with their read state, in the order they joined.</summary>
    ValueTask<IReadOnlyList<MemberState>> GetMembersAsync(string roomId, CancellationToken cancellationToken);

    /// <summary>Every room the user is a member of, with role, latest sequence and read state.</summary>
    ValueTask<IReadOnlyList<Membership>> GetMembershipsAsync(string userId, CancellationToken cancellationToken);

    /// <summary>
    /// The ids of the rooms each of the given users is a member of, in one call (presence announcements); a user who
    /// is in no room has no entry.
    /// </summary>
    ValueTask<IReadOnlyDictionary<string, IReadOnlyList<string>>> GetRoomIdsOfUsersAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a message with the room's next sequence number, or returns the message already stored with the
    /// same client message id in that room. The sender's read position moves to the message.
    /// </summary>
    ValueTask<AppendResult> AppendMessageAsync(NewMessage message, CancellationToken cancellationToken);

    /// <summary>
    /// Stores messages whose sequence numbers a durable log assigned (<c>ChatKit.Transport.Kafka</c>), in order. A message is
    /// stored only when its sequence is the room's next one and its client message id is new in the room; the room's
    /// latest sequence becomes it and the sender's read position moves to it. Repeats change nothing, so a log can
    /// store at least once. One result per message, in order.
    /// </summary>
    ValueTask<IReadOnlyList<LoggedMessageResult>> StoreLoggedMessagesAsync(IReadOnlyList<ChatMessage> messages, CancellationToken cancellationToken);

    /// <summary>A page of the room's messages in ascending sequence order (see <see cref="MessageRange"/>).</summary>
    ValueTask<IReadOnlyList<ChatMessage>> GetMessagesAsync(string roomId, MessageRange range, CancellationToken cancellationToken);

    /// <summary>The sequence of the room's newest message; 0 when it has none.</summary>
    ValueTask<long> GetLatestSequenceAsync(string roomId, CancellationToken cancellationToken);

    /// <summary>
    /// Moves a member's delivered or read position forward to <paramref name="sequence"/> (never back; read
    /// moves delivered too) and returns the new state.
    /// </summary>
    ValueTask<ReadState> AdvanceReadStateAsync(string roomId, string userId, ReceiptKind kind, long sequence, CancellationToken cancellationToken);
}
