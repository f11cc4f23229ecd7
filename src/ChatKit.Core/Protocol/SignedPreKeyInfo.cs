namespace ChatKit.Protocol;

/// <summary>A signed prekey in JSON.</summary>
public sealed class SignedPreKeyInfo
{
    /// <summary>The prekey's id on its device.</summary>
    public uint? Id { get; set; }

    /// <summary>The ECDH P-256 public key, an uncompressed point in base64url.</summary>
    public string? PublicKey { get; set; }

    /// <summary>The device signing key's signature, base64url.</summary>
    public string? Signature { get; set; }
}
