using ChatKit.Protocol;

namespace ChatKit.Client;

/// <summary>
/// A user who shares a room with the caller came online or went offline. The server may send the same change once
/// per shared room.
/// </summary>
/// <param name="Presence">The user's presence.</param>
public sealed record PresenceEvent(PresenceInfo Presence) : ChatEvent;
