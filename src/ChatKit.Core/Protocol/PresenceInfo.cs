namespace ChatKit.Protocol;

/// <summary>Whether a user is online, and when they were last seen.</summary>
public sealed class PresenceInfo
{
    /// <summary>The user id.</summary>
    public required string User { get; init; }

    /// <summary>Whether the user has at least one open connection.</summary>
    public bool Online { get; init; }

    /// <summary>When the user's last connection closed; <see langword="null"/> while online or when never seen.</summary>
    public DateTimeOffset? LastSeen { get; init; }
}
