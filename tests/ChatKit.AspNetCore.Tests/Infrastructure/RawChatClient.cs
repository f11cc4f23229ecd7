using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using ChatKit.Protocol;

namespace ChatKit.AspNetCore.Tests.Infrastructure;

/// <summary>
/// A protocol-level test client over a real ClientWebSocket: sends any bytes, and records every frame the
/// server sends, so tests can assert exactly what went over the wire.
/// </summary>
internal sealed class RawChatClient : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly ClientWebSocket _socket;
    private readonly Channel<ServerFrame> _frames = Channel.CreateUnbounded<ServerFrame>();
    private readonly List<ServerFrame> _events = [];
    private readonly Dictionary<string, int> _messageCounts = new(StringComparer.Ordinal);
    private readonly Task _receiving;
    private int _nextId;

    private RawChatClient(ClientWebSocket socket, string user)
    {
        _socket = socket;
        User = user;
        _receiving = ReceiveAsync();
    }

    public string User { get; }

    public ServerFrame? Welcome { get; private set; }

    /// <summary>Every event (frame without <c>re</c>) received so far, in arrival order.</summary>
    public List<ServerFrame> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public string? CloseDescription => _socket.CloseStatusDescription;

    public WebSocketState State => _socket.State;

    public static Task<RawChatClient> ConnectAsync(ChatTestServer server, string user, IDictionary<string, long>? resume = null, bool hello = true) =>
        ConnectAsync(server.WebSocketUri, user, resume, hello);

    /// <summary>Connects to the WebSocket endpoint at <paramref name="webSocketUri"/> as <paramref name="user"/> (the test bearer scheme).</summary>
    public static async Task<RawChatClient> ConnectAsync(Uri webSocketUri, string user, IDictionary<string, long>? resume = null, bool hello = true)
    {
        var socket = await OpenAsync(webSocketUri, user);
        var client = new RawChatClient(socket, user);
        if (hello)
        {
            client.Welcome = await client.RequestAsync(new ClientFrame { Type = FrameTypes.Hello, Resume = resume });
        }

        return client;
    }

    public static Task<ClientWebSocket> OpenAsync(ChatTestServer server, string? user, string? subprotocol = ChatProtocol.Subprotocol, int receiveBufferBytes = 16 * 1024, string? origin = null) =>
        OpenAsync(server.WebSocketUri, user, subprotocol, receiveBufferBytes, origin);

    public static async Task<ClientWebSocket> OpenAsync(Uri webSocketUri, string? user, string? subprotocol = ChatProtocol.Subprotocol, int receiveBufferBytes = 16 * 1024, string? origin = null)
    {
        var socket = new ClientWebSocket();
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        socket.Options.CollectHttpResponseDetails = true;
        if (webSocketUri.Scheme == "wss")
        {
            // TLS test servers use the run's self-signed certificate, pinned here.
            socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) => TestCertificate.IsTestCertificate(certificate);
        }

        socket.Options.SetBuffer(receiveBufferBytes, 16 * 1024);
        if (subprotocol is not null)
        {
            socket.Options.AddSubProtocol(subprotocol);
        }

        if (user is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + user);
        }

        using var timeout = new CancellationTokenSource(Timeout);
        await socket.ConnectAsync(webSocketUri, timeout.Token);
        return socket;
    }

    /// <summary>Sends a request and returns its reply; throws <see cref="ChatErrorException"/> for an error reply.</summary>
    public async Task<ServerFrame> RequestAsync(ClientFrame frame)
    {
        frame.Id ??= "r" + Interlocked.Increment(ref _nextId);
        await SendRawAsync(ProtocolJson.Serialize(frame));
        var reply = await NextReplyAsync(frame.Id);
        return reply.Type == FrameTypes.Error ? throw new ChatErrorException(reply) : reply;
    }

    /// <summary>Sends a request and returns the error it must get.</summary>
    public async Task<ServerFrame> RequestErrorAsync(ClientFrame frame)
    {
        frame.Id ??= "r" + Interlocked.Increment(ref _nextId);
        await SendRawAsync(ProtocolJson.Serialize(frame));
        var reply = await NextReplyAsync(frame.Id);
        Assert.Equal(FrameTypes.Error, reply.Type);
        return reply;
    }

    /// <summary>Sends a request and returns its reply or its error, whichever comes.</summary>
    public async Task<ServerFrame> RequestErrorOrReplyAsync(ClientFrame frame)
    {
        frame.Id ??= "r" + Interlocked.Increment(ref _nextId);
        await SendRawAsync(ProtocolJson.Serialize(frame));
        return await NextReplyAsync(frame.Id);
    }

    public Task<ServerFrame> SendAsync(string room, string body, string? cmid = null) =>
        RequestAsync(new ClientFrame { Type = FrameTypes.Send, Room = room, Body = body, Cmid = cmid ?? Guid.NewGuid().ToString("N") });

    public async Task SendRawAsync(byte[] bytes, WebSocketMessageType type = WebSocketMessageType.Text)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await _socket.SendAsync(bytes, type, endOfMessage: true, timeout.Token);
    }

    public Task SendTextAsync(string text) => SendRawAsync(Encoding.UTF8.GetBytes(text));

    /// <summary>The next reply or error for <paramref name="re"/>; events met on the way are recorded.</summary>
    public async Task<ServerFrame> NextReplyAsync(string? re)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (true)
        {
            var frame = await _frames.Reader.ReadAsync(timeout.Token);
            if (frame.Type is FrameTypes.Reply or FrameTypes.Error)
            {
                if (frame.Re == re)
                {
                    return frame;
                }

                continue;
            }

            Record(frame);
        }
    }

    /// <summary>Waits until an event matching <paramref name="match"/> has arrived and returns it.</summary>
    public Task<ServerFrame> WaitForEventAsync(Func<ServerFrame, bool> match) => WaitForEventAsync(match, Timeout);

    /// <summary>Waits up to <paramref name="within"/> for an event matching <paramref name="match"/>; <see langword="null"/> when none came.</summary>
    public async Task<ServerFrame?> TryWaitForEventAsync(Func<ServerFrame, bool> match, TimeSpan within)
    {
        try
        {
            return await WaitForEventAsync(match, within);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private async Task<ServerFrame> WaitForEventAsync(Func<ServerFrame, bool> match, TimeSpan within)
    {
        lock (_events)
        {
            var found = _events.FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }
        }

        using var timeout = new CancellationTokenSource(within);
        while (true)
        {
            var frame = await _frames.Reader.ReadAsync(timeout.Token);
            if (frame.Type is FrameTypes.Reply or FrameTypes.Error)
            {
                continue;
            }

            Record(frame);
            if (match(frame))
            {
                return frame;
            }
        }
    }

    /// <summary>Waits until <paramref name="count"/> message events of <paramref name="room"/> have arrived; returns them in arrival order.</summary>
    public async Task<List<ServerFrame>> WaitForMessagesAsync(string room, int count)
    {
        await WaitForEventAsync(_ => MessageCount(room) >= count);
        return MessagesOf(room);
    }

    private int MessageCount(string room)
    {
        lock (_events)
        {
            return _messageCounts.GetValueOrDefault(room);
        }
    }

    private void Record(ServerFrame frame)
    {
        lock (_events)
        {
            _events.Add(frame);
            if (frame.Type == FrameTypes.Message && frame.Room is not null)
            {
                _messageCounts[frame.Room] = _messageCounts.GetValueOrDefault(frame.Room) + 1;
            }
        }
    }

    public List<ServerFrame> MessagesOf(string room) =>
        Events.Where(e => e.Type == FrameTypes.Message && e.Room == room).ToList();

    /// <summary>Waits for the server to close the socket; returns the close status.</summary>
    public async Task<WebSocketCloseStatus?> WaitForCloseAsync()
    {
        await _receiving.WaitAsync(Timeout);
        return _socket.CloseStatus;
    }

    public async Task CloseAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(Timeout);
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
        }

        await _receiving.WaitAsync(Timeout);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await CloseAsync();
        }
        catch (Exception ex) when (ex is WebSocketException or TimeoutException or OperationCanceledException)
        {
            _socket.Abort();
        }

        _socket.Dispose();
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[1 << 20];
        try
        {
            while (true)
            {
                var (length, type) = await WebSocketMessages.ReceiveAsync(_socket, buffer, CancellationToken.None);
                if (type == WebSocketMessageType.Close)
                {
                    break;
                }

                _frames.Writer.TryWrite(ProtocolJson.ParseServerFrame(buffer.AsSpan(0, length))!);
            }
        }
        catch (WebSocketException)
        {
            // The server dropped the connection; tests look at State and CloseStatus.
        }
        finally
        {
            _frames.Writer.TryComplete();
        }
    }
}
