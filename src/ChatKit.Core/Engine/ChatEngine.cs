using System.Diagnostics;
using ChatKit.Backplane;
using ChatKit.Diagnostics;
using ChatKit.Encryption;
using ChatKit.Messaging;
using ChatKit.Model;
using ChatKit.Presence;
using ChatKit.Protocol;
using ChatKit.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatKit.Engine;

/// <summary>
/// The chat itself: validates every request, asks the <see cref="IRoomAuthorizer"/>, stores through the ports and
/// fans events out through the <see cref="IChatBackplane"/>. Connections and HTTP endpoints call it; a host can
/// call it too (for example to post a message as a bot user).
/// </summary>
/// <remarks>
/// Thread safe. Every method validates its raw arguments and throws <see cref="ChatException"/> with a code from
/// <see cref="ChatErrorCodes"/> when a request is refused; nothing is changed then.
/// </remarks>
public sealed partial class ChatEngine
{
    private const int MaxPublicRooms = 100;

    // What a message event adds to its body on the wire (field names, ids, time), rounded up.
    private const int MessageOverheadBytes = 256;
    private const int MaxSearchResults = 50;

    // Users announced online together read their rooms in one store call per this many.
    private const int PresenceChunk = 500;

    private readonly IChatStore _store;
    private readonly IMessageLog _log;
    private readonly IChatBackplane _backplane;
    private readonly IPresenceTracker _presence;
    private readonly IRoomAuthorizer _authorizer;
    private readonly RoomMembershipCache _cache;
    private readonly TimeProvider _time;
    private readonly ILogger<ChatEngine> _logger;
    private readonly TypingTracker _typing = new();
    private readonly DepartureWriter _departures;

    /// <summary>Creates the engine over its ports.</summary>
    public ChatEngine(
        IChatStore store,
        IMessageLog log,
        IChatBackplane backplane,
        IPresenceTracker presence,
        IRoomAuthorizer authorizer,
        RoomMembershipCache cache,
        IOptions<ChatKitOptions> options,
        TimeProvider time,
        ILogger<ChatEngine> logger)
    {
        _store = store;
        _log = log;
        _backplane = backplane;
        _presence = presence;
        _authorizer = authorizer;
        _cache = cache;
        _time = time;
        _logger = logger;
        _departures = new DepartureWriter(store, presence, backplane, logger);
        Options = options.Value;
    }

    /// <summary>The engine's limits.</summary>
    public ChatKitOptions Options { get; }

    internal IChatStore Store => _store;

