using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using ChatKit.Protocol;
using Microsoft.Extensions.Logging;

namespace ChatKit.Client;

/// <summary>
/// One WebSocket connection: sends serialized by a lock, frames read by the client's single receive loop, and the
/// requests waiting for their reply on it. Never reused: a connection that fails is retired and replaced.
/// </summary>
/// <remarks>
/// Socket calls take no cancellation token because cancelling a WebSocket operation aborts the socket; instead,
/// <see cref="Abort"/> makes every pending socket call fail.
/// </remarks>
internal sealed partial class ChatConnection : IDisposable
{
    private const int ReceiveChunkBytes = 16 * 1024;

    private readonly ClientWebSocket _socket;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, TaskCompletionSource<ServerFrame>> _pending = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _retired = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ArrayBufferWriter<byte> _received = new(ReceiveChunkBytes);
    private FramePacer? _pacer;
    private bool _failed;

    public ChatConnection(ClientWebSocket socket, ILogger logger)
    {
        _socket = socket;
        _logger = logger;
    }

    /// <summary>The server's welcome; set by the handshake before the connection is used for requests.</summary>
    public WelcomeInfo? Welcome { get; private set; }

    /// <summary>The connection id for logs.</summary>
    public string Id => Welcome?.ConnectionId ?? "(handshake)";

    /// <summary>The close code the server sent, once it closed the connection.</summary>
    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    /// <summary>The reason the server gave with its close code.</summary>
    public string? CloseStatusDescription => _socket.CloseStatusDescription;

    /// <summary>Completes once the client has moved past this connection, so a request that found it failed can wait for the next one.</summary>
    public Task Retired => _retired.Task;

    /// <summary>Records the server's welcome and, from then on, paces frames to the rate it announced.</summary>
    public void Accept(WelcomeInfo welcome, TimeProvider time)
    {
        Welcome = welcome;
        if (welcome.Limits is { RatePerSecond: > 0, RateBurst: > 0 } limits)
        {
            _pacer = new FramePacer(time, limits.RatePerSecond, limits.RateBurst, alreadySent: 1);
        }
    }

    /// <summary>Registers a request awaiting its reply; <see langword="false"/> when the connection has already failed.</summary>
    public bool TryRegister(string id, TaskCompletionSource<ServerFrame> reply)
    {
        lock (_gate)
        {
            if (_failed)
            {
                return false;
            }

            _pending.Add(id, reply);
            return true;
        }
    }

    /// <summary>Hands a reply or error to the request it answers; <see langword="false"/> when nobody waits for it any more.</summary>
    public bool TryComplete(string id, ServerFrame frame)
    {
        TaskCompletionSource<ServerFrame>? reply;
        lock (_gate)
        {
            if (!_pending.Remove(id, out reply))
            {
                return false;
            }
        }

        return reply.TrySetResult(frame);
    }

    /// <summary>Forgets a request that stopped waiting (answered, timed out or cancelled).</summary>
    public void Unregister(string id)
    {
        lock (_gate)
        {
            _pending.Remove(id);
        }
    }

    /// <summary>
    /// Sends one request frame; concurrent callers go one at a time, no faster than the server's rate.
    /// <paramref name="cancellationToken"/> only stops the wait for a turn: a frame being written is always finished.
    /// </summary>
    /// <exception cref="ChatClientException"><see cref="ChatClientErrorCodes.ConnectionLost"/>: the socket failed.</exception>
    public async Task SendAsync(ClientFrame frame, CancellationToken cancellationToken)
    {
        var utf8 = ProtocolJson.Serialize(frame);
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_pacer is not null)
            {
                await _pacer.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            await WriteAsync(utf8).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// Reads the server's next frame; <see langword="null"/> once the server has closed the connection. Frames that are
    /// not JSON objects are logged and skipped. Only one caller at a time: the handshake, then the receive loop.
    /// </summary>
    public async ValueTask<ServerFrame?> ReceiveFrameAsync()
    {
        while (true)
        {
            _received.ResetWrittenCount();
            ValueWebSocketReceiveResult result;
            do
            {
                result = await _socket.ReceiveAsync(_received.GetMemory(ReceiveChunkBytes), CancellationToken.None).ConfigureAwait(false);
                _received.Advance(result.Count);
            }
            while (!result.EndOfMessage);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                await AnswerCloseAsync().ConfigureAwait(false);
                return null;
            }

            if (result.MessageType != WebSocketMessageType.Text)
            {
                LogBinaryFrameIgnored(_logger, Id, _received.WrittenCount);
                continue;
            }

            if (Parse() is { } frame)
            {
                return frame;
            }
        }
    }

    /// <summary>Starts a normal close (1000); the receive loop ends when the server answers it.</summary>
    public async Task CloseOutputAsync(CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, statusDescription: null, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException)
        {
            // Already broken: there is nobody left to say goodbye to, and Abort cleans up.
            LogCloseFailed(_logger, ex, Id);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Fails every waiting request with <see cref="ChatClientErrorCodes.ConnectionLost"/> and drops the socket.</summary>
    public void Abort()
    {
        List<TaskCompletionSource<ServerFrame>> waiting;
        lock (_gate)
        {
            _failed = true;
            waiting = [.. _pending.Values];
            _pending.Clear();
        }

        foreach (var reply in waiting)
        {
            reply.TrySetException(new ChatClientException(ChatClientErrorCodes.ConnectionLost, "The connection dropped before the reply arrived."));
        }

        _socket.Abort();
    }

    /// <summary>Releases requests that found this connection failed, once the client has set up what comes next.</summary>
    public void Retire() => _retired.TrySetResult();

    public void Dispose() => _socket.Dispose();

    private async Task WriteAsync(byte[] utf8)
    {
        try
        {
            await _socket.SendAsync(utf8, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Only a broken or aborted socket gets here: the send itself takes no token.
            Abort();
            throw new ChatClientException(ChatClientErrorCodes.ConnectionLost, "The connection dropped while a request was being sent.", ex);
        }
    }

    private ServerFrame? Parse()
    {
        try
        {
            var frame = ProtocolJson.ParseServerFrame(_received.WrittenSpan);
            if (frame is null)
            {
                LogUnreadableFrame(_logger, null, Id);
            }

            return frame;
        }
        catch (JsonException ex)
        {
            LogUnreadableFrame(_logger, ex, Id);
            return null;
        }
    }

    private async Task AnswerCloseAsync()
    {
        // The server started the close: complete the handshake so it does not wait for its close timeout.
        if (_socket.State != WebSocketState.CloseReceived)
        {
            return;
        }

        await _sendLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, statusDescription: null, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException)
        {
            LogCloseFailed(_logger, ex, Id);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    [LoggerMessage(EventId = 6101, Level = LogLevel.Warning, Message = "Ignored a frame from the server on connection {ConnectionId} that is not a JSON object")]
    private static partial void LogUnreadableFrame(ILogger logger, Exception? exception, string connectionId);

    [LoggerMessage(EventId = 6102, Level = LogLevel.Warning, Message = "Ignored a binary frame of {Length} bytes from the server on connection {ConnectionId}")]
    private static partial void LogBinaryFrameIgnored(ILogger logger, string connectionId, int length);

    [LoggerMessage(EventId = 6103, Level = LogLevel.Debug, Message = "Closing connection {ConnectionId} politely failed; it is dropped instead")]
    private static partial void LogCloseFailed(ILogger logger, Exception exception, string connectionId);
}
