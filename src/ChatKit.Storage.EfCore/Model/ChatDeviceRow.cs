namespace ChatKit.Storage.EfCore.Model;

/// <summary>Table <c>chatkit_devices</c>: a device's public keys in the key directory, keyed by (user, device).</summary>
public sealed class ChatDeviceRow
{
    /// <summary>The user id.</summary>
    public required string UserId { get; set; }

    /// <summary>The device id, unique for its user.</summary>
    public required string DeviceId { get; set; }

    /// <summary>The ECDSA P-256 signing key (65-byte uncompressed point).</summary>
    public required byte[] SigningKey { get; set; }

    /// <summary>The ECDH P-256 identity key (65-byte uncompressed point).</summary>
    public required byte[] IdentityKey { get; set; }

    /// <summary>The signing key's signature over the ids and the identity key.</summary>
    public required byte[] IdentitySignature { get; set; }

    /// <summary>The current signed prekey's id (a uint32).</summary>
    public long SignedPreKeyId { get; set; }

    /// <summary>The current signed prekey (65-byte uncompressed point).</summary>
    public required byte[] SignedPreKey { get; set; }

    /// <summary>The signing key's signature over the signed prekey's id and key.</summary>
    public required byte[] SignedPreKeySignature { get; set; }

    /// <summary>When the device last published its keys, in Unix milliseconds.</summary>
    public long UpdatedAtMs { get; set; }
}
