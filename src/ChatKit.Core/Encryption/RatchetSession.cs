using System.Security.Cryptography;

namespace ChatKit.Encryption;

/// <summary>
/// A pairwise session between two devices: an X3DH-style handshake on P-256 followed by the Double Ratchet.
/// <see cref="Initiate"/> starts one from the other device's <see cref="PreKeyBundle"/>; until the first answer
/// arrives, every message carries the handshake (a prekey message), which the other device turns into its side of
/// the session with <see cref="Accept"/>. Messages may arrive late, out of order or not at all: up to
/// <see cref="MaxSkip"/> keys per chain are kept for late messages, at most <see cref="MaxSkippedKeys"/> in all.
/// A message that does not decrypt leaves the session exactly as it was. Not thread-safe; save
/// <see cref="Export"/> after every call that changes it.
/// </summary>
public sealed class RatchetSession
{
    /// <summary>The most message keys one message may make the session skip in one chain.</summary>
    public const int MaxSkip = 1000;

    /// <summary>The most skipped message keys kept for late messages; the oldest go first.</summary>
    public const int MaxSkippedKeys = 2000;

    internal const byte ProtocolVersion = 1;
    internal const byte MessageKind = 1;
    internal const byte PreKeyMessageKind = 2;
    internal const int HeaderLength = 2 + P256.PublicKeyLength + 4 + 4;

    private const byte StateVersion = 1;

    private readonly byte[] _associatedData;
    private readonly List<SkippedKey> _skipped;
    private PendingHandshake? _pending;
    private EcKeyPair _sendingPair;
    private byte[]? _receivingKey;
    private byte[] _rootKey;
    private byte[]? _sendingChain;
    private byte[]? _receivingChain;
    private uint _sent;
    private uint _received;
    private uint _previousSent;

    private RatchetSession(DeviceIdentityKey peer, byte[] associatedData, byte[] baseKey, EcKeyPair sendingPair, byte[] rootKey, List<SkippedKey> skipped)
    {
        Peer = peer;
        _associatedData = associatedData;
        BaseKey = baseKey;
        _sendingPair = sendingPair;
        _rootKey = rootKey;
        _skipped = skipped;
    }

    /// <summary>The other device. Check it against the key directory (and safety numbers) before trusting it.</summary>
    public DeviceIdentityKey Peer { get; }

    /// <summary>The initiator's ephemeral public key: it names the handshake the session came from.</summary>
    public byte[] BaseKey { get; }

    /// <summary>Whether the other device has answered; until then each message carries the handshake.</summary>
    public bool IsAcknowledged => _pending is null;

    /// <summary>How many skipped message keys the session holds for late messages.</summary>
    public int SkippedKeyCount => _skipped.Count;

    internal Func<EcKeyPair> NewKeyPair { get; set; } = P256.Generate;

    /// <summary>Starts a session with the device of <paramref name="bundle"/>, after checking every signature in it.</summary>
    public static RatchetSession Initiate(DeviceKeys own, PreKeyBundle bundle)
    {
        ArgumentNullException.ThrowIfNull(own);
        ArgumentNullException.ThrowIfNull(bundle);
        return InitiateWith(own, bundle, P256.Generate(), P256.Generate);
    }

    internal static RatchetSession InitiateWith(DeviceKeys own, PreKeyBundle bundle, EcKeyPair ephemeral, Func<EcKeyPair> newKeyPair)
    {
        bundle.Verify();
        var signedPreKey = bundle.SignedPreKey.PublicKey;
        List<byte[]> outputs =
        [
            P256.Agree(own.IdentityPair, signedPreKey),
            P256.Agree(ephemeral, bundle.Identity.IdentityKey),
            P256.Agree(ephemeral, signedPreKey),
        ];
        if (bundle.OneTimePreKey is { } oneTime)
        {
            outputs.Add(P256.Agree(ephemeral, oneTime.PublicKey));
        }

        var secret = Kdf.Handshake(outputs);
        var sendingPair = newKeyPair();
        var (rootKey, sendingChain) = Kdf.Root(secret, P256.Agree(sendingPair, signedPreKey));
        var session = new RatchetSession(bundle.Identity, AssociatedData(own.Identity, bundle.Identity), ephemeral.PublicKey, sendingPair, rootKey, [])
        {
            NewKeyPair = newKeyPair,
            _receivingKey = signedPreKey,
            _sendingChain = sendingChain,
            _pending = new PendingHandshake(bundle.SignedPreKey.Id, bundle.OneTimePreKey?.Id ?? 0, own.Identity),
        };
        return session;
    }

