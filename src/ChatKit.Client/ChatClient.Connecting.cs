using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using ChatKit.Protocol;

namespace ChatKit.Client;

// Opening connections: the WebSocket handshake, hello and welcome, and the supervisor that reconnects with backoff.
public sealed partial class ChatClient
{
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
        ChatCloseCodes.UnsupportedProtocol => ClosedForUnsupportedProtocol(),
        ChatCloseCodes.HelloTimeout => new ChatClientException(
            ChatClientErrorCodes.ConnectionFailed,
            "The server closed the connection with 4001 (hello_timeout): the hello did not reach it in time."),
        var status => new ChatClientException(
            ChatClientErrorCodes.ConnectionFailed,
            $"The server closed the connection before its welcome (close status {status?.ToString(CultureInfo.InvariantCulture) ?? "none"}: {connection.CloseStatusDescription})."),
    };

    private static ChatClientException ClosedForUnsupportedProtocol() => new(
        ChatClientErrorCodes.UnsupportedProtocol,
        $"The server closed the connection with 4002 (unsupported_protocol): it does not speak {ChatProtocol.Subprotocol}.");

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
                    var error = ClosedForUnsupportedProtocol();
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
            var reason = connection.CloseStatus is { } status
                ? $"closed with {(int)status} {connection.CloseStatusDescription}"
                : "dropped without a close frame";
            LogConnectionLost(_logger, connection.Id, reason);
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
}
