using ChatKit.Protocol;

namespace ChatKit.Client;

/// <summary>Someone became a member of one of the user's rooms.</summary>
/// <param name="Room">The room id.</param>
/// <param name="Member">The new member.</param>
public sealed record MemberJoinedEvent(string Room, MemberInfo Member) : ChatEvent;
