using ChatKit.Model;
using ChatKit.Protocol;

namespace ChatKit.Client;

// The requests of docs/protocol.md, one method each. Every one waits for a connection and its reply within
// ChatClientOptions.RequestTimeout and throws ChatClientException with the server's error code.
public sealed partial class ChatClient
{
    /// <summary>
    /// Sends a message and returns once the server has stored it. If the connection drops or the reply is late, it
    /// waits for the new connection and sends again with the same client message id, which the server stores only
    /// once; it also waits and retries after <c>rate_limited</c> and <c>unavailable</c>. At most
    /// <see cref="ChatClientOptions.MaxSendAttempts"/> attempts, each within <see cref="ChatClientOptions.RequestTimeout"/>.
    /// </summary>
    /// <param name="room">The room id.</param>
    /// <param name="body">The text: not empty, at most <see cref="ProtocolLimits.MaxMessageBytes"/> UTF-8 bytes.</param>
    /// <param name="clientMessageId">
    /// The message's own id (1 to 64 characters from <c>A-Z a-z 0-9 - _ . :</c>); a new one when <see langword="null"/>.
    /// Pass the same id to send the same message again after a restart.
    /// </param>
    /// <param name="cancellationToken">Stops waiting; the message may have been stored already.</param>
    /// <exception cref="ChatClientException">The server refused the message, or every attempt failed; the last error.</exception>
    public async Task<SendReceipt> SendAsync(string room, string body, string? clientMessageId = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(room);
        ArgumentException.ThrowIfNullOrEmpty(body);
        var cmid = clientMessageId ?? Guid.NewGuid().ToString("N");
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var reply = await RequestAsync(new ClientFrame { Type = FrameTypes.Send, Room = room, Cmid = cmid, Body = body }, cancellationToken).ConfigureAwait(false);
                return new SendReceipt
                {
                    Room = ServerFrames.Require(reply, reply.Room, "room"),
                    Seq = ServerFrames.RequireValue(reply, reply.Seq, "seq"),
                    Cmid = ServerFrames.Require(reply, reply.Cmid, "cmid"),
                    SentAt = ServerFrames.RequireValue(reply, reply.SentAt, "sentAt"),
                    Duplicate = reply.Duplicate ?? false,
                };
            }
            catch (ChatClientException ex) when (attempt < _options.MaxSendAttempts && SendRetryDelay(ex, attempt) is { } delay)
            {
                LogSendRetry(_logger, cmid, room, attempt, ex.Code, delay);
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>
    /// Reads a page of a room's messages, in ascending sequence order. With neither <paramref name="before"/> nor
    /// <paramref name="after"/>, the newest page. The page raises the room's resume position, so messages it returned
    /// are not delivered again as <see cref="MessageEvent"/>s (the event stream skips them).
    /// </summary>
    /// <param name="room">The room id.</param>
    /// <param name="before">Only messages with a lower sequence number (scrolling back).</param>
    /// <param name="after">Only messages with a higher sequence number, oldest first (catching up).</param>
    /// <param name="limit">The page size, 1 to <see cref="ProtocolLimits.MaxHistoryPage"/>; the server's default (50) when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task<HistoryPage> GetHistoryAsync(string room, long? before = null, long? after = null, int? limit = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(room);
        var reply = await RequestAsync(new ClientFrame { Type = FrameTypes.History, Room = room, Before = before, After = after, Limit = limit }, cancellationToken).ConfigureAwait(false);
        return new HistoryPage
        {
            Room = ServerFrames.Require(reply, reply.Room, "room"),
            Messages = ServerFrames.Require(reply, reply.Messages, "messages"),
            HasMore = ServerFrames.RequireValue(reply, reply.HasMore, "hasMore"),
        };
    }

