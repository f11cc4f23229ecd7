using ChatKit.Protocol;

namespace ChatKit.Sessions;

/// <summary>What the writer needs to start a session: the hello, and each room's latest sequence when the hello subscribed to it.</summary>
/// <param name="Hello">The client's hello, with its resume positions.</param>
/// <param name="SubscribedAt">Room id to the room's latest sequence at the moment the session subscribed to it.</param>
internal sealed record StartRequest(ClientFrame Hello, IReadOnlyDictionary<string, long> SubscribedAt);
