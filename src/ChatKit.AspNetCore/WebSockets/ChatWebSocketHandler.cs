using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Net.WebSockets;
using ChatKit.AspNetCore.Authentication;
using ChatKit.AspNetCore.Hosting;
using ChatKit.AspNetCore.Http;
using ChatKit.Engine;
using ChatKit.Model;
using ChatKit.Protocol;
using ChatKit.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatKit.AspNetCore.WebSockets;

/// <summary>Accepts ChatKit WebSockets and runs a <see cref="ChatSession"/> over each.</summary>
internal sealed partial class ChatWebSocketHandler(
    ChatEngine engine,
    ConnectionRegistry registry,
    ChatUserResolver users,
    IOptions<ChatKitServerOptions> serverOptions,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILoggerFactory loggerFactory)
{
    private const int InitialReceiveBufferBytes = 4096;

    private readonly ILogger _logger = loggerFactory.CreateLogger<ChatWebSocketHandler>();
    private readonly ILogger<ChatSession> _sessionLogger = loggerFactory.CreateLogger<ChatSession>();

    public async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await HttpErrors.WriteAsync(context, StatusCodes.Status400BadRequest, ChatErrorCodes.InvalidField, "This endpoint accepts WebSocket requests only (subprotocol chatkit.v1).").ConfigureAwait(false);
            return;
        }

        if (!TryAdmit(context, out var user, out var refusal))
        {
            await HttpErrors.WriteAsync(context, refusal.Status, refusal.Code, refusal.Message).ConfigureAwait(false);
            return;
        }

        var offered = context.WebSockets.WebSocketRequestedProtocols.Contains(ChatProtocol.Subprotocol, StringComparer.Ordinal);
        var settings = serverOptions.Value;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = offered ? ChatProtocol.Subprotocol : null,
            KeepAliveInterval = settings.KeepAliveInterval,
            KeepAliveTimeout = settings.KeepAliveTimeout,
        }).ConfigureAwait(false);

        if (!offered)
        {
            await RefuseProtocolAsync(socket).ConfigureAwait(false);
            return;
        }

        await RunSessionAsync(socket, user).ConfigureAwait(false);
    }

    /// <summary>Checks the request's origin and user: the user when they may open a chat connection, otherwise the refusal to answer with.</summary>
    internal bool TryAdmit(HttpContext context, [NotNullWhen(true)] out ChatUser? user, [NotNullWhen(false)] out Refusal? refusal)
    {
        user = null;
        var origin = context.Request.Headers.Origin.ToString();
        var allowed = serverOptions.Value.AllowedOrigins;
        if (origin.Length > 0 && allowed.Count > 0 && !allowed.Contains(origin, StringComparer.OrdinalIgnoreCase))
        {
            refusal = new Refusal(StatusCodes.Status403Forbidden, ChatErrorCodes.Forbidden, $"Origin '{origin}' may not open a chat connection; add it to ChatKit:Server:AllowedOrigins.");
            return false;
        }

        if (!users.TryResolve(context.User, out user, out var problem))
        {
            refusal = new Refusal(StatusCodes.Status401Unauthorized, ChatErrorCodes.Unauthenticated, problem);
            return false;
        }

        refusal = null;
        return true;
    }

    /// <summary>
    /// The WebSocket of a connection whose handshake the direct listener answered, with the same subprotocol and
    /// keep-alive settings as one accepted over HTTP.
    /// </summary>
    internal WebSocket CreateAcceptedSocket(Stream connection)
    {
        var settings = serverOptions.Value;
        return WebSocket.CreateFromStream(connection, new WebSocketCreationOptions
        {
            IsServer = true,
            SubProtocol = ChatProtocol.Subprotocol,
            KeepAliveInterval = settings.KeepAliveInterval,
            KeepAliveTimeout = settings.KeepAliveTimeout,
        });
    }

    /// <summary>Runs a chat session for <paramref name="user"/> over an accepted socket until either side closes it.</summary>
    internal async Task RunSessionAsync(WebSocket socket, ChatUser user)
    {
        var session = new ChatSession(engine, registry, user, new WebSocketChatTransport(socket), time, _sessionLogger);
        await using (session.ConfigureAwait(false))
        {
            using var connection = new CancellationTokenSource();
            using var stopping = lifetime.ApplicationStopping.Register(static s => ((ChatSession)s!).Close((int)WebSocketCloseStatus.EndpointUnavailable, "server_shutdown"), session);
            var writer = session.RunAsync(connection.Token);
            var reader = ReadAsync(socket, session, connection.Token);
            var closeTimeout = engine.Options.CloseTimeout;
            if (await Task.WhenAny(writer, reader).ConfigureAwait(false) == reader)
            {
                // The client closed (or the socket broke): answer its close, then let the writer finish.
                session.Close((int)WebSocketCloseStatus.NormalClosure, string.Empty);
                await WaitOrAbortAsync(writer, socket, closeTimeout).ConfigureAwait(false);
            }
            else
            {
                // The server closed: give the client time to answer the close handshake.
                await WaitOrAbortAsync(reader, socket, closeTimeout).ConfigureAwait(false);
            }

            // Both loops end before the session is disposed, so no request is still running (a slow hello, say)
            // when the session unregisters: it cannot register again behind the teardown's back.
            await connection.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(writer, reader).ConfigureAwait(false);
        }
    }

    private async Task WaitOrAbortAsync(Task task, WebSocket socket, TimeSpan timeout)
    {
        try
        {
            await task.WaitAsync(timeout, time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            socket.Abort();
        }
    }

    private async Task ReadAsync(WebSocket socket, ChatSession session, CancellationToken cancellationToken)
    {
        var maxFrame = engine.Options.MaxFrameBytes;
        byte[]? buffer = null;
        try
        {
            var length = 0;
            var discarding = false;
            while (true)
            {
                ValueWebSocketReceiveResult result;
                if (buffer is null)
                {
                    // Between frames the connection holds no buffer: a zero-byte read waits for the next frame's header,
                    // so an idle connection costs no receive buffer (4 KiB each otherwise).
                    result = await socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
                    buffer = ArrayPool<byte>.Shared.Rent(Math.Min(InitialReceiveBufferBytes, maxFrame));
                }
                else
                {
                    if (length == buffer.Length && !discarding)
                    {
                        buffer = Grow(buffer, Math.Min(buffer.Length * 2, maxFrame + 1));
                    }

                    result = await socket.ReceiveAsync(discarding ? buffer.AsMemory() : buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                }

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                if (!discarding)
                {
                    length += result.Count;
                    if (length > maxFrame || result.MessageType == WebSocketMessageType.Binary)
                    {
                        discarding = true;
                    }
                }

                if (!result.EndOfMessage)
                {
                    continue;
                }

                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    session.RejectFrame(ChatErrorCodes.MalformedFrame, "Binary frames are not part of protocol chatkit.v1; send JSON text frames.");
                }
                else if (discarding)
                {
                    session.RejectFrame(ChatErrorCodes.FrameTooLarge, $"The frame was larger than the limit of {maxFrame} bytes and was discarded.");
                }
                else
                {
                    await session.HandleFrameAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                }

                length = 0;
                discarding = false;
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = null;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            LogReadEnded(_logger, session.ConnectionId, ex.Message);
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static byte[] Grow(byte[] buffer, int size)
    {
        var larger = ArrayPool<byte>.Shared.Rent(size);
        buffer.CopyTo(larger, 0);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }

    /// <summary>Why a connection request is refused: the HTTP status, the error code and the message of the body.</summary>
    internal sealed record Refusal(int Status, string Code, string Message);

    private async Task RefuseProtocolAsync(WebSocket socket)
    {
        using var timeout = new CancellationTokenSource(engine.Options.CloseTimeout, time);
        try
        {
            await socket.CloseAsync((WebSocketCloseStatus)ChatCloseCodes.UnsupportedProtocol, "unsupported_protocol", timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            socket.Abort();
        }
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Connection {ConnectionId} stopped reading: {Reason}")]
    private static partial void LogReadEnded(ILogger logger, string connectionId, string reason);
}
