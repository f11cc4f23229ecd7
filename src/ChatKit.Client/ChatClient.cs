using System.Collections.Concurrent;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ChatKit.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ChatKit.Client;

/// <summary>
/// A connection to a ChatKit server speaking <c>chatkit.v1</c>: requests with replies, a stream of events, and
/// automatic reconnection that resumes every room where the client left it.
/// </summary>
/// <remarks>
/// <para>
/// Call <see cref="ConnectAsync"/> once, read <see cref="ReadEventsAsync"/> in one loop, and make requests from any
/// thread: they are safe to call concurrently. When the connection drops, the client reconnects with exponential
/// backoff and jitter and sends the highest sequence number it has seen per room
/// (<see cref="LastSeenSequences"/>), so the server sends exactly the messages it missed. It stops only when
/// closed, when the server refuses the credentials (HTTP 401) or the protocol (4002), or when the server rejects
/// the handshake with an error that retrying would not change.
/// </para>
/// <para>
/// Requests made while the client is reconnecting wait for the new connection. Requests in flight when the connection
/// drops fail with <see cref="ChatClientErrorCodes.ConnectionLost"/>, except <see cref="SendAsync"/>, which sends
/// again with the same client message id, so the message is stored once. Frames go out no faster than the rate the
/// server announces in its welcome, so a burst of requests waits on the client rather than being refused.
/// </para>
/// </remarks>
public sealed partial class ChatClient : IAsyncDisposable
{
    private readonly ChatClientOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<ChatEvent> _events;
    private readonly ConcurrentDictionary<string, long> _lastSeen = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Lock _gate = new();

    // Guarded by _gate. _connection completes with the connection requests should use; it is replaced when the
    // connection is lost and cancelled when the client disconnects, which sends waiting requests back to check why.
    private TaskCompletionSource<ChatConnection> _connection = NewConnectionSource();
    private ChatConnection? _current;
    private ConnectionState _state;
    private Exception? _failure;
    private WelcomeInfo? _welcome;
    private Task _supervisor = Task.CompletedTask;
    private bool _closed;

    private long _lastRequestId;
    private int _reading;

