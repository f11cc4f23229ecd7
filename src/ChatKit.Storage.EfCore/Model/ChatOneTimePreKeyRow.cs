namespace ChatKit.Storage.EfCore.Model;

/// <summary>Table <c>chatkit_one_time_prekeys</c>: a device's unclaimed one-time prekey; a claim deletes it.</summary>
public sealed class ChatOneTimePreKeyRow
{
    /// <summary>The user id.</summary>
    public required string UserId { get; set; }

    /// <summary>The device id.</summary>
    public required string DeviceId { get; set; }

    /// <summary>The key's id (a uint32), unique on its device.</summary>
    public long KeyId { get; set; }

    /// <summary>The ECDH P-256 public key (65-byte uncompressed point).</summary>
    public required byte[] PublicKey { get; set; }
}
