using System.Diagnostics;
using System.Text.Json;
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
    // Enqueue limits the queue by bytes.
    private readonly OutboundQueue _outbound = new();
    private readonly Dictionary<string, long> _cursors = new(StringComparer.Ordinal);
    private readonly TokenBucket _rate;
    private readonly CancellationTokenSource _sendCancellation = new();
    private ITimer? _helloTimer;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _pendingBytes;
    private long _peakPendingBytes;
    private int _overflowed;
    private int _closing;
    private int _disposed;
    private bool _helloReceived;
    private bool _helloDone;
    private bool _started;

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

    /// <summary>Whether the registry has let go of the session for good; guarded by the registry's lock.</summary>
    internal bool Unregistered { get; set; }

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

        // The wait below takes no token, so it reuses one waiter; cancellation ends it by completing the queue.
        using var wake = token.UnsafeRegister(static state => ((ChatSession)state!)._outbound.Complete(), this);
        try
        {
            // Cancelled before it starts (the registration above then already completed the queue): send nothing.
            token.ThrowIfCancellationRequested();
            while (await _outbound.WaitToReadAsync().ConfigureAwait(false))
            {
                while (!Overflowed && _outbound.TryRead(out var item))
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

            token.ThrowIfCancellationRequested();
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
    /// <param name="utf8Frame">The frame's bytes.</param>
    /// <param name="cancellationToken">Cancelled when the connection is being torn down.</param>
    public async ValueTask HandleFrameAsync(ReadOnlyMemory<byte> utf8Frame, CancellationToken cancellationToken)
    {
        // Every frame costs a token, malformed ones too, so no kind of frame can make the server work without limit.
        if (!TakeRateToken(utf8Frame.Span))
        {
            return;
        }

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
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Not our cancellation: a port gave up (a database command timeout, say). Nothing was changed.
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            LogRequestFailed(_logger, ex, frame.Type, ConnectionId);
            SendError(frame.Id, ChatErrorCodes.Unavailable, "A backing service did not answer in time; nothing was changed. Retry the request.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            LogRequestFailed(_logger, ex, frame.Type, ConnectionId);
            SendError(frame.Id, ChatErrorCodes.InternalError, "The server failed to handle the request; it has been logged.");
        }
    }

    /// <summary>Answers a frame the transport could not pass on (too large, or binary) with an error.</summary>
    public void RejectFrame(string code, string message)
    {
        if (TakeRateToken(ReadOnlySpan<byte>.Empty))
        {
            SendError(null, code, message);
        }
    }

    /// <summary>
    /// Closes the connection with a close code: whatever is still queued for the client is dropped (a resuming
    /// client gets it again), a catch-up in progress stops, and the close goes out next.
    /// </summary>
    public void Close(int closeCode, string reason)
    {
        Interlocked.Exchange(ref _closing, 1);
        _outbound.TryWrite(new OutboundItem(OutboundKind.Close, null, closeCode, ReadOnlyMemory<byte>.Empty, reason));
    }

    /// <summary>Unregisters the session and, when it was the user's last connection, marks the user offline.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (Interlocked.Exchange(ref _helloTimer, null) is { } helloTimer)
        {
            await helloTimer.DisposeAsync().ConfigureAwait(false);
        }

        _outbound.Complete();
        ChatKitTelemetry.Connections.Add(-1);
        if (Volatile.Read(ref _helloReceived))
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

    internal void EnqueueEvent(ReadOnlyMemory<byte> frame) => Enqueue(new OutboundItem(OutboundKind.Event, null, 0, frame, null));

    internal void EnqueueRoomFrame(string roomId, long sequence, ReadOnlyMemory<byte> frame) =>
        Enqueue(new OutboundItem(sequence > 0 ? OutboundKind.RoomMessage : OutboundKind.Event, roomId, sequence, frame, null));

    internal void EnqueueSubscribe(string roomId, long joinedAt, ReadOnlyMemory<byte> frame, Task ready) => Enqueue(new OutboundItem(OutboundKind.Subscribe, roomId, joinedAt, frame, ready));

    internal void EnqueueCatchUp() => Enqueue(new OutboundItem(OutboundKind.CatchUp, null, 0, ReadOnlyMemory<byte>.Empty, null));

    internal void EnqueueUnsubscribe(string roomId, ReadOnlyMemory<byte> frame) => Enqueue(new OutboundItem(OutboundKind.Unsubscribe, roomId, 0, frame, null));

    private void SendFrame(ServerFrame frame) => SendFrame(ProtocolJson.Serialize(frame));

    private void SendFrame(byte[] utf8Frame) => Enqueue(new OutboundItem(OutboundKind.Frame, null, 0, utf8Frame, null));

    private bool TakeRateToken(ReadOnlySpan<byte> utf8Frame)
    {
        if (_rate.TryTake(out var retryAfter))
        {
            return true;
        }

        var wait = (int)Math.Ceiling(retryAfter.TotalMilliseconds);
        ChatKitTelemetry.Errors.Add(1, new KeyValuePair<string, object?>("code", ChatErrorCodes.RateLimited));
        SendFrame(new ServerFrame { Type = FrameTypes.Error, Re = TryReadId(utf8Frame), Code = ChatErrorCodes.RateLimited, Message = $"Too many frames; try again in {wait} ms.", RetryAfterMs = wait });
        return false;
    }

    private void SendError(string? re, string code, string message)
    {
        ChatKitTelemetry.Errors.Add(1, new KeyValuePair<string, object?>("code", code));
        SendFrame(new ServerFrame { Type = FrameTypes.Error, Re = re, Code = code, Message = message });
    }

    /// <summary>
    /// Waits until the backplane carries channels this connection needs, but at most
    /// <see cref="ChatKitOptions.BackplaneWaitTimeout"/>: a backplane that does not answer (a hung Redis) must not hold
    /// up the connection. Past that the connection goes on, and catches every room up from the store once the
    /// channels are there, so what went by meanwhile is not missed.
    /// </summary>
    private async Task AwaitChannelsAsync(Task ready, CancellationToken cancellationToken)
    {
        try
        {
            await ready.WaitAsync(_options.BackplaneWaitTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            LogSlowBackplane(_logger, ConnectionId, _options.BackplaneWaitTimeout);
            _ = ready.ContinueWith(static (_, state) => ((ChatSession)state!).EnqueueCatchUp(), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
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

        if (!_outbound.TryWrite(item))
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
        _outbound.TryWrite(new OutboundItem(OutboundKind.Close, null, ChatCloseCodes.OutboundOverflow, ReadOnlyMemory<byte>.Empty, "outbound_overflow"));
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
        if (!Volatile.Read(ref _helloReceived))
        {
            Close(ChatCloseCodes.HelloTimeout, "hello_timeout");
        }
    }

    private async ValueTask<bool> ProcessAsync(OutboundItem item, CancellationToken cancellationToken)
    {
        Interlocked.Add(ref _pendingBytes, -item.Frame.Length);
        if (Volatile.Read(ref _closing) == 1 && item.Kind != OutboundKind.Close)
        {
            return true;
        }

        switch (item.Kind)
        {
            case OutboundKind.Frame:
                await SendAsync(item.Frame, cancellationToken).ConfigureAwait(false);
                break;
            case OutboundKind.Event when _started && (item.Room is null || _cursors.ContainsKey(item.Room)):
                await SendAsync(item.Frame, cancellationToken).ConfigureAwait(false);
                break;
            case OutboundKind.RoomMessage when _cursors.TryGetValue(item.Room!, out var cursor) && item.Sequence > cursor:
                if (item.Sequence > cursor + 1 && !await CatchUpAsync(item.Room!, cursor, item.Sequence - 1, cancellationToken).ConfigureAwait(false))
                {
                    return await StopAfterIncompleteCatchUpAsync(cancellationToken).ConfigureAwait(false);
                }

                await SendAsync(item.Frame, cancellationToken).ConfigureAwait(false);
                _cursors[item.Room!] = item.Sequence;
                break;
            case OutboundKind.Start:
                if (!await StartAsync((StartRequest)item.State!, cancellationToken).ConfigureAwait(false))
                {
                    return await StopAfterIncompleteCatchUpAsync(cancellationToken).ConfigureAwait(false);
                }

                break;
            case OutboundKind.Subscribe when _started:
                await SendAsync(item.Frame, cancellationToken).ConfigureAwait(false);

                // Once the backplane carries the room here, the store read below misses nothing live traffic won't bring.
                await AwaitChannelsAsync((Task)item.State!, cancellationToken).ConfigureAwait(false);
                if (!await SubscribeAsync(item.Room!, item.Sequence, cancellationToken).ConfigureAwait(false))
                {
                    return await StopAfterIncompleteCatchUpAsync(cancellationToken).ConfigureAwait(false);
                }

                break;
            case OutboundKind.CatchUp when _started:
                foreach (var (room, cursor) in _cursors.ToList())
                {
                    if (!await SubscribeAsync(room, cursor, cancellationToken).ConfigureAwait(false))
                    {
                        return await StopAfterIncompleteCatchUpAsync(cancellationToken).ConfigureAwait(false);
                    }
                }

                break;
            case OutboundKind.Unsubscribe when _started:
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

        return true;
    }

    /// <summary>
    /// A catch-up stopped before its end. When the session is closing or overflowed the writer loop finishes the
    /// job; otherwise the store lacks messages it should have, and the only way to keep the no-gap promise is to
    /// close so the client resumes from what it really received.
    /// </summary>
    private async ValueTask<bool> StopAfterIncompleteCatchUpAsync(CancellationToken cancellationToken)
    {
        if (Overflowed || Volatile.Read(ref _closing) == 1)
        {
            return true;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.CloseTimeout);
        await _transport.CloseAsync(ChatCloseCodes.ResumeRequired, "resume_required", timeout.Token).ConfigureAwait(false);
        return false;
    }

    /// <summary>
    /// The user joined a room while connected: everything stored after <paramref name="joinedAt"/> goes out now,
    /// what is queued behind this item goes out live after it.
    /// </summary>
    private async Task<bool> SubscribeAsync(string roomId, long joinedAt, CancellationToken cancellationToken)
    {
        var from = _cursors.TryGetValue(roomId, out var cursor) ? cursor : joinedAt;
        _cursors[roomId] = from;
        var latest = await _engine.Store.GetLatestSequenceAsync(roomId, cancellationToken).ConfigureAwait(false);
        return latest <= from || await CatchUpAsync(roomId, from, latest, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask SendAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        await _transport.SendAsync(frame, cancellationToken).ConfigureAwait(false);
        ChatKitTelemetry.FramesSent.Add(1);
    }

    private async Task<bool> StartAsync(StartRequest start, CancellationToken cancellationToken)
    {
        var hello = start.Hello;
        var rooms = await _engine.GetRoomsAsync(User, cancellationToken).ConfigureAwait(false);

        // Memberships may have changed between the hello's subscriptions and this read; this read is the truth.
        _registry.Reconcile(this, rooms.Select(r => r.Id));
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
        _started = true;

        // A room starts where the client says it is; without that, where the room was when the hello subscribed
        // to it, so every message stored since the hello reaches the client.
        foreach (var room in rooms)
        {
            var latest = room.LatestSeq;
            var from = hello.Resume is not null && hello.Resume.TryGetValue(room.Id, out var seen) ? Math.Max(0, seen)
                : start.SubscribedAt.GetValueOrDefault(room.Id, latest);
            _cursors[room.Id] = Math.Min(from, latest);
            if (from < latest && !await CatchUpAsync(room.Id, from, latest, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Sends the room's stored messages after <paramref name="from"/> up to <paramref name="to"/>, in order, moving
    /// the cursor with each. Returns <see langword="false"/> when it stopped early: the session is closing or
    /// overflowed, or the store does not have the messages.
    /// </summary>
    private async Task<bool> CatchUpAsync(string roomId, long from, long to, CancellationToken cancellationToken)
    {
        _cursors[roomId] = from;
        while (_cursors[roomId] < to)
        {
            if (Overflowed || Volatile.Read(ref _closing) == 1)
            {
                return false;
            }

            var page = await _engine.Store.GetMessagesAsync(roomId, new MessageRange(_cursors[roomId], to + 1, CatchUpPageSize), cancellationToken).ConfigureAwait(false);
            if (page.Count == 0 || page[0].Sequence != _cursors[roomId] + 1)
            {
                LogGapNotInStore(_logger, roomId, _cursors[roomId] + 1, to);
                return false;
            }

            foreach (var message in page)
            {
                await SendAsync(ChatEngine.SerializeMessageEvent(message), cancellationToken).ConfigureAwait(false);
                _cursors[roomId] = message.Sequence;
            }
        }

        return true;
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
                SendFrame(ProtocolJson.SerializeSendReply(frame.Id!, sent.Room, sent.Seq, sent.Cmid, sent.SentAt, sent.Duplicate));
                return null;
            case FrameTypes.History:
                var page = await _engine.GetHistoryAsync(User, frame.Room, frame.Before, frame.After, frame.Limit, ct).ConfigureAwait(false);
                return new ServerFrame { Room = page.Room, Messages = page.Messages, HasMore = page.HasMore };
            case FrameTypes.RoomsList:
                return new ServerFrame { Rooms = await _engine.GetRoomsAsync(User, ct).ConfigureAwait(false) };
            case FrameTypes.RoomsPublic:
                return new ServerFrame { Rooms = await _engine.GetPublicRoomsAsync(User, frame.Limit, ct).ConfigureAwait(false) };
            case FrameTypes.RoomsCreate:
                return new ServerFrame { Info = await _engine.CreateRoomAsync(User, frame.Name, frame.Visibility, frame.Members, frame.Encrypted == true, ct).ConfigureAwait(false) };
            case FrameTypes.RoomsDirect:
                return new ServerFrame { Info = await _engine.OpenDirectAsync(User, frame.User, frame.Encrypted == true, ct).ConfigureAwait(false) };
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

        // From here on, tearing the session down undoes what this hello did, even if it fails half way.
        Volatile.Write(ref _helloReceived, true);

        // The hello timeout is over: let its timer go rather than keep it for the life of the connection.
        Interlocked.Exchange(ref _helloTimer, null)?.Dispose();
        await _engine.UserConnectedAsync(User, ConnectionId, cancellationToken).ConfigureAwait(false);
        if (Volatile.Read(ref _disposed) == 1)
        {
            // Torn down while connecting: the teardown may have run its disconnect before this connect.
            await _engine.UserDisconnectedAsync(User, ConnectionId, CancellationToken.None).ConfigureAwait(false);
            return;
        }

        // Subscribe first, and wait until the backplane carries the user's and the rooms' traffic here; then queue
        // the start. The start reads the rooms' latest positions after that, so what is stored later arrives live,
        // and what was stored earlier (live items queued before the start included) its catch-up sends.
        if (!_registry.Add(this, out var userReady))
        {
            return;
        }

        var memberships = await _engine.Store.GetMembershipsAsync(User.Id, cancellationToken).ConfigureAwait(false);
        await AwaitChannelsAsync(Task.WhenAll(memberships.Select(m => _registry.Subscribe(this, m.Room.Id)).Append(userReady)), cancellationToken).ConfigureAwait(false);
        var positions = memberships.ToDictionary(m => m.Room.Id, m => m.LatestSequence, StringComparer.Ordinal);

        _helloDone = true;
        Enqueue(new OutboundItem(OutboundKind.Start, null, 0, ReadOnlyMemory<byte>.Empty, new StartRequest(hello, positions)));
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Error, Message = "Request {Type} on connection {ConnectionId} failed")]
    private static partial void LogRequestFailed(ILogger logger, Exception exception, string type, string connectionId);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Writer of connection {ConnectionId} stopped")]
    private static partial void LogWriterFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "The backplane took longer than {Timeout} to carry the channels of connection {ConnectionId}; it goes on and catches up from the store once they are there")]
    private static partial void LogSlowBackplane(ILogger logger, string connectionId, TimeSpan timeout);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Connection {ConnectionId} of user {UserId} read too slowly: more than {Limit} bytes queued; closing it with 4008")]
    private static partial void LogOverflow(ILogger logger, string connectionId, string userId, int limit);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Room {RoomId} messages {From} to {To} are not in the store; closing the connection so the client resumes from what it received")]
    private static partial void LogGapNotInStore(ILogger logger, string roomId, long from, long to);
}
