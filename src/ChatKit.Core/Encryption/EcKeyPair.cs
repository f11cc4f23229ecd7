using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace ChatKit.Encryption;

/// <summary>
/// A P-256 key pair as bytes (the 32-byte private scalar and the 65-byte uncompressed public point), with the BCL key
/// objects made from them on first use and kept: importing a key costs about as much as an ECDH, and a pair is used
/// several times (an identity in every handshake, a signing key for every group message).
/// </summary>
[SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "A pair's key objects live as long as the pair; their native keys are freed by their SafeHandles when the pair is collected.")]
internal sealed class EcKeyPair(byte[] privateKey, byte[] publicKey, ECDiffieHellman? agreement = null)
{
    private ECDiffieHellman? _agreement = agreement;
    private ECDsa? _signer;

    public byte[] PrivateKey { get; } = privateKey;

    public byte[] PublicKey { get; } = publicKey;

    /// <summary>The pair as an ECDH key (made once; safe to use from one thread at a time, like everything holding the pair).</summary>
    public ECDiffieHellman Agreement => _agreement ??= ECDiffieHellman.Create(Parameters());

    /// <summary>The pair as an ECDSA key.</summary>
    public ECDsa Signer => _signer ??= ECDsa.Create(Parameters());

    public ECParameters Parameters() => new()
    {
        Curve = ECCurve.NamedCurves.nistP256,
        D = PrivateKey,
        Q = new ECPoint { X = PublicKey.AsSpan(1, 32).ToArray(), Y = PublicKey.AsSpan(33, 32).ToArray() },
    };
}
