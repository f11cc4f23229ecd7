using System.Net.WebSockets;

namespace ChatKit.AspNetCore.Tests.Infrastructure;

/// <summary>Reads one whole WebSocket message, however many frames it came in.</summary>
internal static class WebSocketMessages
{
    /// <summary>Fills <paramref name="buffer"/> with the next message; returns its length and type (Close when the peer closed).</summary>
    public static async Task<(int Length, WebSocketMessageType Type)> ReceiveAsync(WebSocket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var length = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
            length += result.Count;
        }
        while (!result.EndOfMessage);

        return (length, result.MessageType);
    }
}
