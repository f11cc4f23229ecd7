using System.Buffers;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ChatKit.Peers.Ceiling;

/// <summary>
/// <c>/ws?user=NAME</c>: reads a connection's frames one at a time and answers them. A frame that is not one of the
/// two the peer knows closes the connection with 1008 (1009 past <see cref="MaxFrameBytes"/>). When the server stops,
/// open connections are dropped without a close handshake.
/// </summary>
internal sealed class WebSocketEndpoint
{
    private const int MaxFrameBytes = 64 * 1024;

    private readonly RoomRegistry _rooms;
    private readonly byte[] _nodeId;
    private readonly Action<byte[]>? _publish;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<WebSocketEndpoint> _logger;

    public WebSocketEndpoint(RoomRegistry rooms, RedisRelay? relay, IHostApplicationLifetime lifetime, ILogger<WebSocketEndpoint> logger)
    {
        _rooms = rooms;
        _nodeId = relay?.NodeId ?? Guid.NewGuid().ToByteArray();
        _publish = relay is null ? null : relay.Publish;
        _lifetime = lifetime;
        _logger = logger;
    }

    public async Task HandleAsync(HttpContext context)
    {
        var user = context.Request.Query["user"].ToString();
        if (!context.WebSockets.IsWebSocketRequest || user.Length == 0)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var connection = new PeerConnection(socket, user, _logger);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _lifetime.ApplicationStopping);
        var writer = connection.WriteAsync(stop.Token);
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        (WebSocketCloseStatus Status, string Reason)? close = null;
        try
        {
            while (true)
            {
                var received = await ReceiveAsync(socket, buffer, stop.Token);
                buffer = received.Buffer;
                if (received.Type == WebSocketMessageType.Close)
                {
                    close = (WebSocketCloseStatus.NormalClosure, "bye");
                    break;
                }

                if (received.Length < 0)
                {
                    close = (WebSocketCloseStatus.MessageTooBig, $"frames are at most {MaxFrameBytes} bytes");
                    break;
                }

                if (received.Type != WebSocketMessageType.Text || !Handle(connection, buffer.AsSpan(0, received.Length)))
                {
                    close = (WebSocketCloseStatus.PolicyViolation, "expected {\"type\":\"join\",\"room\":...} or {\"type\":\"send\",\"room\":...,\"body\":...}");
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The client went away, its connection was dropped for reading too slowly, or the server is stopping.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            foreach (var room in connection.Rooms)
            {
                _rooms.Leave(room, connection);
            }

            // The writer sends what is already queued (replies to the frames before a close, say), then ends.
            connection.Complete();
            await writer;
        }

        if (close is { } reason)
        {
            await CloseAsync(socket, reason.Status, reason.Reason, stop.Token);
        }
    }

    /// <summary>Answers one frame; false when it is not a frame the peer knows.</summary>
    private bool Handle(PeerConnection connection, ReadOnlySpan<byte> json)
    {
        if (!Frames.TryRead(json, out var frame))
        {
            return false;
        }

        switch (frame.Type)
        {
            case ClientFrameType.Join:
                if (connection.Rooms.Add(frame.Room))
                {
                    _rooms.Join(frame.Room, connection);
                }

                connection.Enqueue(Frames.Joined(frame.RawRoom));
                return true;
            case ClientFrameType.Send:
                _rooms.Deliver(frame.Room, Frames.Message(_nodeId, frame.RawRoom, frame.RawBody), _publish);
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// One whole message, in <paramref name="buffer"/> or in a larger pooled buffer that replaces it; length -1 when the
    /// message passes <see cref="MaxFrameBytes"/>.
    /// </summary>
    private static async Task<(byte[] Buffer, int Length, WebSocketMessageType Type)> ReceiveAsync(WebSocket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (buffer.Length >= MaxFrameBytes)
                {
                    return (buffer, -1, WebSocketMessageType.Text);
                }

                var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                buffer.AsSpan(0, length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = larger;
            }

            var result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
            length += result.Count;
            if (result.EndOfMessage || result.MessageType == WebSocketMessageType.Close)
            {
                return (buffer, length, result.MessageType);
            }
        }
    }

    private static async Task CloseAsync(WebSocket socket, WebSocketCloseStatus status, string reason, CancellationToken cancellationToken)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await socket.CloseOutputAsync(status, reason, timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The client is gone already; there is no one left to tell.
        }
    }
}
