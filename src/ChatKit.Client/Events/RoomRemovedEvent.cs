namespace ChatKit.Client;

/// <summary>The user is no longer in a room; no more events of it follow.</summary>
/// <param name="Room">The room id.</param>
/// <param name="Reason"><c>left</c> or <c>removed</c>.</param>
/// <param name="By">Who removed the user, when the server says.</param>
public sealed record RoomRemovedEvent(string Room, string Reason, string? By) : ChatEvent;