    /// <summary>Records a new connection of the user; announces the user online when it is their first.</summary>
    public async Task UserConnectedAsync(ChatUser user, string connectionId, CancellationToken cancellationToken)
    {
        await _store.UpsertUserAsync(user.Id, user.DisplayName, cancellationToken).ConfigureAwait(false);
        if (await _presence.ConnectedAsync(user.Id, connectionId, cancellationToken).ConfigureAwait(false))
        {
            await PublishOnlineAsync([user.Id], cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Records a closed connection. When it was the user's last, the user's last seen is stored and the user announced
    /// offline, together with other users who went offline meanwhile; the task completes once that is done.
    /// </summary>
    public async Task UserDisconnectedAsync(ChatUser user, string connectionId, CancellationToken cancellationToken)
    {
        if (await _presence.DisconnectedAsync(user.Id, connectionId, cancellationToken).ConfigureAwait(false))
        {
            await _departures.RecordAsync(user.Id, Now()).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Announces a presence change of many users that no connection of this node caused: a presence tracker that
    /// counts connections across nodes found that a dead node's users are offline, or that a node's users, lost by
    /// Redis, are back. Going offline records the time as each user's last seen (through the departure batches);
    /// coming back reads the users' rooms once per 500 users.
    /// </summary>
    public async Task AnnouncePresenceAsync(IReadOnlyCollection<string> userIds, bool online, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        if (!online)
        {
            var now = Now();
            await Task.WhenAll(userIds.Select(id => _departures.RecordAsync(id, now))).ConfigureAwait(false);
            return;
        }

        foreach (var chunk in userIds.Chunk(PresenceChunk))
        {
            await PublishOnlineAsync(chunk, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The user's rooms with their read state, ordered by room id.</summary>
    public async Task<IReadOnlyList<RoomInfo>> GetRoomsAsync(ChatUser user, CancellationToken cancellationToken)
    {
        var memberships = await _store.GetMembershipsAsync(user.Id, cancellationToken).ConfigureAwait(false);
        var names = await GetNamesAsync(memberships.Where(m => m.Peer is not null).Select(m => m.Peer!), cancellationToken).ConfigureAwait(false);
        return memberships.Select(m => ToInfo(m, names)).ToList();
    }

    /// <summary>Public group rooms anyone may join, newest first.</summary>
    public async Task<IReadOnlyList<RoomInfo>> GetPublicRoomsAsync(ChatUser user, int? limit, CancellationToken cancellationToken)
    {
        var take = InputRules.Limit(limit, MaxPublicRooms, MaxPublicRooms);
        var rooms = await _store.GetPublicRoomsAsync(take, cancellationToken).ConfigureAwait(false);
        var result = new List<RoomInfo>(rooms.Count);
        foreach (var room in rooms)
        {
            var member = await _store.GetMemberAsync(room.Id, user.Id, cancellationToken).ConfigureAwait(false);
            var latest = await _store.GetLatestSequenceAsync(room.Id, cancellationToken).ConfigureAwait(false);
            result.Add(new RoomInfo
            {
                Id = room.Id,
                Kind = WireNames.Of(room.Kind),
                Name = room.Name,
                Visibility = WireNames.Of(room.Visibility),
                CreatedBy = room.CreatedBy,
                CreatedAt = room.CreatedAt,
                Role = member is null ? null : WireNames.Of(member.Role),
                LatestSeq = latest,
            });
        }

        return result;
    }

    /// <summary>Creates a group room owned by the user, with the given members; an encrypted room must be private.</summary>
    public async Task<RoomInfo> CreateRoomAsync(ChatUser user, string? name, string? visibility, IList<string>? members, bool encrypted, CancellationToken cancellationToken)
    {
        var roomName = InputRules.RoomName(name, Options.MaxRoomNameLength);
        var roomVisibility = InputRules.Visibility(visibility);
        if (encrypted && roomVisibility == RoomVisibility.Public)
        {
            throw InputRules.Invalid("An end-to-end encrypted room must be private: members get its keys from each other, not by joining.");
        }

        var memberIds = InputRules.UserIds(members, "members", required: false).Where(id => !string.Equals(id, user.Id, StringComparison.Ordinal)).ToList();
        var now = Now();
        var room = new Room(RoomIds.NewGroupId(_time), RoomKind.Group, roomName, roomVisibility, user.Id, now, encrypted);
        var roomMembers = new List<RoomMember>(memberIds.Count + 1) { new(room.Id, user.Id, MemberRole.Owner, now) };
        roomMembers.AddRange(memberIds.Select(id => new RoomMember(room.Id, id, MemberRole.Member, now)));
        await _store.CreateRoomAsync(room, roomMembers, cancellationToken).ConfigureAwait(false);

        foreach (var member in roomMembers)
        {
            var info = ToInfo(new Membership(room, member.Role, 0, default, null), EmptyNames);
            await PublishRoomJoinedAsync(member.UserId, info, cancellationToken).ConfigureAwait(false);
        }

        return ToInfo(new Membership(room, MemberRole.Owner, 0, default, null), EmptyNames);
    }

    /// <summary>
    /// Opens the direct conversation between the user and <paramref name="otherUserId"/>, or returns the existing one.
    /// Two users have at most one plain and one end-to-end encrypted conversation.
    /// </summary>
    public async Task<RoomInfo> OpenDirectAsync(ChatUser user, string? otherUserId, bool encrypted, CancellationToken cancellationToken)
    {
        var other = InputRules.UserId(otherUserId);
        if (string.Equals(other, user.Id, StringComparison.Ordinal))
        {
            throw InputRules.Invalid("A direct conversation needs another user: 'user' is your own id.");
        }

        var now = Now();
        var room = new Room(RoomIds.DirectId(user.Id, other, encrypted), RoomKind.Direct, string.Empty, RoomVisibility.Private, user.Id, now, encrypted);
        var created = await _store.CreateRoomAsync(
            room,
            [new RoomMember(room.Id, user.Id, MemberRole.Member, now), new RoomMember(room.Id, other, MemberRole.Member, now)],
            cancellationToken).ConfigureAwait(false);
        var names = await GetNamesAsync([user.Id, other], cancellationToken).ConfigureAwait(false);
        if (created)
        {
            await PublishRoomJoinedAsync(other, ToInfo(new Membership(room, MemberRole.Member, 0, default, user.Id), names), cancellationToken).ConfigureAwait(false);
            await PublishRoomJoinedAsync(user.Id, ToInfo(new Membership(room, MemberRole.Member, 0, default, other), names), cancellationToken).ConfigureAwait(false);
        }

        return await GetRoomInfoAsync(user, room.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Joins a public room (harmless when already a member).</summary>
    public async Task<RoomInfo> JoinAsync(ChatUser user, string? roomId, CancellationToken cancellationToken)
    {
        var (room, membership) = await LoadFreshAsync(user, roomId, cancellationToken).ConfigureAwait(false);
        RejectDirect(room);
        await AuthorizeAsync(new RoomAccessContext(user, room, membership, RoomAction.Join), cancellationToken).ConfigureAwait(false);
        if (membership is null)
        {
            var member = new RoomMember(room.Id, user.Id, MemberRole.Member, Now());
            if (await _store.AddMemberAsync(member, cancellationToken).ConfigureAwait(false))
            {
                await PublishMemberJoinedAsync(room, member, user.DisplayName, cancellationToken).ConfigureAwait(false);
                var joined = await GetRoomInfoAsync(user, room.Id, cancellationToken).ConfigureAwait(false);
                await PublishRoomJoinedAsync(user.Id, joined, cancellationToken).ConfigureAwait(false);
                return joined;
            }
        }

        return await GetRoomInfoAsync(user, room.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Leaves a room.</summary>
    public async Task LeaveAsync(ChatUser user, string? roomId, CancellationToken cancellationToken)
    {
        var (room, membership) = await LoadFreshAsync(user, roomId, cancellationToken).ConfigureAwait(false);
        RejectDirect(room);
        if (membership is null)
        {
            throw new ChatException(ChatErrorCodes.Forbidden, $"You are not a member of room {room.Id}.");
        }

        await AuthorizeAsync(new RoomAccessContext(user, room, membership, RoomAction.Leave), cancellationToken).ConfigureAwait(false);
        if (await _store.RemoveMemberAsync(room.Id, user.Id, cancellationToken).ConfigureAwait(false))
        {
            await PublishMemberLeftAsync(room.Id, user.Id, "left", user.Id, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Adds a user to a group room (owners and admins).</summary>
    public async Task<MemberInfo> InviteAsync(ChatUser user, string? roomId, string? userId, string? role, CancellationToken cancellationToken)
    {
        var (room, membership) = await LoadFreshAsync(user, roomId, cancellationToken).ConfigureAwait(false);
        var target = InputRules.UserId(userId);
        var targetRole = InputRules.InviteRole(role);
        RejectDirect(room);
        await AuthorizeAsync(new RoomAccessContext(user, room, membership, RoomAction.Invite, target, TargetRole: targetRole), cancellationToken).ConfigureAwait(false);
        var member = new RoomMember(room.Id, target, targetRole, Now());
        var names = await GetNamesAsync([target], cancellationToken).ConfigureAwait(false);
        if (await _store.AddMemberAsync(member, cancellationToken).ConfigureAwait(false))
        {
            await PublishMemberJoinedAsync(room, member, names[target], cancellationToken).ConfigureAwait(false);
            var latest = await _store.GetLatestSequenceAsync(room.Id, cancellationToken).ConfigureAwait(false);
            var info = ToInfo(new Membership(room, targetRole, latest, new ReadState(latest, latest), null), names);
            await PublishRoomJoinedAsync(target, info, cancellationToken).ConfigureAwait(false);
            return ToMemberInfo(member, names);
        }

        var existing = await _store.GetMemberAsync(room.Id, target, cancellationToken).ConfigureAwait(false);
        return ToMemberInfo(existing ?? member, names);
    }

    /// <summary>Removes a member from a group room (owners and admins).</summary>
    public async Task RemoveMemberAsync(ChatUser user, string? roomId, string? userId, CancellationToken cancellationToken)
    {
        var (room, membership) = await LoadFreshAsync(user, roomId, cancellationToken).ConfigureAwait(false);
        var target = InputRules.UserId(userId);
        RejectDirect(room);
        var targetMembership = await _store.GetMemberAsync(room.Id, target, cancellationToken).ConfigureAwait(false);
        await AuthorizeAsync(new RoomAccessContext(user, room, membership, RoomAction.Remove, target, targetMembership), cancellationToken).ConfigureAwait(false);
        if (targetMembership is null)
        {
            throw new ChatException(ChatErrorCodes.NotFound, $"User {target} is not a member of room {room.Id}.");
        }

        if (await _store.RemoveMemberAsync(room.Id, target, cancellationToken).ConfigureAwait(false))
        {
            await PublishMemberLeftAsync(room.Id, target, "removed", user.Id, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A room's members, in the order they joined.</summary>
    public async Task<IReadOnlyList<MemberInfo>> GetMembersAsync(ChatUser user, string? roomId, CancellationToken cancellationToken)
    {
        var (room, membership) = await LoadFreshAsync(user, roomId, cancellationToken).ConfigureAwait(false);
        await AuthorizeAsync(new RoomAccessContext(user, room, membership, RoomAction.Read), cancellationToken).ConfigureAwait(false);
        var members = await _store.GetMembersAsync(room.Id, cancellationToken).ConfigureAwait(false);
        var names = await GetNamesAsync(members.Select(m => m.Member.UserId), cancellationToken).ConfigureAwait(false);
        return members.Select(m => ToMemberInfo(m.Member, names, m.State)).ToList();
    }

    /// <summary>
    /// Stores a message and returns its sequence number once it is durable; a retry with the same client message
    /// id returns the first one's. Every connection in the room then receives it.
    /// </summary>
    public async Task<SendResult> SendAsync(ChatUser user, string? roomId, string? clientMessageId, string? body, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var cmid = InputRules.ClientMessageId(clientMessageId);
        var text = InputRules.Body(body, Options.MaxMessageBytes);
        var (room, membership) = await LoadAsync(user, roomId, cancellationToken).ConfigureAwait(false);
        await AuthorizeAsync(new RoomAccessContext(user, room, membership, RoomAction.Send), cancellationToken).ConfigureAwait(false);
        if (room.Encrypted && !text.StartsWith(EncryptedBody.Prefix, StringComparison.Ordinal))
        {
            throw new ChatException(ChatErrorCodes.NotEncrypted, $"Room {room.Id} is end-to-end encrypted: the body must be an encrypted envelope ('{EncryptedBody.Prefix}...'), never plaintext.");
        }

        var result = await _log.AppendAsync(new NewMessage(room.Id, cmid, user.Id, text, Now()), cancellationToken).ConfigureAwait(false);
        var message = result.Message;
        if (result.Duplicate && !string.Equals(message.SenderId, user.Id, StringComparison.Ordinal))
        {
            throw InputRules.Invalid($"Client message id '{cmid}' is already used by another sender in room {room.Id}; use ids that are unique per message, such as UUIDs.");
        }

        if (!result.Duplicate)
        {
            ChatKitTelemetry.MessagesStored.Add(1);
        }

        // A retry publishes the original again: with a log in front of the store, the first try may have been
        // numbered after its sender gave up waiting, and then nobody published it. Connections drop repeats.
        await PublishStoredMessageAsync(user, message, cancellationToken).ConfigureAwait(false);

        ChatKitTelemetry.SendDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return new SendResult(message.RoomId, message.Sequence, message.ClientMessageId, message.SentAt, result.Duplicate);
    }

    /// <summary>
    /// Live delivery of a stored message is best effort: the message is durable and acknowledged whatever happens
    /// here, and connections fill gaps from the store, so a failing backplane must not turn a stored message into an
    /// error for the sender (whose retry would only find the duplicate).
    /// </summary>
    private async Task PublishStoredMessageAsync(ChatUser user, ChatMessage message, CancellationToken cancellationToken)
    {
        try
        {
            var frame = SerializeMessageEvent(message);
            await _backplane.PublishAsync(new BackplaneMessage(BackplaneMessageKind.RoomFrame, message.RoomId, message.RoomId, message.Sequence, frame), cancellationToken).ConfigureAwait(false);
            if (_typing.Stop(message.RoomId, user.Id))
            {
                await PublishTypingAsync(message.RoomId, user.Id, active: false, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogPublishFailed(_logger, ex, message.RoomId, message.Sequence);
        }
    }

    /// <summary>A page of a room's history in ascending sequence order (see <c>docs/protocol.md</c>, <c>history</c>).</summary>
    public async Task<HistoryPage> GetHistoryAsync(ChatUser user, string? roomId, long? before, long? after, int? limit, CancellationToken cancellationToken)
    {
        var take = InputRules.Limit(limit, Options.DefaultHistoryPageSize, Options.MaxHistoryPageSize);
        if (before is < 1)
        {
            throw InputRules.Invalid("Field 'before' must be at least 1.");
        }

        if (after is < 0)
        {
            throw InputRules.Invalid("Field 'after' must not be negative.");
        }

        var (room, membership) = await LoadAsync(user, roomId, cancellationToken).ConfigureAwait(false);
        await AuthorizeAsync(new RoomAccessContext(user, room, membership, RoomAction.Read), cancellationToken).ConfigureAwait(false);

        // One extra message tells whether more lie in the paging direction.
        var page = await _store.GetMessagesAsync(room.Id, new MessageRange(after, before, take + 1), cancellationToken).ConfigureAwait(false);
        var fromNewest = after is null;
        var kept = new List<ChatMessage>(Math.Min(page.Count, take));
        var bytes = 0L;
        var budget = Options.MaxOutboundBufferBytes / 4;
        for (var i = 0; i < page.Count && kept.Count < take; i++)
        {
            // Pages are bounded in bytes too, so one reply never comes near a connection's outbound limit.
            var message = fromNewest ? page[page.Count - 1 - i] : page[i];
            bytes += System.Text.Encoding.UTF8.GetByteCount(message.Body) + MessageOverheadBytes;
            if (kept.Count > 0 && bytes > budget)
            {
                break;
            }

            kept.Add(message);
        }

        if (fromNewest)
        {
            kept.Reverse();
        }

        return new HistoryPage { Room = room.Id, Messages = kept.Select(ToMessageInfo).ToList(), HasMore = page.Count > kept.Count };
    }

    /// <summary>Starts, extends or ends the user's typing indicator in a room.</summary>
    public async Task SetTypingAsync(ChatUser user, string? roomId, bool active, CancellationToken cancellationToken)
    {
        var (room, membership) = await LoadAsync(user, roomId, cancellationToken).ConfigureAwait(false);
        await AuthorizeAsync(new RoomAccessContext(user, room, membership, RoomAction.Signal), cancellationToken).ConfigureAwait(false);
        var changed = active
            ? _typing.Start(room.Id, user.Id, _time.GetUtcNow() + Options.TypingTimeout)
            : _typing.Stop(room.Id, user.Id);
        if (changed)
        {
            await PublishTypingAsync(room.Id, user.Id, active, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Moves the user's delivered or read position in a room forward and tells the room.</summary>
    public async Task<ReceiptResult> MarkAsync(ChatUser user, string? roomId, long? sequence, string? kind, CancellationToken cancellationToken)
    {
        var receiptKind = InputRules.Receipt(kind);
        if (sequence is null)
        {
            throw new ChatException(ChatErrorCodes.MissingField, "Field 'seq' is required.");
        }

        var (room, membership) = await LoadAsync(user, roomId, cancellationToken).ConfigureAwait(false);
        await AuthorizeAsync(new RoomAccessContext(user, room, membership, RoomAction.Signal), cancellationToken).ConfigureAwait(false);
        var latest = await _store.GetLatestSequenceAsync(room.Id, cancellationToken).ConfigureAwait(false);
        if (sequence < 1 || sequence > latest)
        {
            throw new ChatException(ChatErrorCodes.InvalidSequence, $"Field 'seq' must be between 1 and {latest}, the latest sequence of room {room.Id}.");
        }

        if (membership is null)
        {
            throw new ChatException(ChatErrorCodes.Forbidden, $"You are not a member of room {room.Id}.");
        }

        var state = await _store.AdvanceReadStateAsync(room.Id, user.Id, receiptKind, sequence.Value, cancellationToken).ConfigureAwait(false);
        var position = receiptKind == ReceiptKind.Read ? state.ReadSequence : state.DeliveredSequence;
        if (position == sequence)
        {
            // Only a receipt that is the user's position now is news for the room; one behind it is not.
            var frame = ProtocolJson.Serialize(new ServerFrame { Type = FrameTypes.Receipt, Room = room.Id, User = user.Id, Kind = WireNames.Of(receiptKind), Seq = sequence });
            await _backplane.PublishAsync(new BackplaneMessage(BackplaneMessageKind.RoomFrame, room.Id, room.Id, 0, frame), cancellationToken).ConfigureAwait(false);
        }

        return new ReceiptResult(room.Id, state.ReadSequence, state.DeliveredSequence, Math.Max(0, latest - state.ReadSequence));
    }

    /// <summary>Whether the given users are online, and when they were last seen.</summary>
    public async Task<IReadOnlyList<PresenceInfo>> GetPresenceAsync(IList<string>? userIds, CancellationToken cancellationToken)
    {
        var ids = InputRules.UserIds(userIds, "users", required: true);
        var online = await _presence.GetOnlineAsync(ids.ToList(), cancellationToken).ConfigureAwait(false);
        var profiles = (await _store.GetUsersAsync(ids.ToList(), cancellationToken).ConfigureAwait(false)).ToDictionary(p => p.Id, StringComparer.Ordinal);
        return ids.Select(id => new PresenceInfo
        {
            User = id,
            Online = online.Contains(id),
            LastSeen = online.Contains(id) ? null : profiles.GetValueOrDefault(id)?.LastSeen,
        }).ToList();
    }

    /// <summary>Users who have connected at least once whose id or name starts with <paramref name="query"/>.</summary>
    public async Task<IReadOnlyList<UserInfo>> SearchUsersAsync(string? query, int? limit, CancellationToken cancellationToken)
    {
        var take = InputRules.Limit(limit, 20, MaxSearchResults);
        var prefix = (query ?? string.Empty).Trim();
        if (prefix.Length > InputRules.MaxUserIdLength)
        {
            throw InputRules.Invalid($"Field 'query' must be at most {InputRules.MaxUserIdLength} characters.");
        }

        var profiles = await _store.SearchUsersAsync(prefix, take, cancellationToken).ConfigureAwait(false);
        var online = await _presence.GetOnlineAsync(profiles.Select(p => p.Id).ToList(), cancellationToken).ConfigureAwait(false);
        return profiles.Select(p => new UserInfo
        {
            User = p.Id,
            Name = p.DisplayName,
            Online = online.Contains(p.Id),
            LastSeen = online.Contains(p.Id) ? null : p.LastSeen,
        }).ToList();
    }

    /// <summary>Ends the typing indicators whose time ran out and tells their rooms.</summary>
    internal async Task ExpireTypingAsync(CancellationToken cancellationToken)
    {
        foreach (var (room, user) in _typing.TakeExpired(_time.GetUtcNow()))
        {
            await PublishTypingAsync(room, user, active: false, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The time stored with rooms, members and messages, in whole milliseconds: what every store can keep exactly,
    /// so an acknowledgement and a later read of the same message agree.
    /// </summary>
    private DateTimeOffset Now()
    {
        var now = _time.GetUtcNow();
        return DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds());
    }

    /// <summary>The <c>message</c> event of a stored message, as every connection receives it.</summary>
    internal static byte[] SerializeMessageEvent(ChatMessage message) =>
        ProtocolJson.SerializeMessageEvent(message.RoomId, message.Sequence, message.ClientMessageId, message.SenderId, message.Body, message.SentAt);

    private static readonly IReadOnlyDictionary<string, string> EmptyNames = new Dictionary<string, string>(StringComparer.Ordinal);

    private static void RejectDirect(Room room)
    {
        if (room.Kind == RoomKind.Direct)
        {
            throw new ChatException(ChatErrorCodes.DirectRoom, $"Room {room.Id} is a direct conversation; its members cannot change.");
        }
    }

    private static MessageInfo ToMessageInfo(ChatMessage m) =>
        new() { Room = m.RoomId, Seq = m.Sequence, Cmid = m.ClientMessageId, Sender = m.SenderId, Body = m.Body, SentAt = m.SentAt };

    private static MemberInfo ToMemberInfo(RoomMember m, IReadOnlyDictionary<string, string> names, ReadState? state = null) => new()
    {
        User = m.UserId,
        Name = names.GetValueOrDefault(m.UserId, m.UserId),
        Role = WireNames.Of(m.Role),
        JoinedAt = m.JoinedAt,
        ReadSeq = state?.ReadSequence,
        DeliveredSeq = state?.DeliveredSequence,
    };

    private static RoomInfo ToInfo(Membership m, IReadOnlyDictionary<string, string> names) => new()
    {
        Id = m.Room.Id,
        Kind = WireNames.Of(m.Room.Kind),
        Name = m.Peer is null ? m.Room.Name : names.GetValueOrDefault(m.Peer, m.Peer),
        Visibility = WireNames.Of(m.Room.Visibility),
        CreatedBy = m.Room.CreatedBy,
        CreatedAt = m.Room.CreatedAt,
        Role = WireNames.Of(m.Role),
        Peer = m.Peer,
        Encrypted = m.Room.Encrypted ? true : null,
        LatestSeq = m.LatestSequence,
        ReadSeq = m.State.ReadSequence,
        DeliveredSeq = m.State.DeliveredSequence,
        Unread = m.Unread,
    };

    private async Task<RoomInfo> GetRoomInfoAsync(ChatUser user, string roomId, CancellationToken cancellationToken)
    {
        var memberships = await _store.GetMembershipsAsync(user.Id, cancellationToken).ConfigureAwait(false);
        var membership = memberships.FirstOrDefault(m => string.Equals(m.Room.Id, roomId, StringComparison.Ordinal))
            ?? throw new ChatException(ChatErrorCodes.NotFound, $"Room {roomId} does not exist.");
        var names = await GetNamesAsync(membership.Peer is null ? [] : [membership.Peer], cancellationToken).ConfigureAwait(false);
        return ToInfo(membership, names);
    }

    /// <summary>The room and the user's membership for a frequent request, from this node's cache when it has them.</summary>
    private async ValueTask<(Room Room, RoomMember? Membership)> LoadAsync(ChatUser user, string? roomId, CancellationToken cancellationToken)
    {
        var id = InputRules.RoomId(roomId);
        if (!_cache.TryGetRoom(id, out var room))
        {
            room = await _store.GetRoomAsync(id, cancellationToken).ConfigureAwait(false)
                ?? throw new ChatException(ChatErrorCodes.NotFound, $"Room {id} does not exist.");
            _cache.Remember(room);
        }

        if (_cache.TryGetMember(id, user.Id, out var cached))
        {
            return (room, cached);
        }

        var generation = _cache.Generation;
        var membership = await _store.GetMemberAsync(id, user.Id, cancellationToken).ConfigureAwait(false);
        if (membership is not null)
        {
            _cache.Remember(membership, generation);
        }

        return (room, membership);
    }

    /// <summary>The room and the user's membership as the store has them now, for membership changes and member lists.</summary>
    private async Task<(Room Room, RoomMember? Membership)> LoadFreshAsync(ChatUser user, string? roomId, CancellationToken cancellationToken)
    {
        var id = InputRules.RoomId(roomId);
        var room = await _store.GetRoomAsync(id, cancellationToken).ConfigureAwait(false)
            ?? throw new ChatException(ChatErrorCodes.NotFound, $"Room {id} does not exist.");
        var membership = await _store.GetMemberAsync(id, user.Id, cancellationToken).ConfigureAwait(false);
        return (room, membership);
    }

    private async Task AuthorizeAsync(RoomAccessContext context, CancellationToken cancellationToken)
    {
        if (!await _authorizer.AuthorizeAsync(context, cancellationToken).ConfigureAwait(false))
        {
            var reason = context.Membership is null && context.Action != RoomAction.Join
                ? $"You are not a member of room {context.Room.Id}."
                : $"You may not {context.Action.ToString().ToLowerInvariant()} in room {context.Room.Id}.";
            throw new ChatException(ChatErrorCodes.Forbidden, reason);
        }
    }

    private async Task<IReadOnlyDictionary<string, string>> GetNamesAsync(IEnumerable<string> userIds, CancellationToken cancellationToken)
    {
        var ids = userIds.Distinct(StringComparer.Ordinal).ToList();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        if (ids.Count > 0)
        {
            foreach (var profile in await _store.GetUsersAsync(ids, cancellationToken).ConfigureAwait(false))
            {
                names[profile.Id] = profile.DisplayName;
            }
        }

        foreach (var id in ids)
        {
            names.TryAdd(id, id);
        }

        return names;
    }

    private ValueTask PublishRoomJoinedAsync(string userId, RoomInfo info, CancellationToken cancellationToken)
    {
        var frame = ProtocolJson.Serialize(new ServerFrame { Type = FrameTypes.RoomAdded, Info = info });
        return _backplane.PublishAsync(new BackplaneMessage(BackplaneMessageKind.RoomJoined, userId, info.Id, info.LatestSeq, frame), cancellationToken);
    }

    private ValueTask PublishMemberJoinedAsync(Room room, RoomMember member, string name, CancellationToken cancellationToken)
    {
        var info = new MemberInfo { User = member.UserId, Name = name, Role = WireNames.Of(member.Role), JoinedAt = member.JoinedAt };
        var frame = ProtocolJson.Serialize(new ServerFrame { Type = FrameTypes.MemberJoined, Room = room.Id, Member = info });
        return _backplane.PublishAsync(new BackplaneMessage(BackplaneMessageKind.RoomFrame, room.Id, room.Id, 0, frame), cancellationToken);
    }

    private async Task PublishMemberLeftAsync(string roomId, string userId, string reason, string by, CancellationToken cancellationToken)
    {
        _cache.Forget(roomId, userId);
        var left = ProtocolJson.Serialize(new ServerFrame { Type = FrameTypes.MemberLeft, Room = roomId, User = userId, Reason = reason, By = by });
        await _backplane.PublishAsync(new BackplaneMessage(BackplaneMessageKind.RoomFrame, roomId, roomId, 0, left), cancellationToken).ConfigureAwait(false);
        var removed = ProtocolJson.Serialize(new ServerFrame { Type = FrameTypes.RoomRemoved, Room = roomId, Reason = reason, By = by });
        await _backplane.PublishAsync(new BackplaneMessage(BackplaneMessageKind.RoomLeft, userId, roomId, 0, removed), cancellationToken).ConfigureAwait(false);
    }

    private ValueTask PublishTypingAsync(string roomId, string userId, bool active, CancellationToken cancellationToken)
    {
        var frame = ProtocolJson.Serialize(new ServerFrame { Type = FrameTypes.Typing, Room = roomId, User = userId, Active = active });
        return _backplane.PublishAsync(new BackplaneMessage(BackplaneMessageKind.RoomFrame, roomId, roomId, 0, frame), cancellationToken);
    }

    /// <summary>Sends a presence frame to each of the user's rooms.</summary>
    internal static async Task PublishPresenceAsync(IChatBackplane backplane, string userId, IReadOnlyList<string> roomIds, bool online, DateTimeOffset? lastSeen, CancellationToken cancellationToken)
    {
        var frame = ProtocolJson.Serialize(new ServerFrame { Type = FrameTypes.Presence, User = userId, Online = online, LastSeen = lastSeen });
        foreach (var roomId in roomIds)
        {
            await backplane.PublishAsync(new BackplaneMessage(BackplaneMessageKind.RoomFrame, roomId, roomId, 0, frame), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task PublishOnlineAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        foreach (var (userId, roomIds) in await _store.GetRoomIdsOfUsersAsync(userIds, cancellationToken).ConfigureAwait(false))
        {
            await PublishPresenceAsync(_backplane, userId, roomIds, online: true, lastSeen: null, cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Message {Sequence} of room {RoomId} is stored but could not be published; connections get it from the store")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, string roomId, long sequence);
}
