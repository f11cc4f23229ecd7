using System.Collections.Concurrent;
using System.Globalization;
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

    /// <summary>The options the client was made with (read by <see cref="EndToEndEncryption"/>).</summary>
    internal ChatClientOptions Options => _options;
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
        ChatClientOptionsValidator.Validate(options);
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
    /// message events handed to the event stream, history pages, and the room's latest sequence when the client learnt
    /// of the room (welcome, <see cref="RoomAddedEvent"/>). Save it to resume after a
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
            bool closed;
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
    /// Closes the connection normally (1000) and stops reconnecting; the event stream ends, after a final
    /// <see cref="ConnectionState.Disconnected"/> when the client was not disconnected already. Requests still waiting
    /// fail. The client cannot be connected again. Calling it again does nothing.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for the server to answer the close; the socket is then dropped.</param>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        ChatConnection? connection;
        Task supervisor;
        bool wasDisconnected;
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            wasDisconnected = _state == ConnectionState.Disconnected;
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
            if (!wasDisconnected)
            {
                _events.Writer.TryWrite(new ConnectionStateChangedEvent(ConnectionState.Disconnected, null));
            }

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

    private string NextRequestId() => Interlocked.Increment(ref _lastRequestId).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Sends a request and waits for its reply: <see cref="ChatClientOptions.RequestTimeout"/> for a connection and a
    /// turn to send, then again for the reply.
    /// </summary>
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

            // The reply gets the whole timeout from now: only a slow reply says the connection is stuck, not a wait
            // behind other requests.
            deadline.CancelAfter(_options.RequestTimeout);
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
