using System.Net.WebSockets;
using System.Threading.Channels;
using ChatKit.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChatKit.Benchmarks;

/// <summary>
/// The floor under ChatKit's fan-out on this machine: Kestrel and ASP.NET Core's WebSockets with nothing else. Every
/// <c>send</c> frame goes back out as a <c>message</c> to the connections of its room's members (rooms fixed at start,
/// users named by their bearer token), through a queue and a writer per connection as ChatKit has; every frame is
/// answered with a <c>reply</c>. No store, no JSON parsing beyond finding the room id.
/// </summary>
internal sealed class BareBroadcastServer : IAsyncDisposable
{
    private static readonly byte[] SendPrefix = "{\"type\":\"send\""u8.ToArray();
    private static readonly byte[] MessagePrefix = "{\"type\":\"message\""u8.ToArray();
    private static readonly byte[] Reply = "{\"type\":\"reply\"}"u8.ToArray();
    private static readonly byte[] RoomField = "\"room\":\""u8.ToArray();
    private readonly WebApplication _app;
    private readonly Dictionary<string, List<string>> _members;
    private readonly Dictionary<string, Channel<byte[]>> _connections = new(StringComparer.Ordinal);

    private BareBroadcastServer(WebApplication app, Dictionary<string, List<string>> members)
    {
        _app = app;
        _members = members;
    }

    public Uri WebSocketUri { get; private set; } = null!;

    /// <summary>Starts the server with its rooms: room id to member user ids.</summary>
    public static async Task<BareBroadcastServer> StartAsync(Dictionary<string, List<string>> members)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new BareBroadcastServer(app, members);
        app.UseWebSockets();
        app.Map("/chat", server.AcceptAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.WebSocketUri = new Uri($"ws://{new Uri(address).Authority}/chat");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task AcceptAsync(HttpContext context)
    {
        var user = context.Request.Headers.Authorization.ToString()["Bearer ".Length..];
        using var socket = await context.WebSockets.AcceptWebSocketAsync(Protocol.ChatProtocol.Subprotocol);
        var outbound = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
        lock (_connections)
        {
            _connections[user] = outbound;
        }

        var writer = WriteAsync(socket, outbound.Reader);
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var (length, type) = await WebSocketMessages.ReceiveAsync(socket, buffer, context.RequestAborted);
                if (type == WebSocketMessageType.Close)
                {
                    outbound.Writer.TryComplete();
                    await writer;
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    break;
                }

                var frame = buffer.AsSpan(0, length);
                if (frame.StartsWith(SendPrefix))
                {
                    var message = new byte[MessagePrefix.Length + length - SendPrefix.Length];
                    MessagePrefix.CopyTo(message, 0);
                    frame[SendPrefix.Length..].CopyTo(message.AsSpan(MessagePrefix.Length));
                    Deliver(RoomOf(frame), message);
                }

                outbound.Writer.TryWrite(Reply);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The client went away.
        }
        finally
        {
            lock (_connections)
            {
                _connections.Remove(user);
            }

            outbound.Writer.TryComplete();
            await writer;
        }
    }

    private static string RoomOf(ReadOnlySpan<byte> frame)
    {
        var start = frame.IndexOf(RoomField) + RoomField.Length;
        var end = frame[start..].IndexOf((byte)'"');
        return System.Text.Encoding.UTF8.GetString(frame.Slice(start, end));
    }

    private void Deliver(string room, byte[] message)
    {
        lock (_connections)
        {
            foreach (var member in _members[room])
            {
                if (_connections.TryGetValue(member, out var connection))
                {
                    connection.Writer.TryWrite(message);
                }
            }
        }
    }

    private static async Task WriteAsync(WebSocket socket, ChannelReader<byte[]> frames)
    {
        try
        {
            await foreach (var frame in frames.ReadAllAsync())
            {
                await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }
        }
        catch (WebSocketException)
        {
            // The client went away; the reader loop ends too.
        }
    }
}
