using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using ChatKit.Diagnostics;
using ChatKit.Engine;
using ChatKit.Model;
using ChatKit.Protocol;
using Microsoft.Extensions.Logging;

namespace ChatKit.Sessions;

/// <summary>
/// One client connection speaking protocol <c>chatkit.v1</c>, independent of the socket under it
/// (<see cref="IChatTransport"/>). The transport feeds it frames with <see cref="HandleFrameAsync"/> from one read
/// loop and runs <see cref="RunAsync"/>, the single writer loop, beside it.
/// </summary>
/// <remarks>
/// The writer keeps one cursor per room, so each room's messages reach the client once and in sequence order:
/// a message at or below the cursor is dropped, a message past a gap first pulls the missing ones from the store.
/// Everything queued for the client counts against <see cref="ChatKitOptions.MaxOutboundBufferBytes"/>; past it,
/// the session closes with 4008 and the client resumes from its last sequence when it reconnects.
/// </remarks>
public sealed partial class ChatSession : IAsyncDisposable
{
    private const int CatchUpPageSize = 256;
    private const int MaxResumeRooms = 10_000;

    private readonly ChatEngine _engine;
    private readonly ConnectionRegistry _registry;
    private readonly IChatTransport _transport;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ChatKitOptions _options;
    private readonly Channel<OutboundItem> _outbound = Channel.CreateUnbounded<OutboundItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, long> _cursors = new(StringComparer.Ordinal);
    private readonly TokenBucket _rate;
    private readonly CancellationTokenSource _sendCancellation = new();
    private readonly ITimer _helloTimer;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _pendingBytes;
    private long _peakPendingBytes;
    private int _overflowed;
    private int _disposed;
    private bool _helloDone;

    /// <summary>Creates a session for an authenticated user over a transport.</summary>
    public ChatSession(ChatEngine engine, ConnectionRegistry registry, ChatUser user, IChatTransport transport, TimeProvider time, ILogger<ChatSession> logger)
    {
        _engine = engine;
        _registry = registry;
        _transport = transport;
        _time = time;
        _logger = logger;
        _options = engine.Options;
        User = user;
        ConnectionId = "c_" + Guid.NewGuid().ToString("N");
        _rate = new TokenBucket(time, _options.RatePerSecond, _options.RateBurst);
        _helloTimer = time.CreateTimer(static state => ((ChatSession)state!).OnHelloTimeout(), this, _options.HelloTimeout, Timeout.InfiniteTimeSpan);
        ChatKitTelemetry.Connections.Add(1);
    }

    /// <summary>The authenticated user.</summary>
    public ChatUser User { get; }

    /// <summary>This connection's id.</summary>
    public string ConnectionId { get; }

    /// <summary>The most bytes that were ever queued for this client at once; never above the outbound limit.</summary>
    public long PeakPendingBytes => Interlocked.Read(ref _peakPendingBytes);

    /// <summary>Whether the session was closed because the client read too slowly.</summary>
    public bool Overflowed => Volatile.Read(ref _overflowed) == 1;

    /// <summary>Completes when the session has been torn down and unregistered.</summary>
    public Task Closed => _closed.Task;