    /// <summary>
    /// Answers a prekey message from a device that started a session with this one: <see cref="Open"/>, then
    /// <see cref="AcceptedHandshake.Complete"/> at once. Nothing changes when it throws.
    /// </summary>
    public static (RatchetSession Session, byte[] Plaintext) Accept(DeviceKeys own, ReadOnlyMemory<byte> preKeyMessage)
    {
        var accepted = Open(own, preKeyMessage);
        accepted.Complete();
        return (accepted.Session, accepted.Plaintext);
    }

    /// <summary>
    /// Checks a prekey message from a device that started a session with this one (the initiator's identity
    /// signature; that <paramref name="own"/> has not answered this handshake already, which would make it a replay),
    /// makes this side of the session and decrypts the message, without changing <paramref name="own"/>. Call
    /// <see cref="AcceptedHandshake.Complete"/> once the caller has checked the result (and before saving
    /// <paramref name="own"/>): it deletes the one-time prekey the handshake used and remembers the handshake.
    /// </summary>
    public static AcceptedHandshake Open(DeviceKeys own, ReadOnlyMemory<byte> preKeyMessage)
    {
        ArgumentNullException.ThrowIfNull(own);
        return OpenWith(own, preKeyMessage, P256.Generate);
    }

    internal static (RatchetSession Session, byte[] Plaintext) AcceptWith(DeviceKeys own, ReadOnlyMemory<byte> preKeyMessage, Func<EcKeyPair> newKeyPair)
    {
        var accepted = OpenWith(own, preKeyMessage, newKeyPair);
        accepted.Complete();
        return (accepted.Session, accepted.Plaintext);
    }

    internal static AcceptedHandshake OpenWith(DeviceKeys own, ReadOnlyMemory<byte> preKeyMessage, Func<EcKeyPair> newKeyPair)
    {
        var handshake = ReadPreKeyMessage(preKeyMessage);
        handshake.Initiator.Verify();
        if (own.Answered(handshake.SignedPreKeyId, handshake.BaseKey))
        {
            throw new EncryptionException(EncryptionErrorCodes.Replayed, "This handshake was already answered: the prekey message is a replay.");
        }

        var signedPreKey = own.SignedPreKeyPair(handshake.SignedPreKeyId);
        List<byte[]> outputs =
        [
            P256.Agree(signedPreKey, handshake.Initiator.IdentityKey),
            P256.Agree(own.IdentityPair, handshake.BaseKey),
            P256.Agree(signedPreKey, handshake.BaseKey),
        ];
        if (handshake.OneTimePreKeyId != 0)
        {
            outputs.Add(P256.Agree(own.OneTimePreKeyPair(handshake.OneTimePreKeyId), handshake.BaseKey));
        }

        var session = new RatchetSession(handshake.Initiator, AssociatedData(handshake.Initiator, own.Identity), handshake.BaseKey, signedPreKey, Kdf.Handshake(outputs), [])
        {
            NewKeyPair = newKeyPair,
        };
        var plaintext = session.DecryptMessage(handshake.Message);
        return new AcceptedHandshake(session, plaintext, () =>
        {
            if (handshake.OneTimePreKeyId != 0)
            {
                own.ForgetOneTimePreKey(handshake.OneTimePreKeyId);
            }

            own.RememberAnswered(handshake.SignedPreKeyId, handshake.BaseKey);
        });
    }

