using System.Security.Cryptography;

namespace ChatKit.Encryption;

/// <summary>A P-256 key pair as bytes: the 32-byte private scalar and the 65-byte uncompressed public point.</summary>
internal sealed record EcKeyPair(byte[] PrivateKey, byte[] PublicKey)
{
    public ECParameters Parameters() => new()
    {
        Curve = ECCurve.NamedCurves.nistP256,
        D = PrivateKey,
        Q = new ECPoint { X = PublicKey.AsSpan(1, 32).ToArray(), Y = PublicKey.AsSpan(33, 32).ToArray() },
    };
}
