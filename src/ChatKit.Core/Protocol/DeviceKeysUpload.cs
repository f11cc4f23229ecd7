namespace ChatKit.Protocol;

/// <summary>The JSON body of <c>PUT {pattern}/keys/devices/{device}</c> and <c>POST {pattern}/keys/devices/{device}/prekeys</c>.</summary>
public sealed class DeviceKeysUpload
{
    /// <summary>The device's identity (PUT only); its user and device must be the caller and the path's device.</summary>
    public IdentityKeyInfo? Identity { get; set; }

    /// <summary>The device's current signed prekey (PUT only).</summary>
    public SignedPreKeyInfo? SignedPreKey { get; set; }

    /// <summary>One-time prekeys to add.</summary>
    public IList<OneTimePreKeyInfo>? OneTimePreKeys { get; set; }
}
