namespace ChatKit.Protocol;

/// <summary>The reply of <c>GET {pattern}/keys/users/{user}</c>: every device of a user.</summary>
public sealed class UserDevicesInfo
{
    /// <summary>The user.</summary>
    public required string User { get; init; }

    /// <summary>The devices, ordered by device id.</summary>
    public required IReadOnlyList<IdentityKeyInfo> Devices { get; init; }
}