    /// <summary>Creates a disconnected client; <see cref="ConnectAsync"/> connects it.</summary>
    /// <exception cref="ArgumentException">The options are not valid; the message lists every problem.</exception>
    public ChatClient(ChatClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        _options = options;
        _time = options.TimeProvider;
        _logger = options.LoggerFactory?.CreateLogger<ChatClient>() ?? (ILogger)NullLogger.Instance;
        _events = Channel.CreateBounded<ChatEvent>(new BoundedChannelOptions(options.EventBufferCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        if (options.InitialResume is { } resume)
        {
            foreach (var (room, seq) in resume)
            {
                _lastSeen[room] = seq;
            }
        }
    }

    /// <summary>The connection's current state; <see cref="ConnectionStateChangedEvent"/> reports each change in the event stream.</summary>
    public ConnectionState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>The welcome of the latest connection, or <see langword="null"/> before the first one.</summary>
    public WelcomeInfo? Welcome
    {
        get
        {
            lock (_gate)
            {
                return _welcome;
            }
        }
    }

    /// <summary>
    /// A snapshot of the resume positions: for each room, the highest sequence number the client has seen, from
    /// message events handed to the event stream, history pages and the server's welcome. Save it to resume after a
    /// restart (<see cref="ChatClientOptions.InitialResume"/>). It includes events still waiting in the buffer, so an
    /// application that must not skip a message it has not handled should save the sequence numbers it handled instead.
    /// </summary>
    public IReadOnlyDictionary<string, long> LastSeenSequences => new Dictionary<string, long>(_lastSeen, StringComparer.Ordinal);

    /// <summary>
    /// Opens the connection and waits for the server's welcome. One attempt: a failure throws and leaves the client
    /// <see cref="ConnectionState.Disconnected"/>, and it may be called again. Once connected, the client reconnects
    /// by itself.
    /// </summary>
    /// <exception cref="ChatClientException">
    /// <see cref="ChatErrorCodes.Unauthenticated"/> (HTTP 401), <see cref="ChatClientErrorCodes.UnsupportedProtocol"/>,
    /// <see cref="ChatClientErrorCodes.ConnectionFailed"/>, <see cref="ChatClientErrorCodes.Timeout"/>, or the
    /// server's error for the <c>hello</c>.
    /// </exception>
    /// <exception cref="InvalidOperationException">The client is already connected or connecting.</exception>
    /// <exception cref="ObjectDisposedException">The client was closed.</exception>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        Task previous;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (_state != ConnectionState.Disconnected)
            {
                throw new InvalidOperationException($"The client is {_state}; ConnectAsync only starts a disconnected client.");
            }

            _state = ConnectionState.Connecting;
            _failure = null;
            _connection = NewConnectionSource();
            previous = _supervisor;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
        ChatConnection connection;
        try
        {
            // After the client gave up, its supervisor may still be reporting that; its events come first.
            await previous.WaitAsync(linked.Token).ConfigureAwait(false);
            await _events.Writer.WriteAsync(new ConnectionStateChangedEvent(ConnectionState.Connecting, null), linked.Token).ConfigureAwait(false);
            connection = await OpenAsync(linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            var closed = false;
            lock (_gate)
            {
                closed = _closed;
                if (!closed)
                {
                    EnterDisconnected(ex);
                }
            }

            if (closed)
            {
                throw new ObjectDisposedException(nameof(ChatClient), ex);
            }

            _events.Writer.TryWrite(new ConnectionStateChangedEvent(ConnectionState.Disconnected, ex));
            throw;
        }

        lock (_gate)
        {
            if (!_closed)
            {
                Publish(connection);
                _supervisor = Task.Run(() => SuperviseAsync(connection), CancellationToken.None);
                return;
            }
        }

        connection.Abort();
        connection.Dispose();
        throw new ObjectDisposedException(nameof(ChatClient));
    }

    /// <summary>
    /// The server's events and the connection's state changes, in order, until the client is closed. Read it with
    /// one loop for the client's whole life: only one reader at a time is supported, and a second concurrent reader
    /// gets <see cref="InvalidOperationException"/>.
    /// </summary>
    /// <remarks>
    /// While the buffer (<see cref="ChatClientOptions.EventBufferCapacity"/>) is full, the client stops reading the
    /// socket, and replies wait too: do not await requests from the reading loop when it has fallen that far behind.
    /// Events arriving after <see cref="CloseAsync"/> are not delivered; those already buffered still are.
    /// </remarks>
    public async IAsyncEnumerable<ChatEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _reading, 1) == 1)
        {
            throw new InvalidOperationException("Another loop is already reading this client's events; the stream supports one reader.");
        }

