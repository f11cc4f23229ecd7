using System.Text;

namespace ChatKit.Encryption;

/// <summary>
/// The public identity of one device of one user, as the key directory hands it out: an ECDSA P-256 signing key
/// that certifies the device's ECDH P-256 identity key together with the user and device ids. Anyone can check it
/// with <see cref="Verify"/>; the directory is not trusted to vouch for it.
/// </summary>
/// <param name="UserId">The user the device belongs to.</param>
/// <param name="DeviceId">The device's id, chosen by the device, unique for its user.</param>
/// <param name="SigningKey">The ECDSA P-256 public key (65-byte uncompressed point): the device's long-term identity, the key safety numbers are made from.</param>
/// <param name="IdentityKey">The ECDH P-256 public key (65-byte uncompressed point) used in handshakes.</param>
/// <param name="Signature">The signing key's P1363 signature over the ids and the identity key.</param>
public sealed record DeviceIdentityKey(string UserId, string DeviceId, byte[] SigningKey, byte[] IdentityKey, byte[] Signature)
{
    private static readonly byte[] Label = Encoding.ASCII.GetBytes("ChatKit_DeviceIdentity_v1");

    /// <summary>Checks both keys and the signature; throws <see cref="EncryptionException"/> when any is wrong.</summary>
    public void Verify()
    {
        P256.Validate(SigningKey);
        P256.Validate(IdentityKey);
        P256.VerifyOrThrow(SigningKey, SignedBytes(UserId, DeviceId, IdentityKey), Signature, $"identity key of device '{DeviceId}' of user '{UserId}'");
    }

    /// <summary>Whether this is the same device with the same keys as <paramref name="other"/>.</summary>
    public bool SameKeysAs(DeviceIdentityKey other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return string.Equals(UserId, other.UserId, StringComparison.Ordinal)
            && string.Equals(DeviceId, other.DeviceId, StringComparison.Ordinal)
            && SigningKey.AsSpan().SequenceEqual(other.SigningKey)
            && IdentityKey.AsSpan().SequenceEqual(other.IdentityKey);
    }

    internal static byte[] SignedBytes(string userId, string deviceId, byte[] identityKey) =>
        new WireWriter().Fixed(Label).Text(userId).Text(deviceId).Fixed(identityKey).ToArray();

    internal void WriteTo(WireWriter writer) =>
        writer.Text(UserId).Text(DeviceId).Fixed(SigningKey).Fixed(IdentityKey).Fixed(Signature);

    internal static DeviceIdentityKey ReadFrom(WireReader reader) =>
        new(reader.Text(), reader.Text(), reader.Fixed(P256.PublicKeyLength), reader.Fixed(P256.PublicKeyLength), reader.Fixed(P256.SignatureLength));
}
