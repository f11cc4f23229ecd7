using ChatKit.Protocol;

namespace ChatKit.Client;

/// <summary>The user was added to a room: created it, was invited, joined it, or a direct conversation was opened.</summary>
/// <param name="Info">The room, with the user's role and read state.</param>
public sealed record RoomAddedEvent(RoomInfo Info) : ChatEvent;
