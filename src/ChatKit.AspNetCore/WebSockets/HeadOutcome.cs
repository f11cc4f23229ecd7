namespace ChatKit.AspNetCore.WebSockets;

/// <summary>What the direct listener makes of the bytes a new connection sent so far.</summary>
internal enum HeadOutcome
{
    /// <summary>The head has not ended yet, and what came of it could still be a ChatKit handshake.</summary>
    Incomplete,

    /// <summary>A well-formed ChatKit WebSocket handshake.</summary>
    Taken,

    /// <summary>Anything else: the connection goes to HTTP untouched.</summary>
    NotTaken,
}