    /// <summary>The rooms this session receives; guarded by the registry's lock.</summary>
    internal HashSet<string> SubscribedRooms { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The writer loop: sends queued frames in order until the session closes. Returns when the connection should be
    /// torn down; never throws for a broken socket.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _sendCancellation.Token);
        var token = linked.Token;
        try
        {
            var reader = _outbound.Reader;
            while (await reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                while (!Overflowed && reader.TryRead(out var item))
                {
                    if (!await ProcessAsync(item, token).ConfigureAwait(false))
                    {
                        return;
                    }
                }

                if (Overflowed)
                {
                    await CloseForOverflowAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            _transport.Abort();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogWriterFailed(_logger, ex, ConnectionId);
            _transport.Abort();
        }
    }

    /// <summary>Handles one text frame from the client. Called by the transport's read loop, one frame at a time.</summary>
    public async ValueTask HandleFrameAsync(ReadOnlyMemory<byte> utf8Frame, CancellationToken cancellationToken)
    {
        ClientFrame? frame;
        try
        {
            frame = ProtocolJson.ParseClientFrame(utf8Frame.Span);
        }
        catch (JsonException ex)
        {
            SendError(TryReadId(utf8Frame.Span), ChatErrorCodes.MalformedFrame, $"The frame is not a valid JSON request: {ex.Message}");
            return;
        }

        if (frame is null)
        {
            SendError(null, ChatErrorCodes.MalformedFrame, "The frame must be a JSON object.");
            return;
        }

        if (string.IsNullOrEmpty(frame.Id))
        {
            SendError(null, ChatErrorCodes.MissingField, "Field 'id' is required: every request needs an id for its reply.");
            return;
        }

        if (frame.Id.Length > InputRules.MaxRequestIdLength)
        {
            SendError(null, ChatErrorCodes.InvalidField, $"Field 'id' must be at most {InputRules.MaxRequestIdLength} characters.");
            return;
        }

        if (!_rate.TryTake(out var retryAfter))
        {
            var wait = (int)Math.Ceiling(retryAfter.TotalMilliseconds);
            SendFrame(new ServerFrame { Type = FrameTypes.Error, Re = frame.Id, Code = ChatErrorCodes.RateLimited, Message = $"Too many frames; try again in {wait} ms.", RetryAfterMs = wait });
            ChatKitTelemetry.Errors.Add(1, new KeyValuePair<string, object?>("code", ChatErrorCodes.RateLimited));
            return;
        }

        if (string.IsNullOrEmpty(frame.Type))
        {
            SendError(frame.Id, ChatErrorCodes.MissingField, "Field 'type' is required.");
            return;
        }

        if (!_helloDone && !string.Equals(frame.Type, FrameTypes.Hello, StringComparison.Ordinal))
        {
            SendError(frame.Id, ChatErrorCodes.HelloRequired, "The first request on a connection must be 'hello'.");
            return;
        }

        using var activity = ChatKitTelemetry.ActivitySource.StartActivity("chatkit " + frame.Type, ActivityKind.Server);
        activity?.SetTag("chatkit.user", User.Id);
        activity?.SetTag("chatkit.room", frame.Room);
        try
        {
            var reply = await DispatchAsync(frame, cancellationToken).ConfigureAwait(false);
            if (reply is not null)
            {
                reply.Type = FrameTypes.Reply;
                reply.Re = frame.Id;
                SendFrame(reply);
            }
        }
        catch (ChatException ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Code);
            SendError(frame.Id, ex.Code, ex.Message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            LogRequestFailed(_logger, ex, frame.Type, ConnectionId);
            SendError(frame.Id, ChatErrorCodes.InternalError, "The server failed to handle the request; it has been logged.");
        }
    }

    /// <summary>Answers a frame the transport could not pass on (too large, or binary) with an error.</summary>
    public void RejectFrame(string code, string message) => SendError(null, code, message);

    /// <summary>Closes the connection after everything queued before this call has been sent.</summary>
    public void Close(int closeCode, string reason) =>
        _outbound.Writer.TryWrite(new OutboundItem(OutboundKind.Close, null, closeCode, ReadOnlyMemory<byte>.Empty, reason));

    /// <summary>Unregisters the session and, when it was the user's last connection, marks the user offline.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _helloTimer.DisposeAsync().ConfigureAwait(false);
        _outbound.Writer.TryComplete();
        ChatKitTelemetry.Connections.Add(-1);
        if (_helloDone)
        {
            _registry.Remove(this);
            try
            {
                await _engine.UserDisconnectedAsync(User, ConnectionId, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogRequestFailed(_logger, ex, "disconnect", ConnectionId);
            }
        }

        _sendCancellation.Dispose();
        _closed.TrySetResult();
    }

    internal void EnqueueFrame(ReadOnlyMemory<byte> frame) => Enqueue(new OutboundItem(OutboundKind.Frame, null, 0, frame, null));

    internal void EnqueueRoomFrame(string roomId, long sequence, ReadOnlyMemory<byte> frame) =>
        Enqueue(new OutboundItem(sequence > 0 ? OutboundKind.RoomMessage : OutboundKind.Frame, roomId, sequence, frame, null));

    internal void EnqueueSubscribe(string roomId, long joinedAt, ReadOnlyMemory<byte> frame) => Enqueue(new OutboundItem(OutboundKind.Subscribe, roomId, joinedAt, frame, null));

    internal void EnqueueUnsubscribe(string roomId, ReadOnlyMemory<byte> frame) => Enqueue(new OutboundItem(OutboundKind.Unsubscribe, roomId, 0, frame, null));

    private void SendFrame(ServerFrame frame) => EnqueueFrame(ProtocolJson.Serialize(frame));

    private void SendError(string? re, string code, string message)
    {
        ChatKitTelemetry.Errors.Add(1, new KeyValuePair<string, object?>("code", code));
        SendFrame(new ServerFrame { Type = FrameTypes.Error, Re = re, Code = code, Message = message });
    }

    private void Enqueue(OutboundItem item)
    {
        if (Overflowed)
        {
            return;
        }

        var pending = Interlocked.Add(ref _pendingBytes, item.Frame.Length);
        if (pending > _options.MaxOutboundBufferBytes)
        {
            Interlocked.Add(ref _pendingBytes, -item.Frame.Length);
            Overflow();
            return;
        }

        long peak;
        while (pending > (peak = Interlocked.Read(ref _peakPendingBytes)) && Interlocked.CompareExchange(ref _peakPendingBytes, pending, peak) != peak)
        {
        }

        if (!_outbound.Writer.TryWrite(item))
        {
            Interlocked.Add(ref _pendingBytes, -item.Frame.Length);
        }
    }

    private void Overflow()
    {
        if (Interlocked.Exchange(ref _overflowed, 1) == 1)
        {
            return;
        }

        ChatKitTelemetry.OutboundOverflows.Add(1);
        LogOverflow(_logger, ConnectionId, User.Id, _options.MaxOutboundBufferBytes);

        // Wake the writer; a send stuck on a client that reads nothing is abandoned after the close timeout.
        _outbound.Writer.TryWrite(new OutboundItem(OutboundKind.Close, null, ChatCloseCodes.OutboundOverflow, ReadOnlyMemory<byte>.Empty, "outbound_overflow"));
        try
        {
            _sendCancellation.CancelAfter(_options.CloseTimeout);
        }
        catch (ObjectDisposedException)
        {
            // The session was torn down meanwhile: there is no send left to abandon.
        }
    }

    private async Task CloseForOverflowAsync()
    {
        try
        {
            await _transport.CloseAsync(ChatCloseCodes.OutboundOverflow, "outbound_overflow", _sendCancellation.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _transport.Abort();
        }
    }

    private void OnHelloTimeout()
    {
        if (!Volatile.Read(ref _helloDone))
        {
            Close(ChatCloseCodes.HelloTimeout, "hello_timeout");
        }
    }

    private async ValueTask<bool> ProcessAsync(OutboundItem item, CancellationToken cancellationToken)
    {
        switch (item.Kind)
        {
            case OutboundKind.Frame:
                await SendAsync(item.Frame, cancellationToken).ConfigureAwait(false);
                break;
            case OutboundKind.RoomMessage:
                if (_cursors.TryGetValue(item.Room!, out var cursor) && item.Sequence > cursor)
                {
                    if (item.Sequence > cursor + 1)
                    {
                        await CatchUpAsync(item.Room!, cursor, item.Sequence - 1, cancellationToken).ConfigureAwait(false);
                    }

                    await SendAsync(item.Frame, cancellationToken).ConfigureAwait(false);
                    _cursors[item.Room!] = item.Sequence;
                }

                break;
            case OutboundKind.Start:
                await StartAsync((ClientFrame)item.State!, cancellationToken).ConfigureAwait(false);
                break;
            case OutboundKind.Subscribe:
                await SendAsync(item.Frame, cancellationToken).ConfigureAwait(false);
                if (!_cursors.ContainsKey(item.Room!))
                {
                    // Everything after the join position reaches the client: what was published before this
                    // session subscribed comes from the store, what is queued behind this item goes out live.
                    var latest = await _engine.Store.GetLatestSequenceAsync(item.Room!, cancellationToken).ConfigureAwait(false);
                    await CatchUpAsync(item.Room!, item.Sequence, latest, cancellationToken).ConfigureAwait(false);
                }

                break;
            case OutboundKind.Unsubscribe:
                _cursors.Remove(item.Room!);
                await SendAsync(item.Frame, cancellationToken).ConfigureAwait(false);
                break;
            case OutboundKind.Close:
                using (var timeout = new CancellationTokenSource(_options.CloseTimeout, _time))
                {
                    await _transport.CloseAsync((int)item.Sequence, (string)item.State!, timeout.Token).ConfigureAwait(false);
                }

                return false;
        }

        Interlocked.Add(ref _pendingBytes, -item.Frame.Length);
        return true;
    }

    private async ValueTask SendAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        await _transport.SendAsync(frame, cancellationToken).ConfigureAwait(false);
        ChatKitTelemetry.FramesSent.Add(1);
    }

    private async Task StartAsync(ClientFrame hello, CancellationToken cancellationToken)
    {
        var rooms = await _engine.GetRoomsAsync(User, cancellationToken).ConfigureAwait(false);
        await SendAsync(ProtocolJson.Serialize(new ServerFrame
        {
            Type = FrameTypes.Reply,
            Re = hello.Id,
            Protocol = ChatProtocol.Version,
            User = User.Id,
            Name = User.DisplayName,
            Connection = ConnectionId,
            Rooms = rooms,
            Limits = new ProtocolLimits
            {
                MaxFrameBytes = _options.MaxFrameBytes,
                MaxMessageBytes = _options.MaxMessageBytes,
                MaxHistoryPage = _options.MaxHistoryPageSize,
                TypingTtlMs = (int)_options.TypingTimeout.TotalMilliseconds,
                RatePerSecond = _options.RatePerSecond,
                RateBurst = _options.RateBurst,
            },
        }), cancellationToken).ConfigureAwait(false);

        foreach (var room in rooms)
        {
            var latest = room.LatestSeq;
            if (hello.Resume is not null && hello.Resume.TryGetValue(room.Id, out var seen) && seen < latest)
            {
                await CatchUpAsync(room.Id, Math.Max(0, seen), latest, cancellationToken).ConfigureAwait(false);
            }

            _cursors[room.Id] = latest;
        }
    }

    /// <summary>Sends the room's stored messages after <paramref name="from"/> up to <paramref name="to"/>, in order.</summary>
    private async Task CatchUpAsync(string roomId, long from, long to, CancellationToken cancellationToken)
    {
        var cursor = from;
        while (cursor < to)
        {
            var page = await _engine.Store.GetMessagesAsync(roomId, new MessageRange(cursor, to + 1, CatchUpPageSize), cancellationToken).ConfigureAwait(false);
            if (page.Count == 0)
            {
                LogGapNotInStore(_logger, roomId, cursor + 1, to);
                break;
            }

            foreach (var message in page)
            {
                await SendAsync(ChatEngine.SerializeMessageEvent(message), cancellationToken).ConfigureAwait(false);
                cursor = message.Sequence;
            }
        }

        _cursors[roomId] = to;
    }

    private async Task<ServerFrame?> DispatchAsync(ClientFrame frame, CancellationToken cancellationToken)
    {
        var ct = cancellationToken;
        switch (frame.Type)
        {
            case FrameTypes.Hello:
                await HelloAsync(frame, ct).ConfigureAwait(false);
                return null;
            case FrameTypes.Send:
                var sent = await _engine.SendAsync(User, frame.Room, frame.Cmid, frame.Body, ct).ConfigureAwait(false);
                return new ServerFrame { Room = sent.Room, Seq = sent.Seq, Cmid = sent.Cmid, SentAt = sent.SentAt, Duplicate = sent.Duplicate };
            case FrameTypes.History:
                var page = await _engine.GetHistoryAsync(User, frame.Room, frame.Before, frame.After, frame.Limit, ct).ConfigureAwait(false);
                return new ServerFrame { Room = page.Room, Messages = page.Messages, HasMore = page.HasMore };
            case FrameTypes.RoomsList:
                return new ServerFrame { Rooms = await _engine.GetRoomsAsync(User, ct).ConfigureAwait(false) };
            case FrameTypes.RoomsPublic:
                return new ServerFrame { Rooms = await _engine.GetPublicRoomsAsync(User, frame.Limit, ct).ConfigureAwait(false) };
            case FrameTypes.RoomsCreate:
                return new ServerFrame { Info = await _engine.CreateRoomAsync(User, frame.Name, frame.Visibility, frame.Members, ct).ConfigureAwait(false) };
            case FrameTypes.RoomsDirect:
                return new ServerFrame { Info = await _engine.OpenDirectAsync(User, frame.User, ct).ConfigureAwait(false) };
            case FrameTypes.RoomsJoin:
                return new ServerFrame { Info = await _engine.JoinAsync(User, frame.Room, ct).ConfigureAwait(false) };
            case FrameTypes.RoomsLeave:
                await _engine.LeaveAsync(User, frame.Room, ct).ConfigureAwait(false);
                return new ServerFrame();
            case FrameTypes.MembersList:
                var members = await _engine.GetMembersAsync(User, frame.Room, ct).ConfigureAwait(false);
                return new ServerFrame { Room = frame.Room, Members = members };
            case FrameTypes.MembersInvite:
                return new ServerFrame { Member = await _engine.InviteAsync(User, frame.Room, frame.User, frame.Role, ct).ConfigureAwait(false) };
            case FrameTypes.MembersRemove:
                await _engine.RemoveMemberAsync(User, frame.Room, frame.User, ct).ConfigureAwait(false);
                return new ServerFrame();
            case FrameTypes.Typing:
                await _engine.SetTypingAsync(User, frame.Room, frame.Active ?? true, ct).ConfigureAwait(false);
                return new ServerFrame();
            case FrameTypes.Receipt:
                var receipt = await _engine.MarkAsync(User, frame.Room, frame.Seq, frame.Kind, ct).ConfigureAwait(false);
                return new ServerFrame { Room = receipt.Room, ReadSeq = receipt.ReadSeq, DeliveredSeq = receipt.DeliveredSeq, Unread = receipt.Unread };
            case FrameTypes.Presence:
                return new ServerFrame { Presence = await _engine.GetPresenceAsync(frame.Users, ct).ConfigureAwait(false) };
            case FrameTypes.UsersSearch:
                return new ServerFrame { Users = await _engine.SearchUsersAsync(frame.Query, frame.Limit, ct).ConfigureAwait(false) };
            case FrameTypes.Ping:
                return new ServerFrame();
            default:
                throw new ChatException(ChatErrorCodes.UnknownType, $"Unknown request type '{frame.Type}'; see docs/protocol.md for the types of protocol version {ChatProtocol.Version}.");
        }
    }

    /// <summary>Finds a top-level string <c>id</c> in a frame that failed to parse, so its error can still answer it.</summary>
    private static string? TryReadId(ReadOnlySpan<byte> utf8Frame)
    {
        var reader = new Utf8JsonReader(utf8Frame);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("id"u8)
                    && reader.Read() && reader.TokenType == JsonTokenType.String)
                {
                    var id = reader.GetString();
                    return id is { Length: > 0 and <= InputRules.MaxRequestIdLength } ? id : null;
                }
            }
        }
        catch (JsonException)
        {
            // Past the point where the frame stops being JSON there is no id to find.
        }