    /// <summary>
    /// The initiator's identity as a prekey message states it (not yet checked: check it against the sender the server
    /// names and the key directory before <see cref="Accept"/>), or null for an ordinary message.
    /// </summary>
    public static DeviceIdentityKey? PreKeyMessageInitiator(ReadOnlyMemory<byte> message) =>
        message.Length > 0 && message.Span[0] == PreKeyMessageKind ? ReadPreKeyMessage(message).Initiator : null;

    /// <summary>The base key of a prekey message (to find the session it belongs to), or null for an ordinary message.</summary>
    public static byte[]? PreKeyMessageBaseKey(ReadOnlyMemory<byte> message) =>
        message.Length > 0 && message.Span[0] == PreKeyMessageKind ? ReadPreKeyMessage(message).BaseKey : null;

    /// <summary>Encrypts one message for the other device.</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext)
    {
        var (messageKey, nextChain) = Kdf.Chain(_sendingChain ?? throw new InvalidOperationException("The session has no sending chain."));
        var header = new WireWriter().Byte(MessageKind).Byte(ProtocolVersion).Fixed(_sendingPair.PublicKey).UInt32(_previousSent).UInt32(_sent).ToArray();
        var ciphertext = MessageCipher.Encrypt(messageKey, plaintext, [.. _associatedData, .. header]);
        CryptographicOperations.ZeroMemory(messageKey);
        _sendingChain = nextChain;
        _sent++;
        var message = new WireWriter().Fixed(header).Fixed(ciphertext);
        if (_pending is not { } pending)
        {
            return message.ToArray();
        }

        var identity = new WireWriter();
        pending.Own.WriteTo(identity);
        return new WireWriter()
            .Byte(PreKeyMessageKind).Byte(ProtocolVersion)
            .UInt32(pending.SignedPreKeyId).UInt32(pending.OneTimePreKeyId)
            .Blob(identity.ToArray()).Fixed(BaseKey)
            .Fixed(message.ToArray()).ToArray();
    }

    /// <summary>
    /// Decrypts a message from the other device: an ordinary one, or a prekey message of this session's handshake.
    /// Throws <see cref="EncryptionException"/> (and changes nothing) when it is altered, replayed, too far ahead,
    /// or belongs to another session.
    /// </summary>
    public byte[] Decrypt(ReadOnlyMemory<byte> message)
    {
        if (message.Length > 0 && message.Span[0] == PreKeyMessageKind)
        {
            var handshake = ReadPreKeyMessage(message);
            return handshake.BaseKey.AsSpan().SequenceEqual(BaseKey)
                ? DecryptMessage(handshake.Message)
                : throw new EncryptionException(EncryptionErrorCodes.Malformed, "The prekey message starts another session; accept it as a new one.");
        }

        return DecryptMessage(message);
    }

    /// <summary>The whole session, with its keys, for the app's session store. Equal sessions export equal bytes.</summary>
    public byte[] Export()
    {
        var writer = new WireWriter().Byte(StateVersion);
        var peer = new WireWriter();
        Peer.WriteTo(peer);
        writer.Blob(peer.ToArray()).Blob(_associatedData).Fixed(BaseKey);
        if (_pending is { } pending)
        {
            var own = new WireWriter();
            pending.Own.WriteTo(own);
            writer.Byte(1).UInt32(pending.SignedPreKeyId).UInt32(pending.OneTimePreKeyId).Blob(own.ToArray());
        }
        else
        {
            writer.Byte(0);
        }

        writer.Fixed(_sendingPair.PrivateKey).Fixed(_rootKey);
        Optional(writer, _receivingKey);
        Optional(writer, _sendingChain);
        Optional(writer, _receivingChain);
        writer.UInt32(_sent).UInt32(_received).UInt32(_previousSent).UInt32((uint)_skipped.Count);
        foreach (var skipped in _skipped)
        {
            writer.Fixed(skipped.RatchetKey).UInt32(skipped.Number).Fixed(skipped.MessageKey);
        }

        return writer.ToArray();
    }

