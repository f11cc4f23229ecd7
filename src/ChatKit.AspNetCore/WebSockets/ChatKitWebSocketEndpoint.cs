namespace ChatKit.AspNetCore.WebSockets;

/// <summary>
/// Metadata of the WebSocket endpoint that <c>MapChatKit</c> maps: how the direct listener finds its path and the
/// authorization the app put on it.
/// </summary>
internal sealed class ChatKitWebSocketEndpoint
{
    public static readonly ChatKitWebSocketEndpoint Instance = new();
}