        return null;
    }

    private async Task HelloAsync(ClientFrame hello, CancellationToken cancellationToken)
    {
        if (_helloDone)
        {
            throw new ChatException(ChatErrorCodes.AlreadyConnected, "This connection already said hello; reconnect to resume from other positions.");
        }

        if (hello.Resume is { Count: > MaxResumeRooms })
        {
            throw InputRules.Invalid($"Field 'resume' lists more than {MaxResumeRooms} rooms.");
        }

        await _engine.UserConnectedAsync(User, ConnectionId, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _helloDone, true);

        // Queue the start before subscribing: every live message queued after it is ordered against the cursors it sets.
        Enqueue(new OutboundItem(OutboundKind.Start, null, 0, ReadOnlyMemory<byte>.Empty, hello));
        _registry.Add(this);
        foreach (var membership in await _engine.Store.GetMembershipsAsync(User.Id, cancellationToken).ConfigureAwait(false))
        {
            _registry.Subscribe(this, membership.Room.Id);
        }
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Error, Message = "Request {Type} on connection {ConnectionId} failed")]
    private static partial void LogRequestFailed(ILogger logger, Exception exception, string type, string connectionId);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Writer of connection {ConnectionId} stopped")]
    private static partial void LogWriterFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Connection {ConnectionId} of user {UserId} read too slowly: more than {Limit} bytes queued; closing it with 4008")]
    private static partial void LogOverflow(ILogger logger, string connectionId, string userId, int limit);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Room {RoomId} messages {From} to {To} are not in the store yet; the client gets them when it resumes")]
    private static partial void LogGapNotInStore(ILogger logger, string roomId, long from, long to);
}
