namespace ChatKit.Protocol;

/// <summary>The WebSocket close codes ChatKit uses beyond the standard ones.</summary>
public static class ChatCloseCodes
{
    /// <summary>No <c>hello</c> arrived within the hello timeout.</summary>
    public const int HelloTimeout = 4001;

    /// <summary>The client did not offer the <c>chatkit.v1</c> subprotocol.</summary>
    public const int UnsupportedProtocol = 4002;

    /// <summary>The client read too slowly; its outbound buffer passed the limit.</summary>
    public const int OutboundOverflow = 4008;

    /// <summary>The server could not deliver a room's messages in order without a gap; reconnect and resume.</summary>
    public const int ResumeRequired = 4010;
}