        try
        {
            await foreach (var chatEvent in _events.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return chatEvent;
            }
        }
        finally
        {
            Volatile.Write(ref _reading, 0);
        }
    }

    /// <summary>
    /// Closes the connection normally (1000) and stops reconnecting; the event stream ends after a final
    /// <see cref="ConnectionState.Disconnected"/>. Requests still waiting fail. The client cannot be connected again.
    /// Calling it again does nothing.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for the server to answer the close; the socket is then dropped.</param>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        ChatConnection? connection;
        Task supervisor;
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            _state = ConnectionState.Disconnected;
            connection = _current;
            _current = null;
            supervisor = _supervisor;
            _connection.TrySetCanceled(CancellationToken.None);
        }

        // Stops reconnection attempts and event delivery; the receive loop keeps reading until the server answers the close.
        await _lifetime.CancelAsync().ConfigureAwait(false);
        try
        {
            if (connection is not null)
            {
                await connection.CloseOutputAsync(cancellationToken).ConfigureAwait(false);
                await supervisor.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            connection?.Abort();
            await supervisor.ConfigureAwait(false);
            LogClosed(_logger);
            _events.Writer.TryWrite(new ConnectionStateChangedEvent(ConnectionState.Disconnected, null));
            _events.Writer.TryComplete();
        }
    }

    /// <summary>
    /// Closes like <see cref="CloseAsync"/>, waiting at most <see cref="ChatClientOptions.RequestTimeout"/> for the
    /// server to answer the close.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        using (var timeout = new CancellationTokenSource(_options.RequestTimeout, _time))
        {
            try
            {
                await CloseAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                LogCloseTimedOut(_logger, _options.RequestTimeout);
            }
        }

        _lifetime.Dispose();
    }

    private static TaskCompletionSource<ChatConnection> NewConnectionSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static void Validate(ChatClientOptions options)
    {
        List<string> errors = [];
        if (options.ServerUri is not { IsAbsoluteUri: true, Scheme: "ws" or "wss" })
        {
            errors.Add($"ServerUri must be an absolute ws:// or wss:// URL such as ws://127.0.0.1:5000/chat; it is '{options.ServerUri}'.");
        }

        if (options.ReconnectInitialDelay <= TimeSpan.Zero)
        {
            errors.Add($"ReconnectInitialDelay must be positive; it is {options.ReconnectInitialDelay}.");
        }

        if (options.ReconnectMaxDelay < options.ReconnectInitialDelay)
        {
            errors.Add($"ReconnectMaxDelay must be at least ReconnectInitialDelay ({options.ReconnectInitialDelay}); it is {options.ReconnectMaxDelay}.");
        }

        if (options.ReconnectJitter is not (>= 0 and <= 1))
        {
            errors.Add($"ReconnectJitter must be between 0 and 1; it is {options.ReconnectJitter}.");
        }

        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            errors.Add($"RequestTimeout must be positive; it is {options.RequestTimeout}.");
        }

        if (options.MaxSendAttempts < 1)
        {
            errors.Add($"MaxSendAttempts must be at least 1; it is {options.MaxSendAttempts}.");
        }

        if (options.EventBufferCapacity < 1)
        {
            errors.Add($"EventBufferCapacity must be at least 1; it is {options.EventBufferCapacity}.");
        }

        if (options.KeepAliveInterval < TimeSpan.Zero && options.KeepAliveInterval != Timeout.InfiniteTimeSpan)
        {
            errors.Add($"KeepAliveInterval must be zero or positive (zero turns keep-alive off); it is {options.KeepAliveInterval}.");
        }

        if (options.KeepAliveTimeout <= TimeSpan.Zero && options.KeepAliveTimeout != Timeout.InfiniteTimeSpan)
        {
            errors.Add($"KeepAliveTimeout must be positive, or Timeout.InfiniteTimeSpan to never time out; it is {options.KeepAliveTimeout}.");
        }

        if (options.TimeProvider is null)
        {
            errors.Add("TimeProvider must be set; use TimeProvider.System outside tests.");
        }

        foreach (var (room, seq) in options.InitialResume ?? ReadOnlyDictionary<string, long>.Empty)
        {
            if (string.IsNullOrEmpty(room) || seq < 0)
            {
                errors.Add($"InitialResume must map room ids to sequence numbers of 0 or more; it maps '{room}' to {seq}.");
                break;
            }
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("ChatClientOptions are not valid: " + string.Join(" ", errors), nameof(options));
        }
    }

    /// <summary>Opens a socket, says hello with the resume positions and reads the welcome.</summary>
    private async Task<ChatConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        try
        {
            await ConfigureAsync(socket.Options, cancellationToken).ConfigureAwait(false);
            await ConnectSocketAsync(socket, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var connection = new ChatConnection(socket, _logger);
        try
        {
            await HandshakeAsync(connection, cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            connection.Abort();
            connection.Dispose();
            throw;
        }
    }

    private async Task ConfigureAsync(ClientWebSocketOptions socket, CancellationToken cancellationToken)
    {
        socket.AddSubProtocol(ChatProtocol.Subprotocol);
        socket.CollectHttpResponseDetails = true;
        socket.KeepAliveInterval = _options.KeepAliveInterval;
        socket.KeepAliveTimeout = _options.KeepAliveTimeout;
        if (_options.AccessTokenProvider is { } provider)
        {
            string? token;
            try
            {
                token = await provider(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new ChatClientException(ChatClientErrorCodes.ConnectionFailed, $"The access token provider failed: {ex.Message}", ex);
            }

            if (!string.IsNullOrEmpty(token))
            {
                socket.SetRequestHeader("Authorization", "Bearer " + token);
            }
        }

        _options.ConfigureWebSocket?.Invoke(socket);
    }

    private async Task ConnectSocketAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var uri = _options.ServerUri;
        try
        {
            await socket.ConnectAsync(uri, cancellationToken).ConfigureAwait(false);
        }
        catch (WebSocketException ex) when (socket.HttpStatusCode == HttpStatusCode.Unauthorized)
        {
            var why = _options.AccessTokenProvider is null
                ? "no access token was sent; set ChatClientOptions.AccessTokenProvider"
                : "the access token was missing, expired or not accepted";
            throw new ChatClientException(ChatErrorCodes.Unauthenticated, $"The server at {uri} refused the connection with HTTP 401: {why}.", ex);
        }
        catch (WebSocketException ex)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw new ChatClientException(ChatClientErrorCodes.ConnectionFailed, $"Could not open a WebSocket to {uri}: {ex.Message}", ex);
        }

        if (!string.Equals(socket.SubProtocol, ChatProtocol.Subprotocol, StringComparison.Ordinal))
        {
            socket.Abort();
            throw new ChatClientException(
                ChatClientErrorCodes.UnsupportedProtocol,
                $"The server at {uri} did not accept the subprotocol {ChatProtocol.Subprotocol}: it speaks another protocol version.");
        }
    }

    private async Task HandshakeAsync(ChatConnection connection, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(_options.RequestTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);

        // Socket reads take no token, so giving up on the handshake means dropping the socket.
        using var abortOnCancel = linked.Token.Register(static state => ((ChatConnection)state!).Abort(), connection);
        var resume = new Dictionary<string, long>(_lastSeen, StringComparer.Ordinal);
        var hello = new ClientFrame { Type = FrameTypes.Hello, Id = NextRequestId(), Resume = resume.Count > 0 ? resume : null };
        try
        {
            await connection.SendAsync(hello, linked.Token).ConfigureAwait(false);
            while (await connection.ReceiveFrameAsync().ConfigureAwait(false) is { } frame)
            {
                if (string.Equals(frame.Re, hello.Id, StringComparison.Ordinal))
                {
                    AcceptWelcome(connection, frame);
                    return;
                }

                await HandleFrameAsync(connection, frame, _lifetime.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (linked.IsCancellationRequested)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw new ChatClientException(ChatClientErrorCodes.Timeout, $"The server sent no welcome within {_options.RequestTimeout}.", ex);
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            throw new ChatClientException(ChatClientErrorCodes.ConnectionFailed, $"The connection dropped during the handshake: {ex.Message}", ex);
        }

        throw ClosedDuringHandshake(connection);
    }

    private void AcceptWelcome(ChatConnection connection, ServerFrame frame)
    {
        if (string.Equals(frame.Type, FrameTypes.Error, StringComparison.Ordinal))
        {
            throw ServerFrames.ToException(frame);
        }

        var welcome = ServerFrames.ToWelcome(frame);
        if (welcome.Protocol != ChatProtocol.Version)
        {
            throw new ChatClientException(
                ChatClientErrorCodes.UnsupportedProtocol,
                $"The server speaks protocol version {welcome.Protocol}; this client speaks {ChatProtocol.Version}.");
        }

        // The welcome lists every room of the user. A position for a room the user is no longer in is stale; a room
        // without one starts live at its latest message, so that is what the client has seen. A position above the
        // latest message (a store that lost data) would hide new messages, so it comes down to the latest.
        var rooms = welcome.Rooms.Select(room => room.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var room in _lastSeen.Keys)
        {
            if (!rooms.Contains(room))
            {
                _lastSeen.TryRemove(room, out _);
            }
        }

        foreach (var room in welcome.Rooms)
        {
            LowerPosition(room.Id, room.LatestSeq);
        }

        connection.Accept(welcome, _time);
    }

    private static ChatClientException ClosedDuringHandshake(ChatConnection connection) => (int?)connection.CloseStatus switch
    {
        ChatCloseCodes.UnsupportedProtocol => new ChatClientException(
            ChatClientErrorCodes.UnsupportedProtocol,
            $"The server closed the connection with 4002 (unsupported_protocol): it does not speak {ChatProtocol.Subprotocol}."),
        ChatCloseCodes.HelloTimeout => new ChatClientException(
            ChatClientErrorCodes.ConnectionFailed,
            "The server closed the connection with 4001 (hello_timeout): the hello did not reach it in time."),
        var status => new ChatClientException(
            ChatClientErrorCodes.ConnectionFailed,
            $"The server closed the connection before its welcome (close status {status?.ToString(CultureInfo.InvariantCulture) ?? "none"}: {connection.CloseStatusDescription})."),
    };

    /// <summary>
    /// Runs the receive loop of each connection in turn: when one ends, reconnects with backoff until a new one is
    /// welcomed, the client is closed, or an error says retrying is pointless.
    /// </summary>
    private async Task SuperviseAsync(ChatConnection first)
    {
        var token = _lifetime.Token;
        ChatConnection? connection = first;
        try
        {
            while (connection is not null)
            {
                LogConnected(_logger, _options.ServerUri, connection.Welcome!.UserId, connection.Id);
                await _events.Writer.WriteAsync(new ConnectionStateChangedEvent(ConnectionState.Connected, null), token).ConfigureAwait(false);
                await ReceiveLoopAsync(connection, token).ConfigureAwait(false);
                var (next, error) = Retire(connection);
                connection = null;
                if (next is null)
                {
                    return;
                }

                await _events.Writer.WriteAsync(new ConnectionStateChangedEvent(next.Value, error), token).ConfigureAwait(false);
                if (next == ConnectionState.Reconnecting)
                {
                    connection = await ReconnectAsync(token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Closed.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogGaveUp(_logger, ex);
            lock (_gate)
            {
                if (!_closed)
                {
                    EnterDisconnected(ex);
                }
            }

            _events.Writer.TryWrite(new ConnectionStateChangedEvent(ConnectionState.Disconnected, ex));
        }
        finally
        {
            if (connection is not null)
            {
                Retire(connection);
            }
        }
    }

    /// <summary>
    /// Moves the client past a connection whose receive loop ended: fails its waiting requests and decides what comes
    /// next. Returns the new state, or <see langword="null"/> when the client was closed meanwhile.
    /// </summary>
    private (ConnectionState? Next, Exception? Error) Retire(ChatConnection connection)
    {
        (ConnectionState? Next, Exception? Error) outcome = (null, null);
        lock (_gate)
        {
            if (_current == connection && !_closed)
            {
                _current = null;
                if ((int?)connection.CloseStatus == ChatCloseCodes.UnsupportedProtocol)
                {
                    var error = new ChatClientException(
                        ChatClientErrorCodes.UnsupportedProtocol,
                        $"The server closed the connection with 4002 (unsupported_protocol): it does not speak {ChatProtocol.Subprotocol}.");
                    EnterDisconnected(error);
                    outcome = (ConnectionState.Disconnected, error);
                }
                else
                {
                    _state = ConnectionState.Reconnecting;
                    _connection = NewConnectionSource();
                    outcome = (ConnectionState.Reconnecting, null);
                }
            }
        }

        if (outcome.Next is not null)
        {
            LogConnectionLost(_logger, connection.Id, (int?)connection.CloseStatus, connection.CloseStatusDescription);
        }

        connection.Abort();
        connection.Retire();
        connection.Dispose();
        return outcome;
    }

    /// <summary>Opens connections with backoff until one is welcomed; <see langword="null"/> when the client gives up.</summary>
    private async Task<ChatConnection?> ReconnectAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var delay = ReconnectDelay(attempt);
            LogReconnecting(_logger, attempt, delay);
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            ChatConnection connection;
            try
            {
                connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ChatClientException ex) when (IsTransient(ex.Code))
            {
                LogReconnectFailed(_logger, ex, attempt);
                continue;
            }
            catch (ChatClientException ex)
            {
                LogGaveUp(_logger, ex);
                lock (_gate)
                {
                    if (_closed)
                    {
                        return null;
                    }

                    EnterDisconnected(ex);
                }

                await _events.Writer.WriteAsync(new ConnectionStateChangedEvent(ConnectionState.Disconnected, ex), cancellationToken).ConfigureAwait(false);
                return null;
            }

            lock (_gate)
            {
                if (!_closed)
                {
                    Publish(connection);
                    return connection;
                }
            }

            connection.Abort();
            connection.Dispose();
            return null;
        }
    }

    private static bool IsTransient(string code) => code is ChatClientErrorCodes.ConnectionFailed
        or ChatClientErrorCodes.ConnectionLost
        or ChatClientErrorCodes.Timeout
        or ChatErrorCodes.Unavailable
        or ChatErrorCodes.InternalError
        or ChatErrorCodes.RateLimited;

    /// <summary>Exponential backoff from the initial delay up to the maximum, with the configured share of it random.</summary>
    private TimeSpan ReconnectDelay(int attempt)
    {
        var exponential = _options.ReconnectInitialDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        var capped = Math.Min(exponential, _options.ReconnectMaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (1 - (_options.ReconnectJitter * Random.Shared.NextDouble())));
    }

    private void Publish(ChatConnection connection)
    {
        _current = connection;
        _welcome = connection.Welcome;
        _state = ConnectionState.Connected;
        _connection.TrySetResult(connection);
    }

    private void EnterDisconnected(Exception error)
    {
        _state = ConnectionState.Disconnected;
        _failure = error;
        _current = null;
        _connection.TrySetCanceled();
    }

    private async Task ReceiveLoopAsync(ChatConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            while (await connection.ReceiveFrameAsync().ConfigureAwait(false) is { } frame)
            {
                await HandleFrameAsync(connection, frame, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            LogReceiveFailed(_logger, ex, connection.Id);
        }
    }

    private async Task HandleFrameAsync(ChatConnection connection, ServerFrame frame, CancellationToken cancellationToken)
    {
        if (frame.Type is FrameTypes.Reply or FrameTypes.Error)
        {
            if (frame.Re is null)
            {
                LogUnattributedError(_logger, frame.Code, frame.Message);
            }
            else if (!connection.TryComplete(frame.Re, frame))
            {
                LogLateReply(_logger, frame.Re, connection.Id);
            }

            return;
        }

        ChatEvent? chatEvent;
        try
        {
            chatEvent = ServerFrames.ToEvent(frame);
        }
        catch (ChatClientException ex)
        {
            LogMalformedEvent(_logger, ex, frame.Type);
            return;
        }

        if (chatEvent is null)
        {
            LogUnknownEvent(_logger, frame.Type);
            return;
        }

        if (chatEvent is MessageEvent { Message: var message } && _lastSeen.TryGetValue(message.Room, out var seen) && message.Seq <= seen)
        {
            LogAlreadySeen(_logger, message.Room, message.Seq, seen);
            return;
        }

        try
        {
            await _events.Writer.WriteAsync(chatEvent, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Closing: events are no longer delivered, but the loop keeps reading until the server answers the close.
            return;
        }

        switch (chatEvent)
        {
            case MessageEvent { Message: var delivered }:
                RaisePosition(delivered.Room, delivered.Seq);
                break;
            case RoomAddedEvent { Info: var room }:
                LowerPosition(room.Id, room.LatestSeq);
                break;
            case RoomRemovedEvent { Room: var room }:
                _lastSeen.TryRemove(room, out _);
                break;
        }
    }

    private void RaisePosition(string room, long seq) =>
        _lastSeen.AddOrUpdate(room, static (_, seq) => seq, static (_, seen, seq) => Math.Max(seen, seq), seq);

    /// <summary>Sets a room's position to the server's latest sequence when it has none or a higher one.</summary>
    private void LowerPosition(string room, long latest) =>
        _lastSeen.AddOrUpdate(room, static (_, latest) => latest, static (_, seen, latest) => Math.Min(seen, latest), latest);

    private string NextRequestId() => Interlocked.Increment(ref _lastRequestId).ToString(CultureInfo.InvariantCulture);

    /// <summary>Sends a request and waits for its reply, within <see cref="ChatClientOptions.RequestTimeout"/> in all.</summary>
    /// <exception cref="ChatClientException">The server's error, or one of <see cref="ChatClientErrorCodes"/>.</exception>
    private async Task<ServerFrame> RequestAsync(ClientFrame request, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(_options.RequestTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var id = NextRequestId();
        request.Id = id;
        var reply = new TaskCompletionSource<ServerFrame>(TaskCreationOptions.RunContinuationsAsynchronously);
        ChatConnection? connection = null;
        var sent = false;
        try
        {
            connection = await RegisterAsync(id, reply, linked.Token).ConfigureAwait(false);
            await connection.SendAsync(request, linked.Token).ConfigureAwait(false);
            sent = true;
            var frame = await reply.Task.WaitAsync(linked.Token).ConfigureAwait(false);
            if (string.Equals(frame.Type, FrameTypes.Error, StringComparison.Ordinal))
            {
                throw ServerFrames.ToException(frame);
            }

            return frame;
        }
        catch (OperationCanceledException ex) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            if (connection is null)
            {
                throw new ChatClientException(ChatClientErrorCodes.Timeout, $"No connection to the server within {_options.RequestTimeout}.", ex);
            }

            if (!sent)
            {
                throw new ChatClientException(
                    ChatClientErrorCodes.Timeout,
                    $"'{request.Type}' could not be sent within {_options.RequestTimeout}: the requests ahead of it took that long to go out at the server's rate.",
                    ex);
            }

            // Replies come in request order, so every later request is stuck behind this one: the connection is
            // treated as dead, and the client reconnects.
            LogRequestTimedOut(_logger, request.Type, id, connection.Id, _options.RequestTimeout);
            connection.Abort();
            throw new ChatClientException(
                ChatClientErrorCodes.Timeout,
                $"The server did not answer '{request.Type}' within {_options.RequestTimeout}; the client reconnects.",
                ex);
        }
        finally
        {
            connection?.Unregister(id);
        }
    }

    /// <summary>Waits for a usable connection and registers a request on it.</summary>
    private async Task<ChatConnection> RegisterAsync(string id, TaskCompletionSource<ServerFrame> reply, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task<ChatConnection> next;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_closed, this);
                if (_state == ConnectionState.Disconnected)
                {
                    throw _failure is null
                        ? new ChatClientException(ChatClientErrorCodes.NotConnected, "The client is not connected; call ConnectAsync first.")
                        : new ChatClientException(ChatClientErrorCodes.NotConnected, $"The client is disconnected: {_failure.Message}", _failure);
                }

                next = _connection.Task;
            }

            ChatConnection connection;
            try
            {
                connection = await next.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (next.IsCanceled && !cancellationToken.IsCancellationRequested)
            {
                // The client disconnected meanwhile; the check above says how.
                continue;
            }

            if (connection.TryRegister(id, reply))
            {
                return connection;
            }

            // It failed just now; the supervisor retires it once the next connection is being set up.
            await connection.Retired.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
