namespace ChatKit.Protocol;

/// <summary>A user known to the server, with presence.</summary>
public sealed class UserInfo
{
    /// <summary>The user id.</summary>
    public required string User { get; init; }

    /// <summary>The display name.</summary>
    public required string Name { get; init; }

    /// <summary>Whether the user has at least one open connection.</summary>
    public bool Online { get; init; }

    /// <summary>When the user's last connection closed.</summary>
    public DateTimeOffset? LastSeen { get; init; }
}
