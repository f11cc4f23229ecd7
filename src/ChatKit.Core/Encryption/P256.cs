using System.Security.Cryptography;

namespace ChatKit.Encryption;

/// <summary>
/// The NIST P-256 operations the protocol uses, on raw bytes as WebCrypto exchanges them: public keys as
/// uncompressed SEC1 points (65 bytes, 0x04 || X || Y), private keys as 32-byte scalars, signatures as IEEE P1363
/// (r || s, 64 bytes), ECDH results as the shared point's X coordinate (32 bytes).
/// </summary>
internal static class P256
{
    public const int PublicKeyLength = 65;
    public const int PrivateKeyLength = 32;
    public const int SignatureLength = 64;

    public static EcKeyPair Generate()
    {
        // The new key object stays with the pair: a generated ratchet key is used for an ECDH right away.
        var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        return FromParameters(key.ExportParameters(includePrivateParameters: true), key);
    }

    /// <summary>The key pair of a private scalar (used for known-answer vectors and stored state).</summary>
    public static EcKeyPair FromPrivate(ReadOnlySpan<byte> d)
    {
        if (d.Length != PrivateKeyLength)
        {
            throw new EncryptionException(EncryptionErrorCodes.InvalidKey, $"A P-256 private key is {PrivateKeyLength} bytes; got {d.Length}.");
        }

        try
        {
            using var key = ECDiffieHellman.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = d.ToArray() });
            return FromParameters(key.ExportParameters(includePrivateParameters: true));
        }
        catch (CryptographicException ex)
        {
            throw new EncryptionException(EncryptionErrorCodes.InvalidKey, "The bytes are not a valid P-256 private key.", ex);
        }
    }

    /// <summary>Checks that the bytes are an uncompressed point on the curve (not the identity, not off the curve).</summary>
    public static void Validate(ReadOnlySpan<byte> publicKey)
    {
        using var key = ImportDh(publicKey);
    }

    public static byte[] Agree(EcKeyPair own, ReadOnlySpan<byte> peerPublicKey)
    {
        using var peer = ImportDh(peerPublicKey);
        return own.Agreement.DeriveRawSecretAgreement(peer.PublicKey);
    }

    public static byte[] Sign(EcKeyPair own, ReadOnlySpan<byte> data) =>
        own.Signer.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        using var key = ImportVerifier(publicKey);
        return Verify(key, data, signature);
    }

    public static bool Verify(ECDsa key, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        signature.Length == SignatureLength && key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    /// <summary>A public key as an ECDSA key for verifying, checked to be on the curve.</summary>
    public static ECDsa ImportVerifier(ReadOnlySpan<byte> publicKey)
    {
        var parameters = PublicParameters(publicKey);
        try
        {
            return ECDsa.Create(parameters);
        }
        catch (CryptographicException ex)
        {
            throw new EncryptionException(EncryptionErrorCodes.InvalidKey, "The signing key is not a point on P-256.", ex);
        }
    }

    public static void VerifyOrThrow(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature, string what)
    {
        using var key = ImportVerifier(publicKey);
        VerifyOrThrow(key, data, signature, what);
    }

    public static void VerifyOrThrow(ECDsa key, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature, string what)
    {
        if (!Verify(key, data, signature))
        {
            throw new EncryptionException(EncryptionErrorCodes.BadSignature, $"The signature on the {what} does not verify.");
        }
    }

    private static ECDiffieHellman ImportDh(ReadOnlySpan<byte> publicKey)
    {
        var parameters = PublicParameters(publicKey);
        try
        {
            return ECDiffieHellman.Create(parameters);
        }
        catch (CryptographicException ex)
        {
            throw new EncryptionException(EncryptionErrorCodes.InvalidKey, "The public key is not a point on P-256.", ex);
        }
    }

    private static ECParameters PublicParameters(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != PublicKeyLength || publicKey[0] != 0x04)
        {
            throw new EncryptionException(EncryptionErrorCodes.InvalidKey, $"A P-256 public key is an uncompressed point of {PublicKeyLength} bytes starting with 0x04.");
        }

        var parameters = new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = publicKey.Slice(1, 32).ToArray(), Y = publicKey.Slice(33, 32).ToArray() },
        };
        try
        {
            parameters.Validate();
        }
        catch (CryptographicException ex)
        {
            throw new EncryptionException(EncryptionErrorCodes.InvalidKey, "The public key is not a point on P-256.", ex);
        }

        return parameters;
    }

    private static EcKeyPair FromParameters(ECParameters parameters, ECDiffieHellman? agreement = null)
    {
        var publicKey = new byte[PublicKeyLength];
        publicKey[0] = 0x04;
        Pad(parameters.Q.X!).CopyTo(publicKey, 1);
        Pad(parameters.Q.Y!).CopyTo(publicKey, 33);
        return new EcKeyPair(Pad(parameters.D!), publicKey, agreement);
    }

    private static byte[] Pad(byte[] value)
    {
        if (value.Length == 32)
        {
            return value;
        }

        var padded = new byte[32];
        value.CopyTo(padded, 32 - value.Length);
        return padded;
    }
}
