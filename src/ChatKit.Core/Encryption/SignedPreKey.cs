using System.Text;

namespace ChatKit.Encryption;

/// <summary>A medium-term ECDH P-256 prekey, signed by the device's signing key and replaced from time to time.</summary>
/// <param name="Id">The prekey's id, unique on its device.</param>
/// <param name="PublicKey">The 65-byte uncompressed point.</param>
/// <param name="Signature">The device signing key's P1363 signature over the id and the key.</param>
public sealed record SignedPreKey(uint Id, byte[] PublicKey, byte[] Signature)
{
    private static readonly byte[] Label = Encoding.ASCII.GetBytes("ChatKit_SignedPreKey_v1");

    /// <summary>Checks the key and its signature by <paramref name="identity"/>; throws <see cref="EncryptionException"/> when either is wrong.</summary>
    public void Verify(DeviceIdentityKey identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        P256.Validate(PublicKey);
        P256.VerifyOrThrow(identity.SigningKey, SignedBytes(Id, PublicKey), Signature, $"signed prekey {Id} of device '{identity.DeviceId}'");
    }

    internal static byte[] SignedBytes(uint id, byte[] publicKey) => new WireWriter().Fixed(Label).UInt32(id).Fixed(publicKey).ToArray();
}
