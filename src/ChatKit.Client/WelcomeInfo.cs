using ChatKit.Protocol;

namespace ChatKit.Client;

/// <summary>What the server said when it accepted a connection (the reply to <c>hello</c>).</summary>
public sealed class WelcomeInfo
{
    /// <summary>The protocol version the server speaks.</summary>
    public int Protocol { get; init; }

    /// <summary>The authenticated user's id.</summary>
    public required string UserId { get; init; }

    /// <summary>The authenticated user's display name.</summary>
    public required string DisplayName { get; init; }

    /// <summary>The server's id of this connection, useful to correlate with server logs.</summary>
    public required string ConnectionId { get; init; }

    /// <summary>
    /// The user's rooms when the connection opened, with read state. After a reconnection this is the fresh list:
    /// membership events sent while the client was away are not replayed.
    /// </summary>
    public required IReadOnlyList<RoomInfo> Rooms { get; init; }

    /// <summary>The server's limits (frame and message sizes, history page, typing lifetime, rate).</summary>
    public required ProtocolLimits Limits { get; init; }
}
