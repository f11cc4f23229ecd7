using System.Security.Cryptography;

namespace ChatKit.Encryption;

/// <summary>
/// The receiving half of another device's Sender Key in one room, made from its distribution. Each message's
/// signature is checked before anything else; late messages are read with keys kept for them (at most
/// <see cref="RatchetSession.MaxSkip"/> ahead, <see cref="RatchetSession.MaxSkippedKeys"/> in all). A message that
/// does not decrypt leaves the receiver exactly as it was. Not thread-safe.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "The verifying key lives as long as the receiver; its native key is freed by its SafeHandle when the receiver is collected.")]
public sealed class SenderKeyReceiver
{
    private const byte StateVersion = 1;

    private readonly byte[] _signingKey;
    private readonly ECDsa _verifier;
    private readonly List<(uint Iteration, byte[] MessageKey)> _skipped;
    private byte[] _chain;
    private uint _iteration;

    private SenderKeyReceiver(string roomId, byte[] keyId, uint iteration, byte[] chain, byte[] signingKey, List<(uint, byte[])> skipped)
    {
        RoomId = roomId;
        KeyId = keyId;
        _iteration = iteration;
        _chain = chain;
        _signingKey = signingKey;
        _verifier = P256.ImportVerifier(signingKey);
        _skipped = skipped;
    }

    /// <summary>The room the key is for.</summary>
    public string RoomId { get; }

    /// <summary>The key's id, as its messages carry it.</summary>
    public byte[] KeyId { get; }

    /// <summary>How many skipped message keys are kept for late messages.</summary>
    public int SkippedKeyCount => _skipped.Count;

    /// <summary>Reads a distribution (which must have arrived over a pairwise session with its sender).</summary>
    public static SenderKeyReceiver FromDistribution(ReadOnlyMemory<byte> distribution)
    {
        var reader = new WireReader(distribution, "sender key distribution");
        if (reader.Byte() != SenderKeyChain.DistributionKind || reader.Byte() != RatchetSession.ProtocolVersion)
        {
            throw reader.Malformed();
        }

        var receiver = new SenderKeyReceiver(reader.Text(), reader.Fixed(SenderKeyChain.KeyIdLength), reader.UInt32(), reader.Fixed(Kdf.KeyLength), reader.Fixed(P256.PublicKeyLength), []);
        reader.End();
        return receiver;
    }

    /// <summary>The key id a sender key message names, to find its receiver; throws when the bytes are not one.</summary>
    public static byte[] MessageKeyId(ReadOnlyMemory<byte> message)
    {
        var reader = new WireReader(message, "sender key message");
        return reader.Byte() == SenderKeyChain.MessageKind && reader.Byte() == RatchetSession.ProtocolVersion
            ? reader.Fixed(SenderKeyChain.KeyIdLength)
            : throw reader.Malformed();
    }

    /// <summary>Checks the signature and decrypts; throws <see cref="EncryptionException"/> (changing nothing) otherwise.</summary>
    public byte[] Decrypt(ReadOnlyMemory<byte> message)
    {
        if (message.Length < SenderKeyChain.HeaderLength + P256.SignatureLength)
        {
            throw new EncryptionException(EncryptionErrorCodes.Malformed, "The bytes are not a valid sender key message.");
        }

        var signed = message[..^P256.SignatureLength];
        if (!MessageKeyId(message).AsSpan().SequenceEqual(KeyId))
        {
            throw new EncryptionException(EncryptionErrorCodes.UnknownSenderKey, "The message uses another sender key than this one.");
        }

        P256.VerifyOrThrow(_verifier, signed.Span, message.Span[^P256.SignatureLength..], "group message");
        var reader = new WireReader(signed, "sender key message");
        reader.Fixed(2 + SenderKeyChain.KeyIdLength);
        var iteration = reader.UInt32();
        var body = reader.Rest().Span;
        var header = signed.Span[..SenderKeyChain.HeaderLength];

        if (iteration < _iteration)
        {
            var index = _skipped.FindIndex(k => k.Iteration == iteration);
            if (index < 0)
            {
                throw new EncryptionException(EncryptionErrorCodes.Replayed, $"Message {iteration} of this sender key was already decrypted, or its key was dropped.");
            }

            var plaintext = MessageCipher.Decrypt(_skipped[index].MessageKey, body, header);
            CryptographicOperations.ZeroMemory(_skipped[index].MessageKey);
            _skipped.RemoveAt(index);
            return plaintext;
        }

        var (skipped, chain) = Kdf.Skip(_chain, _iteration, iteration);
        var (messageKey, nextChain) = Kdf.Chain(chain);
        var result = MessageCipher.Decrypt(messageKey, body, header);
        _chain = nextChain;
        _iteration = iteration + 1;
        _skipped.AddRange(skipped);
        if (_skipped.Count > RatchetSession.MaxSkippedKeys)
        {
            _skipped.RemoveRange(0, _skipped.Count - RatchetSession.MaxSkippedKeys);
        }

        return result;
    }

    /// <summary>The receiver with its keys, for the app's session store. Equal receivers export equal bytes.</summary>
    public byte[] Export()
    {
        var writer = new WireWriter().Byte(StateVersion).Text(RoomId).Fixed(KeyId).UInt32(_iteration).Fixed(_chain).Fixed(_signingKey).UInt32((uint)_skipped.Count);
        foreach (var (iteration, key) in _skipped)
        {
            writer.UInt32(iteration).Fixed(key);
        }

        return writer.ToArray();
    }

    /// <summary>Reads what <see cref="Export"/> wrote.</summary>
    public static SenderKeyReceiver Import(ReadOnlyMemory<byte> state)
    {
        var reader = new WireReader(state, "sender key receiver state");
        if (reader.Byte() != StateVersion)
        {
            throw reader.Malformed();
        }

        var roomId = reader.Text();
        var keyId = reader.Fixed(SenderKeyChain.KeyIdLength);
        var iteration = reader.UInt32();
        var chain = reader.Fixed(Kdf.KeyLength);
        var signingKey = reader.Fixed(P256.PublicKeyLength);
        var skipped = new List<(uint, byte[])>();
        for (var count = reader.UInt32(); count > 0; count--)
        {
            skipped.Add((reader.UInt32(), reader.Fixed(Kdf.KeyLength)));
        }

        reader.End();
        return new SenderKeyReceiver(roomId, keyId, iteration, chain, signingKey, skipped);
    }
}
