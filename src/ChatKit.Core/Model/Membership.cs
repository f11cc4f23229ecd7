namespace ChatKit.Model;

/// <summary>One of a user's rooms, with the user's role and read state and the room's latest sequence.</summary>
/// <param name="Room">The room.</param>
/// <param name="Role">The user's role.</param>
/// <param name="LatestSequence">The sequence of the room's newest message (0 when it has none).</param>
/// <param name="State">The user's delivered and read positions.</param>
/// <param name="Peer">Direct conversations: the other member's user id.</param>
public sealed record Membership(Room Room, MemberRole Role, long LatestSequence, ReadState State, string? Peer)
{
    /// <summary>Messages after the read position.</summary>
    public long Unread => Math.Max(0, LatestSequence - State.ReadSequence);
}
