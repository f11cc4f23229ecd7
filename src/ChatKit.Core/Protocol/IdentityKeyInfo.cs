namespace ChatKit.Protocol;

/// <summary>A device's public identity in JSON: keys and signature as unpadded base64url.</summary>
public sealed class IdentityKeyInfo
{
    /// <summary>The user.</summary>
    public string? User { get; set; }

    /// <summary>The device id.</summary>
    public string? Device { get; set; }

    /// <summary>The ECDSA P-256 signing key, an uncompressed point.</summary>
    public string? SigningKey { get; set; }

    /// <summary>The ECDH P-256 identity key, an uncompressed point.</summary>
    public string? IdentityKey { get; set; }

    /// <summary>The signing key's P1363 signature over user, device and identity key.</summary>
    public string? Signature { get; set; }
}
