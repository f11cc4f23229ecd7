namespace ChatKit.Protocol;

/// <summary>The reply of <c>POST {pattern}/keys/users/{user}/devices/{device}/bundle</c>.</summary>
public sealed class PreKeyBundleInfo
{
    /// <summary>The device's identity.</summary>
    public required IdentityKeyInfo Identity { get; init; }

    /// <summary>Its signed prekey.</summary>
    public required SignedPreKeyInfo SignedPreKey { get; init; }

    /// <summary>A one-time prekey handed out to this caller only, or left out when none is left.</summary>
    public OneTimePreKeyInfo? OneTimePreKey { get; init; }
}
