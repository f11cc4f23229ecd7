namespace ChatKit.Protocol;

/// <summary>Protocol constants shared by servers and clients.</summary>
public static class ChatProtocol
{
    /// <summary>The protocol version this library speaks.</summary>
    public const int Version = 1;

    /// <summary>The WebSocket subprotocol name of <see cref="Version"/>.</summary>
    public const string Subprotocol = "chatkit.v1";
}
