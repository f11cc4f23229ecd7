namespace ChatKit.Protocol;

/// <summary>A one-time prekey in JSON.</summary>
public sealed class OneTimePreKeyInfo
{
    /// <summary>The prekey's id on its device (not 0).</summary>
    public uint? Id { get; set; }

    /// <summary>The ECDH P-256 public key, an uncompressed point in base64url.</summary>
    public string? PublicKey { get; set; }
}
