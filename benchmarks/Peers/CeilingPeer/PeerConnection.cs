using System.Net.WebSockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace ChatKit.Peers.Ceiling;

/// <summary>
/// One client's socket and its outbound queue, drained by one writer loop, so a slow reader holds up only itself.
/// The queue is bounded by bytes, as ChatKit's is (1 MiB by default): a connection whose queued frames would pass
/// <see cref="MaxQueuedBytes"/> is dropped, which is what a real server must do with a reader that cannot keep up.
/// </summary>
internal sealed partial class PeerConnection
{
    /// <summary>ChatKit's default <c>MaxOutboundBufferBytes</c>.</summary>
    public const long MaxQueuedBytes = 1024 * 1024;

    private readonly WebSocket _socket;
    private readonly ILogger _logger;
    private readonly Channel<ReadOnlyMemory<byte>> _outbound = Channel.CreateUnbounded<ReadOnlyMemory<byte>>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });

    private long _queuedBytes;
    private int _overflowed;

    public PeerConnection(WebSocket socket, string user, ILogger logger)
    {
        _socket = socket;
        User = user;
        _logger = logger;
    }

    public string User { get; }

    /// <summary>The rooms this connection joined; only its receive loop touches it.</summary>
    public HashSet<string> Rooms { get; } = new(StringComparer.Ordinal);

    /// <summary>Queues a frame for the writer loop; thread-safe. Drops the connection when its queue is full.</summary>
    public void Enqueue(ReadOnlyMemory<byte> frame)
    {
        if (Interlocked.Add(ref _queuedBytes, frame.Length) > MaxQueuedBytes)
        {
            Interlocked.Add(ref _queuedBytes, -frame.Length);
            Overflow();
            return;
        }

        if (!_outbound.Writer.TryWrite(frame))
        {
            Interlocked.Add(ref _queuedBytes, -frame.Length);
        }
    }

    /// <summary>No more frames: the writer loop sends what is queued and ends.</summary>
    public void Complete() => _outbound.Writer.TryComplete();

    /// <summary>Sends queued frames until <see cref="Complete"/> or until the socket fails (which aborts it, ending the receive loop too).</summary>
    public async Task WriteAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var frame in _outbound.Reader.ReadAllAsync(cancellationToken))
            {
                await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
                Interlocked.Add(ref _queuedBytes, -frame.Length);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            _socket.Abort();
        }
    }

    private void Overflow()
    {
        if (Interlocked.Exchange(ref _overflowed, 1) == 0)
        {
            LogOverflow(_logger, User, MaxQueuedBytes);
            _outbound.Writer.TryComplete();
            _socket.Abort();
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Dropped the connection of {User}: it read too slowly and its outbound queue passed {MaxQueuedBytes} bytes")]
    private static partial void LogOverflow(ILogger logger, string user, long maxQueuedBytes);
}
