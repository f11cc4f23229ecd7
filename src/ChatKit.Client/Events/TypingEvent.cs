namespace ChatKit.Client;

/// <summary>A user started or stopped typing in a room.</summary>
/// <param name="Room">The room id.</param>
/// <param name="User">The user id.</param>
/// <param name="Active">
/// <see langword="true"/> when the user started; <see langword="false"/> when the indicator expired, the user
/// stopped, or the user sent a message.
/// </param>
public sealed record TypingEvent(string Room, string User, bool Active) : ChatEvent;
