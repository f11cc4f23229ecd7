namespace ChatKit.Client;

/// <summary>
/// Something that happened, read from <see cref="ChatClient.ReadEventsAsync"/>: a server event or a change of the
/// connection's state. Match on the derived type (<see cref="MessageEvent"/>, <see cref="RoomAddedEvent"/>, ...).
/// </summary>
public abstract record ChatEvent;
