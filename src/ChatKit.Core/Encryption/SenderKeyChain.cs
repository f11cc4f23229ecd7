using System.Security.Cryptography;

namespace ChatKit.Encryption;

/// <summary>
/// The sending half of a Sender Key: one hash-ratchet chain and one ECDSA P-256 signing key of one device in one
/// room. Each message is encrypted under the next key of the chain and signed. Other members get
/// <see cref="Distribution"/> over their pairwise sessions and decrypt with a <see cref="SenderKeyReceiver"/>.
/// Make a new chain (and distribute it to the members that remain) whenever a member or device leaves the room.
/// Not thread-safe; save <see cref="Export"/> after each message.
/// </summary>
public sealed class SenderKeyChain
{
    /// <summary>The length of a sender key's id.</summary>
    public const int KeyIdLength = 16;

    internal const byte MessageKind = 3;
    internal const byte DistributionKind = 4;
    internal const int HeaderLength = 2 + KeyIdLength + 4;

    private const byte StateVersion = 1;

    private readonly EcKeyPair _signing;
    private byte[] _chain;
    private uint _iteration;

    private SenderKeyChain(string roomId, byte[] keyId, byte[] chain, uint iteration, EcKeyPair signing)
    {
        RoomId = roomId;
        KeyId = keyId;
        _chain = chain;
        _iteration = iteration;
        _signing = signing;
    }

    /// <summary>The room the key is for.</summary>
    public string RoomId { get; }

    /// <summary>A random id that names this key in each message.</summary>
    public byte[] KeyId { get; }

    /// <summary>The number the next message will carry.</summary>
    public uint Iteration => _iteration;

    /// <summary>Makes a fresh sender key for a room.</summary>
    public static SenderKeyChain Create(string roomId)
    {
        ArgumentException.ThrowIfNullOrEmpty(roomId);
        return CreateWith(roomId, RandomNumberGenerator.GetBytes(KeyIdLength), RandomNumberGenerator.GetBytes(Kdf.KeyLength), P256.Generate());
    }

    internal static SenderKeyChain CreateWith(string roomId, byte[] keyId, byte[] chain, EcKeyPair signing) => new(roomId, keyId, chain, 0, signing);

    /// <summary>Encrypts and signs one message for every holder of the key.</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext)
    {
        var (messageKey, next) = Kdf.Chain(_chain);
        var header = new WireWriter().Byte(MessageKind).Byte(RatchetSession.ProtocolVersion).Fixed(KeyId).UInt32(_iteration).ToArray();
        var signed = new WireWriter().Fixed(header).Fixed(MessageCipher.Encrypt(messageKey, plaintext, header)).ToArray();
        CryptographicOperations.ZeroMemory(messageKey);
        _chain = next;
        _iteration++;
        return [.. signed, .. P256.Sign(_signing, signed)];
    }

    /// <summary>
    /// What a member needs to read this device's messages from now on: the room, the key id, the chain at its current
    /// iteration and the public signing key. Send it only over pairwise sessions.
    /// </summary>
    public byte[] Distribution() =>
        new WireWriter().Byte(DistributionKind).Byte(RatchetSession.ProtocolVersion)
            .Text(RoomId).Fixed(KeyId).UInt32(_iteration).Fixed(_chain).Fixed(_signing.PublicKey).ToArray();

    /// <summary>The chain with its keys, for the app's session store.</summary>
    public byte[] Export() =>
        new WireWriter().Byte(StateVersion).Text(RoomId).Fixed(KeyId).UInt32(_iteration).Fixed(_chain).Fixed(_signing.PrivateKey).ToArray();

    /// <summary>Reads what <see cref="Export"/> wrote.</summary>
    public static SenderKeyChain Import(ReadOnlyMemory<byte> state)
    {
        var reader = new WireReader(state, "sender key state");
        if (reader.Byte() != StateVersion)
        {
            throw reader.Malformed();
        }

        var roomId = reader.Text();
        var keyId = reader.Fixed(KeyIdLength);
        var iteration = reader.UInt32();
        var chainKey = reader.Fixed(Kdf.KeyLength);
        var signing = P256.FromPrivate(reader.Fixed(P256.PrivateKeyLength));
        reader.End();
        return new SenderKeyChain(roomId, keyId, chainKey, iteration, signing);
    }
}