    /// <summary>Reads what <see cref="Export"/> wrote.</summary>
    public static RatchetSession Import(ReadOnlyMemory<byte> state)
    {
        var reader = new WireReader(state, "ratchet session state");
        if (reader.Byte() != StateVersion)
        {
            throw reader.Malformed();
        }

        var peer = DeviceIdentityKey.ReadFrom(new WireReader(reader.Blob(), "device identity"));
        var associatedData = reader.Blob();
        var baseKey = reader.Fixed(P256.PublicKeyLength);
        PendingHandshake? pending = reader.Byte() == 1
            ? new PendingHandshake(reader.UInt32(), reader.UInt32(), DeviceIdentityKey.ReadFrom(new WireReader(reader.Blob(), "device identity")))
            : null;
        var sendingPair = P256.FromPrivate(reader.Fixed(P256.PrivateKeyLength));
        var rootKey = reader.Fixed(Kdf.KeyLength);
        var receivingKey = Optional(reader, P256.PublicKeyLength);
        var sendingChain = Optional(reader, Kdf.KeyLength);
        var receivingChain = Optional(reader, Kdf.KeyLength);
        var sent = reader.UInt32();
        var received = reader.UInt32();
        var previousSent = reader.UInt32();
        var skipped = new List<SkippedKey>();
        for (var count = reader.UInt32(); count > 0; count--)
        {
            skipped.Add(new SkippedKey(reader.Fixed(P256.PublicKeyLength), reader.UInt32(), reader.Fixed(Kdf.KeyLength)));
        }

        reader.End();
        return new RatchetSession(peer, associatedData, baseKey, sendingPair, rootKey, skipped)
        {
            _pending = pending,
            _receivingKey = receivingKey,
            _sendingChain = sendingChain,
            _receivingChain = receivingChain,
            _sent = sent,
            _received = received,
            _previousSent = previousSent,
        };
    }

    /// <summary>The associated data every message of a session is authenticated with: suite, then both devices' ids and keys.</summary>
    internal static byte[] AssociatedData(DeviceIdentityKey initiator, DeviceIdentityKey responder) =>
        new WireWriter().Fixed(Kdf.Info.Handshake)
            .Text(initiator.UserId).Text(initiator.DeviceId).Fixed(initiator.SigningKey).Fixed(initiator.IdentityKey)
            .Text(responder.UserId).Text(responder.DeviceId).Fixed(responder.SigningKey).Fixed(responder.IdentityKey)
            .ToArray();

    private byte[] DecryptMessage(ReadOnlyMemory<byte> message)
    {
        var reader = new WireReader(message, "ratchet message");
        if (reader.Byte() != MessageKind || reader.Byte() != ProtocolVersion)
        {
            throw reader.Malformed();
        }

        var ratchetKey = reader.Fixed(P256.PublicKeyLength);
        var previous = reader.UInt32();
        var number = reader.UInt32();
        var body = reader.Rest();
        byte[] associatedData = [.. _associatedData, .. message.Span[..HeaderLength]];

        var index = _skipped.FindIndex(k => k.Number == number && k.RatchetKey.AsSpan().SequenceEqual(ratchetKey));
        if (index >= 0)
        {
            var plaintext = MessageCipher.Decrypt(_skipped[index].MessageKey, body.Span, associatedData);
            CryptographicOperations.ZeroMemory(_skipped[index].MessageKey);
            _skipped.RemoveAt(index);
            _pending = null;
            return plaintext;
        }

        if (_receivingKey is not null && _receivingChain is not null && ratchetKey.AsSpan().SequenceEqual(_receivingKey))
        {
            if (number < _received)
            {
                throw new EncryptionException(EncryptionErrorCodes.Replayed, $"Message {number} of this chain was already decrypted, or its key was dropped.");
            }

            var (skipped, chain) = SkipTo(_receivingChain, _received, number, ratchetKey);
            var (messageKey, nextChain) = Kdf.Chain(chain);
            var plaintext = MessageCipher.Decrypt(messageKey, body.Span, associatedData);
            _receivingChain = nextChain;
            _received = number + 1;
            Keep(skipped);
            _pending = null;
            return plaintext;
        }

        return RatchetAndDecrypt(ratchetKey, previous, number, body, associatedData);
    }

