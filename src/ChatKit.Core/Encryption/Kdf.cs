using System.Security.Cryptography;
using System.Text;

namespace ChatKit.Encryption;

/// <summary>The key derivations of the protocol (the Signal specifications' recommended choices, on SHA-256).</summary>
internal static class Kdf
{
    public const int KeyLength = 32;

    private static readonly byte[] ZeroSalt = new byte[KeyLength];
    private static readonly byte[] MessageKeyConstant = [0x01];
    private static readonly byte[] ChainKeyConstant = [0x02];

    /// <summary>KDF_RK: HKDF-SHA256 with the root key as salt and the DH output as input; 32 bytes each of new root key and chain key.</summary>
    public static (byte[] RootKey, byte[] ChainKey) Root(byte[] rootKey, byte[] dhOutput)
    {
        var output = HKDF.DeriveKey(HashAlgorithmName.SHA256, dhOutput, 2 * KeyLength, rootKey, Info.Ratchet);
        return (output[..KeyLength], output[KeyLength..]);
    }

    /// <summary>KDF_CK: HMAC-SHA256 of 0x01 (message key) and 0x02 (next chain key) under the chain key.</summary>
    public static (byte[] MessageKey, byte[] NextChainKey) Chain(byte[] chainKey) =>
        (HMACSHA256.HashData(chainKey, MessageKeyConstant), HMACSHA256.HashData(chainKey, ChainKeyConstant));

    /// <summary>
    /// Steps a chain from message <paramref name="from"/> to <paramref name="to"/>: the message keys skipped on the way
    /// (for late messages) and the chain key at <paramref name="to"/>. Refuses more than <see cref="RatchetSession.MaxSkip"/>.
    /// </summary>
    public static (List<(uint Number, byte[] MessageKey)> Skipped, byte[] Chain) Skip(byte[] chain, uint from, uint to)
    {
        if (to - from > RatchetSession.MaxSkip)
        {
            throw new EncryptionException(EncryptionErrorCodes.TooFarAhead, $"The message is {to - from} messages ahead of its chain; at most {RatchetSession.MaxSkip} may be skipped.");
        }

        var skipped = new List<(uint, byte[])>((int)(to - from));
        for (var number = from; number < to; number++)
        {
            var (messageKey, next) = Chain(chain);
            skipped.Add((number, messageKey));
            chain = next;
        }

        return (skipped, chain);
    }

    /// <summary>The handshake's shared secret: HKDF-SHA256 over 32 0xFF bytes followed by the DH outputs, zero salt.</summary>
    public static byte[] Handshake(IReadOnlyList<byte[]> dhOutputs)
    {
        var input = new byte[KeyLength * (dhOutputs.Count + 1)];
        input.AsSpan(0, KeyLength).Fill(0xFF);
        for (var i = 0; i < dhOutputs.Count; i++)
        {
            dhOutputs[i].CopyTo(input, KeyLength * (i + 1));
        }

        var secret = HKDF.DeriveKey(HashAlgorithmName.SHA256, input, KeyLength, ZeroSalt, Info.Handshake);
        CryptographicOperations.ZeroMemory(input);
        return secret;
    }

    /// <summary>The AES-256 key, HMAC-SHA256 key and CBC IV of one message key: 80 bytes of HKDF-SHA256, zero salt.</summary>
    public static byte[] MessageKeys(byte[] messageKey) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, messageKey, 80, ZeroSalt, Info.MessageKeys);

    /// <summary>The HKDF info strings: each binds the protocol version and the suite (P-256, SHA-256, AES-256-CBC + HMAC-SHA256).</summary>
    internal static class Info
    {
        public static readonly byte[] Handshake = Encoding.ASCII.GetBytes("ChatKit_X3DH_P256_SHA256_AES256CBC_v1");
        public static readonly byte[] Ratchet = Encoding.ASCII.GetBytes("ChatKit_Ratchet_v1");
        public static readonly byte[] MessageKeys = Encoding.ASCII.GetBytes("ChatKit_MessageKeys_v1");
    }
}
