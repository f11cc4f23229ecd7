namespace ChatKit.Protocol;

/// <summary>A member of a room.</summary>
public sealed class MemberInfo
{
    /// <summary>The user id.</summary>
    public required string User { get; init; }

    /// <summary>The user's display name.</summary>
    public required string Name { get; init; }

    /// <summary><c>owner</c>, <c>admin</c> or <c>member</c>.</summary>
    public required string Role { get; init; }

    /// <summary>When the user joined.</summary>
    public DateTimeOffset JoinedAt { get; init; }

    /// <summary>In member lists: the member's read position (what "read by" shows).</summary>
    public long? ReadSeq { get; init; }

    /// <summary>In member lists: the member's delivered position.</summary>
    public long? DeliveredSeq { get; init; }
}
