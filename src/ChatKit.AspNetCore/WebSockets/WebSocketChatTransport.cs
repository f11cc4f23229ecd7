using System.Net.WebSockets;
using ChatKit.Sessions;

namespace ChatKit.AspNetCore.WebSockets;

/// <summary>A <see cref="ChatSession"/>'s socket: an accepted ASP.NET Core WebSocket.</summary>
internal sealed class WebSocketChatTransport(WebSocket socket) : IChatTransport
{
    public ValueTask SendAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken) =>
        socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    public async ValueTask CloseAsync(int closeCode, string reason, CancellationToken cancellationToken)
    {
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            await socket.CloseOutputAsync((WebSocketCloseStatus)closeCode, reason, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Abort() => socket.Abort();
}
