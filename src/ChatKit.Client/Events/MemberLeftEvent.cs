namespace ChatKit.Client;

/// <summary>Someone left one of the user's rooms or was removed from it.</summary>
/// <param name="Room">The room id.</param>
/// <param name="User">The user who is no longer a member.</param>
/// <param name="Reason"><c>left</c> or <c>removed</c>.</param>
/// <param name="By">Who removed the user, when the server says.</param>
public sealed record MemberLeftEvent(string Room, string User, string Reason, string? By) : ChatEvent;
