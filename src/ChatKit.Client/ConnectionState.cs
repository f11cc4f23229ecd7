namespace ChatKit.Client;

/// <summary>The state of a <see cref="ChatClient"/>'s connection to the server.</summary>
public enum ConnectionState
{
    /// <summary>
    /// Not connected: <see cref="ChatClient.ConnectAsync"/> has not been called or failed, the client gave up
    /// reconnecting (the <see cref="ConnectionStateChangedEvent.Error"/> says why), or it was closed.
    /// </summary>
    Disconnected = 0,

    /// <summary><see cref="ChatClient.ConnectAsync"/> is opening the connection.</summary>
    Connecting = 1,

    /// <summary>Connected and welcomed by the server; requests go out at once.</summary>
    Connected = 2,

    /// <summary>
    /// The connection dropped and the client is opening a new one, with backoff, to resume where it was.
    /// Requests made meanwhile wait for it, within <see cref="ChatClientOptions.RequestTimeout"/>.
    /// </summary>
    Reconnecting = 3,
}
