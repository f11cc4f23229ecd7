namespace ChatKit.Client;

/// <summary>
/// The client's connection changed state. It comes in order with the server's events: every event of a connection
/// comes after that connection's <see cref="ConnectionState.Connected"/> and before the
/// <see cref="ConnectionState.Reconnecting"/> that follows its loss.
/// </summary>
/// <param name="State">The new state.</param>
/// <param name="Error">
/// For <see cref="ConnectionState.Disconnected"/>: why the client stopped (a failed connect, or it gave up
/// reconnecting); <see langword="null"/> after a normal close and for the other states.
/// </param>
public sealed record ConnectionStateChangedEvent(ConnectionState State, Exception? Error) : ChatEvent;
