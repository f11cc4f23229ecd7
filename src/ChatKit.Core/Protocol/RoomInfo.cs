namespace ChatKit.Protocol;

/// <summary>A room as a client sees it, with the caller's own read state.</summary>
public sealed class RoomInfo
{
    /// <summary>The room id (opaque, at most 64 characters).</summary>
    public required string Id { get; init; }

    /// <summary><c>group</c> or <c>direct</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>The room's name; for a direct conversation, the other user's name.</summary>
    public required string Name { get; init; }

    /// <summary><c>public</c> or <c>private</c>.</summary>
    public required string Visibility { get; init; }

    /// <summary>The user who created the room.</summary>
    public required string CreatedBy { get; init; }

    /// <summary>When the room was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The caller's role, or <see langword="null"/> when the caller is not a member.</summary>
    public string? Role { get; init; }

    /// <summary>Direct conversations: the other user's id.</summary>
    public string? Peer { get; init; }

    /// <summary><see langword="true"/> for an end-to-end encrypted room (left out otherwise).</summary>
    public bool? Encrypted { get; init; }

    /// <summary>The sequence number of the room's newest message (0 when it has none).</summary>
    public long LatestSeq { get; init; }

    /// <summary>The caller's read position.</summary>
    public long ReadSeq { get; init; }

    /// <summary>The caller's delivered position.</summary>
    public long DeliveredSeq { get; init; }

    /// <summary>Messages after the caller's read position.</summary>
    public long Unread { get; init; }
}
