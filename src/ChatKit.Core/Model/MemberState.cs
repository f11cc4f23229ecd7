namespace ChatKit.Model;

/// <summary>A member of a room with how far they have received and read it.</summary>
/// <param name="Member">The membership.</param>
/// <param name="State">The member's delivered and read positions.</param>
public sealed record MemberState(RoomMember Member, ReadState State);