    private byte[] RatchetAndDecrypt(byte[] ratchetKey, uint previous, uint number, ReadOnlyMemory<byte> body, byte[] associatedData)
    {
        List<SkippedKey> skipped = [];
        if (_receivingChain is not null && _receivingKey is not null)
        {
            if (previous < _received)
            {
                // Only a message of an older chain says so: its keys were used or dropped.
                throw new EncryptionException(EncryptionErrorCodes.Replayed, "The message belongs to an older chain of this session whose keys are gone.");
            }

            (skipped, _) = SkipTo(_receivingChain, _received, previous, _receivingKey);
        }

        var (rootKey, receivingChain) = Kdf.Root(_rootKey, P256.Agree(_sendingPair, ratchetKey));
        var (more, chain) = SkipTo(receivingChain, 0, number, ratchetKey);
        var (messageKey, nextChain) = Kdf.Chain(chain);
        var plaintext = MessageCipher.Decrypt(messageKey, body.Span, associatedData);

        var sendingPair = NewKeyPair();
        var (nextRoot, sendingChain) = Kdf.Root(rootKey, P256.Agree(sendingPair, ratchetKey));
        _previousSent = _sent;
        _sent = 0;
        _received = number + 1;
        _receivingKey = ratchetKey;
        _receivingChain = nextChain;
        _sendingPair = sendingPair;
        _sendingChain = sendingChain;
        _rootKey = nextRoot;
        Keep([.. skipped, .. more]);
        _pending = null;
        return plaintext;
    }

    /// <summary>The message keys from <paramref name="from"/> up to (not including) <paramref name="to"/>, and the chain key at <paramref name="to"/>.</summary>
    private static (List<SkippedKey> Skipped, byte[] Chain) SkipTo(byte[] chain, uint from, uint to, byte[] ratchetKey)
    {
        var (skipped, next) = Kdf.Skip(chain, from, to);
        return (skipped.ConvertAll(k => new SkippedKey(ratchetKey, k.Number, k.MessageKey)), next);
    }

    private void Keep(List<SkippedKey> skipped)
    {
        _skipped.AddRange(skipped);
        var excess = _skipped.Count - MaxSkippedKeys;
        if (excess > 0)
        {
            foreach (var dropped in _skipped.Take(excess))
            {
                CryptographicOperations.ZeroMemory(dropped.MessageKey);
            }

            _skipped.RemoveRange(0, excess);
        }
    }

    private static PreKeyMessage ReadPreKeyMessage(ReadOnlyMemory<byte> message)
    {
        var reader = new WireReader(message, "prekey message");
        if (reader.Byte() != PreKeyMessageKind || reader.Byte() != ProtocolVersion)
        {
            throw reader.Malformed();
        }

        var signedPreKeyId = reader.UInt32();
        var oneTimePreKeyId = reader.UInt32();
        var identityReader = new WireReader(reader.Blob(), "device identity");
        var initiator = DeviceIdentityKey.ReadFrom(identityReader);
        identityReader.End();
        var baseKey = reader.Fixed(P256.PublicKeyLength);
        return new PreKeyMessage(signedPreKeyId, oneTimePreKeyId, initiator, baseKey, reader.Rest());
    }

    private static void Optional(WireWriter writer, byte[]? value)
    {
        if (value is null)
        {
            writer.Byte(0);
        }
        else
        {
            writer.Byte(1).Fixed(value);
        }
    }

    private static byte[]? Optional(WireReader reader, int length) => reader.Byte() == 1 ? reader.Fixed(length) : null;

    private readonly record struct SkippedKey(byte[] RatchetKey, uint Number, byte[] MessageKey);

    private sealed record PendingHandshake(uint SignedPreKeyId, uint OneTimePreKeyId, DeviceIdentityKey Own);

    private sealed record PreKeyMessage(uint SignedPreKeyId, uint OneTimePreKeyId, DeviceIdentityKey Initiator, byte[] BaseKey, ReadOnlyMemory<byte> Message);
}