    /// <summary>Lists the user's rooms, with the user's role and read state in each.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task<IReadOnlyList<RoomInfo>> ListRoomsAsync(CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync(new ClientFrame { Type = FrameTypes.RoomsList }, cancellationToken).ConfigureAwait(false);
        return ServerFrames.Require(reply, reply.Rooms, "rooms");
    }

    /// <summary>Lists public group rooms anyone may join, newest first.</summary>
    /// <param name="limit">How many at most; the server's default when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task<IReadOnlyList<RoomInfo>> ListPublicRoomsAsync(int? limit = null, CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync(new ClientFrame { Type = FrameTypes.RoomsPublic, Limit = limit }, cancellationToken).ConfigureAwait(false);
        return ServerFrames.Require(reply, reply.Rooms, "rooms");
    }

    /// <summary>Creates a group room owned by the user; each listed member is added and gets <see cref="RoomAddedEvent"/>.</summary>
    /// <param name="name">The room's name.</param>
    /// <param name="visibility">Whether anyone may join it, or only people an owner or admin invites.</param>
    /// <param name="members">User ids to add as members, at most 100.</param>
    /// <param name="cancellationToken">Stops waiting; the room may have been created.</param>
    public Task<RoomInfo> CreateRoomAsync(string name, RoomVisibility visibility = RoomVisibility.Private, IEnumerable<string>? members = null, CancellationToken cancellationToken = default) =>
        CreateRoomAsync(name, visibility, members, encrypted: false, cancellationToken);

    /// <summary>
    /// Creates a private, end-to-end encrypted group room: the server refuses any body in it that is not an encrypted
    /// envelope. Send to it and read it through <see cref="EndToEndEncryption"/>.
    /// </summary>
    /// <param name="name">The room's name.</param>
    /// <param name="members">User ids to add as members, at most 100.</param>
    /// <param name="cancellationToken">Stops waiting; the room may have been created.</param>
    public Task<RoomInfo> CreateEncryptedRoomAsync(string name, IEnumerable<string>? members = null, CancellationToken cancellationToken = default) =>
        CreateRoomAsync(name, RoomVisibility.Private, members, encrypted: true, cancellationToken);

    /// <summary>Opens the direct conversation with a user, or returns the existing one.</summary>
    /// <param name="user">The other user's id; not the caller's own.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public Task<RoomInfo> OpenDirectAsync(string user, CancellationToken cancellationToken = default) => OpenDirectAsync(user, encrypted: false, cancellationToken);

    /// <summary>
    /// Opens the end-to-end encrypted conversation with a user (a room of its own, next to the plain one), or returns
    /// the existing one. Send to it and read it through <see cref="EndToEndEncryption"/>.
    /// </summary>
    /// <param name="user">The other user's id; not the caller's own.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public Task<RoomInfo> OpenEncryptedDirectAsync(string user, CancellationToken cancellationToken = default) => OpenDirectAsync(user, encrypted: true, cancellationToken);

    private async Task<RoomInfo> CreateRoomAsync(string name, RoomVisibility visibility, IEnumerable<string>? members, bool encrypted, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var request = new ClientFrame { Type = FrameTypes.RoomsCreate, Name = name, Visibility = WireNames.Of(visibility), Members = members?.ToList(), Encrypted = encrypted ? true : null };
        var reply = await RequestAsync(request, cancellationToken).ConfigureAwait(false);
        return ServerFrames.Require(reply, reply.Info, "info");
    }

    private async Task<RoomInfo> OpenDirectAsync(string user, bool encrypted, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        var reply = await RequestAsync(new ClientFrame { Type = FrameTypes.RoomsDirect, User = user, Encrypted = encrypted ? true : null }, cancellationToken).ConfigureAwait(false);
        return ServerFrames.Require(reply, reply.Info, "info");
    }

    /// <summary>Joins a public room; harmless when already a member. A private room answers <c>forbidden</c>.</summary>
    /// <param name="room">The room id.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task<RoomInfo> JoinAsync(string room, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(room);
        var reply = await RequestAsync(new ClientFrame { Type = FrameTypes.RoomsJoin, Room = room }, cancellationToken).ConfigureAwait(false);
        return ServerFrames.Require(reply, reply.Info, "info");
    }

    /// <summary>Leaves a room. The owner cannot leave; direct conversations answer <c>direct_room</c>.</summary>
    /// <param name="room">The room id.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task LeaveAsync(string room, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(room);
        await RequestAsync(new ClientFrame { Type = FrameTypes.RoomsLeave, Room = room }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lists a room's members.</summary>
    /// <param name="room">The room id.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task<IReadOnlyList<MemberInfo>> ListMembersAsync(string room, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(room);
        var reply = await RequestAsync(new ClientFrame { Type = FrameTypes.MembersList, Room = room }, cancellationToken).ConfigureAwait(false);
        return ServerFrames.Require(reply, reply.Members, "members");
    }

    /// <summary>Adds a user to a room at once. Owners and admins invite; only the owner invites an admin.</summary>
    /// <param name="room">The room id.</param>
    /// <param name="user">The user to add.</param>
    /// <param name="role"><see cref="MemberRole.Member"/> or <see cref="MemberRole.Admin"/>.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task<MemberInfo> InviteAsync(string room, string user, MemberRole role = MemberRole.Member, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(room);
        ArgumentException.ThrowIfNullOrEmpty(user);
        var request = new ClientFrame { Type = FrameTypes.MembersInvite, Room = room, User = user, Role = WireNames.OfInvite(role) };
        var reply = await RequestAsync(request, cancellationToken).ConfigureAwait(false);
        return ServerFrames.Require(reply, reply.Member, "member");
    }

    /// <summary>Removes a member. Owners and admins remove members; only the owner removes an admin; nobody removes the owner.</summary>
    /// <param name="room">The room id.</param>
    /// <param name="user">The member to remove.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task RemoveMemberAsync(string room, string user, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(room);
        ArgumentException.ThrowIfNullOrEmpty(user);
        await RequestAsync(new ClientFrame { Type = FrameTypes.MembersRemove, Room = room, User = user }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Shows or hides the user's typing indicator in a room. The indicator lasts <see cref="ProtocolLimits.TypingTtlMs"/>:
    /// repeat the call while the user keeps typing.
    /// </summary>
    /// <param name="room">The room id.</param>
    /// <param name="active"><see langword="false"/> to hide the indicator at once.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task SetTypingAsync(string room, bool active = true, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(room);
        await RequestAsync(new ClientFrame { Type = FrameTypes.Typing, Room = room, Active = active }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Moves the user's delivered position in a room forward (never back).</summary>
    /// <param name="room">The room id.</param>
    /// <param name="seq">Every message up to this sequence number reached the user; 1 to the room's latest.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public Task<ReceiptState> MarkDeliveredAsync(string room, long seq, CancellationToken cancellationToken = default) =>
        MarkAsync(room, seq, ReceiptKind.Delivered, cancellationToken);

    /// <summary>Moves the user's read position in a room forward (never back); reading implies delivered.</summary>
    /// <param name="room">The room id.</param>
    /// <param name="seq">Every message up to this sequence number is read; 1 to the room's latest.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The positions after the receipt, with the number of unread messages.</returns>
    public Task<ReceiptState> MarkReadAsync(string room, long seq, CancellationToken cancellationToken = default) =>
        MarkAsync(room, seq, ReceiptKind.Read, cancellationToken);

    /// <summary>Asks whether users are online and when they were last seen.</summary>
    /// <param name="users">User ids, at most 100.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task<IReadOnlyList<PresenceInfo>> GetPresenceAsync(IEnumerable<string> users, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(users);
        var reply = await RequestAsync(new ClientFrame { Type = FrameTypes.Presence, Users = users.ToList() }, cancellationToken).ConfigureAwait(false);
        return ServerFrames.Require(reply, reply.Presence, "presence");
    }

    /// <summary>Finds users whose id or name starts with a prefix.</summary>
    /// <param name="query">The prefix; every user when <see langword="null"/>.</param>
    /// <param name="limit">How many at most; the server's default when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async Task<IReadOnlyList<UserInfo>> SearchUsersAsync(string? query = null, int? limit = null, CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync(new ClientFrame { Type = FrameTypes.UsersSearch, Query = query, Limit = limit }, cancellationToken).ConfigureAwait(false);
        return ServerFrames.Require(reply, reply.Users, "users");
    }

    /// <summary>Checks that the server answers.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The round trip time, measured with <see cref="ChatClientOptions.TimeProvider"/>.</returns>
    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        var started = _time.GetTimestamp();
        await RequestAsync(new ClientFrame { Type = FrameTypes.Ping }, cancellationToken).ConfigureAwait(false);
        return _time.GetElapsedTime(started);
    }

    private async Task<ReceiptState> MarkAsync(string room, long seq, ReceiptKind kind, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(room);
        ArgumentOutOfRangeException.ThrowIfLessThan(seq, 1);
        var request = new ClientFrame { Type = FrameTypes.Receipt, Room = room, Seq = seq, Kind = WireNames.Of(kind) };
        var reply = await RequestAsync(request, cancellationToken).ConfigureAwait(false);
        return new ReceiptState
        {
            Room = ServerFrames.Require(reply, reply.Room, "room"),
            ReadSeq = ServerFrames.RequireValue(reply, reply.ReadSeq, "readSeq"),
            DeliveredSeq = ServerFrames.RequireValue(reply, reply.DeliveredSeq, "deliveredSeq"),
            Unread = ServerFrames.RequireValue(reply, reply.Unread, "unread"),
        };
    }

    /// <summary>How long to wait before sending a message again after this failure; <see langword="null"/> when the failure is final.</summary>
    private TimeSpan? SendRetryDelay(ChatClientException failure, int attempt) => failure.Code switch
    {
        // The next attempt waits for the new connection itself.
        ChatClientErrorCodes.ConnectionLost or ChatClientErrorCodes.Timeout => TimeSpan.Zero,
        ChatErrorCodes.RateLimited => failure.RetryAfter ?? _options.ReconnectInitialDelay,
        ChatErrorCodes.Unavailable => ReconnectDelay(attempt),
        _ => null,
    };
}
