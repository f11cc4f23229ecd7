using System.Security.Cryptography;

namespace ChatKit.Encryption;

/// <summary>
/// The private keys of one device: its signing and identity key pairs, its signed prekeys (the current one and the
/// few before it, kept so handshakes in flight still complete after a rotation) and its unused one-time prekeys.
/// Not thread-safe: the owner serializes calls and saves <see cref="Export"/> after each change.
/// </summary>
public sealed class DeviceKeys
{
    /// <summary>How many replaced signed prekeys are kept for handshakes still in flight.</summary>
    public const int KeptSignedPreKeys = 2;

    /// <summary>
    /// The most one-time prekeys whose private halves are kept; past it the lowest ids (the oldest, which the directory
    /// hands out first) go, so keys claimed by handshakes that never arrive do not pile up.
    /// </summary>
    public const int MaxOneTimePreKeys = 1000;

    /// <summary>How many answered handshakes are remembered per signed prekey, to refuse a replayed one; the oldest go first.</summary>
    public const int RememberedHandshakes = 5000;

    private const byte StateVersion = 1;

    private readonly EcKeyPair _signing;
    private readonly EcKeyPair _identity;
    private readonly List<(SignedPreKey Key, EcKeyPair Pair, long CreatedAtMs)> _signedPreKeys;
    private readonly SortedDictionary<uint, EcKeyPair> _oneTimePreKeys;
    private readonly Dictionary<uint, List<byte[]>> _answered = [];
    private uint _nextPreKeyId;

    private DeviceKeys(
        DeviceIdentityKey identity,
        EcKeyPair signing,
        EcKeyPair identityPair,
        List<(SignedPreKey Key, EcKeyPair Pair, long CreatedAtMs)> signedPreKeys,
        SortedDictionary<uint, EcKeyPair> oneTimePreKeys,
        uint nextPreKeyId)
    {
        Identity = identity;
        _signing = signing;
        _identity = identityPair;
        _signedPreKeys = signedPreKeys;
        _oneTimePreKeys = oneTimePreKeys;
        _nextPreKeyId = nextPreKeyId;
    }

    /// <summary>The device's public identity, to publish.</summary>
    public DeviceIdentityKey Identity { get; }

    /// <summary>The signed prekey to publish now.</summary>
    public SignedPreKey SignedPreKey => _signedPreKeys[0].Key;

    /// <summary>When the current signed prekey was made, to decide when to rotate it.</summary>
    public DateTimeOffset SignedPreKeyCreatedAt => DateTimeOffset.FromUnixTimeMilliseconds(_signedPreKeys[0].CreatedAtMs);

    /// <summary>How many one-time prekeys this device still holds the private half of.</summary>
    public int OneTimePreKeyCount => _oneTimePreKeys.Count;

    internal EcKeyPair IdentityPair => _identity;

    internal EcKeyPair SigningPair => _signing;

    /// <summary>Makes a new device with fresh keys and a first signed prekey.</summary>
    public static DeviceKeys Create(string userId, string deviceId, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        ArgumentNullException.ThrowIfNull(time);
        return Create(userId, deviceId, P256.Generate(), P256.Generate(), P256.Generate(), time.GetUtcNow());
    }

    internal static DeviceKeys Create(string userId, string deviceId, EcKeyPair signing, EcKeyPair identity, EcKeyPair signedPreKey, DateTimeOffset now)
    {
        var identityKey = new DeviceIdentityKey(userId, deviceId, signing.PublicKey, identity.PublicKey, P256.Sign(signing, DeviceIdentityKey.SignedBytes(userId, deviceId, identity.PublicKey)));
        var keys = new DeviceKeys(identityKey, signing, identity, [], [], 1);
        keys.AddSignedPreKey(signedPreKey, now);
        return keys;
    }

    /// <summary>Replaces the signed prekey with a new one (publish it afterwards); the last <see cref="KeptSignedPreKeys"/> are kept.</summary>
    public SignedPreKey RotateSignedPreKey(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        AddSignedPreKey(P256.Generate(), time.GetUtcNow());
        return SignedPreKey;
    }

    /// <summary>Makes <paramref name="count"/> new one-time prekeys (publish them afterwards).</summary>
    public IReadOnlyList<OneTimePreKey> GenerateOneTimePreKeys(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var made = new List<OneTimePreKey>(count);
        for (var i = 0; i < count; i++)
        {
            made.Add(AddOneTimePreKey(P256.Generate()));
        }

        return made;
    }

    /// <summary>The device's state with every private key, for the app's session store. Keep it as secret as the keys.</summary>
    public byte[] Export()
    {
        var writer = new WireWriter().Byte(StateVersion);
        Identity.WriteTo(writer);
        writer.Fixed(_signing.PrivateKey).Fixed(_identity.PrivateKey).UInt32(_nextPreKeyId).UInt32((uint)_signedPreKeys.Count);
        foreach (var (key, pair, createdAtMs) in _signedPreKeys)
        {
            writer.UInt32(key.Id).Fixed(pair.PrivateKey).Fixed(key.Signature).Int64(createdAtMs);
        }

        writer.UInt32((uint)_oneTimePreKeys.Count);
        foreach (var (id, pair) in _oneTimePreKeys)
        {
            writer.UInt32(id).Fixed(pair.PrivateKey);
        }

        writer.UInt32((uint)_answered.Count);
        foreach (var (id, handshakes) in _answered.OrderBy(a => a.Key))
        {
            writer.UInt32(id).UInt32((uint)handshakes.Count);
            handshakes.ForEach(h => writer.Fixed(h));
        }

        return writer.ToArray();
    }

    /// <summary>Reads what <see cref="Export"/> wrote.</summary>
    public static DeviceKeys Import(ReadOnlyMemory<byte> state)
    {
        var reader = new WireReader(state, "device key state");
        if (reader.Byte() != StateVersion)
        {
            throw reader.Malformed();
        }

        var identity = DeviceIdentityKey.ReadFrom(reader);
        var signing = P256.FromPrivate(reader.Fixed(32));
        var identityPair = P256.FromPrivate(reader.Fixed(32));
        var nextId = reader.UInt32();
        var signed = new List<(SignedPreKey, EcKeyPair, long)>();
        for (var count = reader.UInt32(); count > 0; count--)
        {
            var id = reader.UInt32();
            var pair = P256.FromPrivate(reader.Fixed(32));
            var signature = reader.Fixed(P256.SignatureLength);
            var createdAt = reader.Int64();
            signed.Add((new SignedPreKey(id, pair.PublicKey, signature), pair, createdAt));
        }

        var oneTime = new SortedDictionary<uint, EcKeyPair>();
        for (var count = reader.UInt32(); count > 0; count--)
        {
            oneTime[reader.UInt32()] = P256.FromPrivate(reader.Fixed(32));
        }

        var answered = new Dictionary<uint, List<byte[]>>();
        for (var count = reader.UInt32(); count > 0; count--)
        {
            var id = reader.UInt32();
            var handshakes = new List<byte[]>();
            for (var n = reader.UInt32(); n > 0; n--)
            {
                handshakes.Add(reader.Fixed(HandshakeIdLength));
            }

            answered[id] = handshakes;
        }

        reader.End();
        if (signed.Count == 0 || !identity.SigningKey.AsSpan().SequenceEqual(signing.PublicKey) || !identity.IdentityKey.AsSpan().SequenceEqual(identityPair.PublicKey))
        {
            throw reader.Malformed();
        }

        var keys = new DeviceKeys(identity, signing, identityPair, signed, oneTime, nextId);
        foreach (var (id, handshakes) in answered)
        {
            keys._answered[id] = handshakes;
        }

        return keys;
    }

    /// <summary>A device from given parts, signatures included (known-answer vectors: ECDSA signatures are randomized).</summary>
    internal static DeviceKeys Restore(
        DeviceIdentityKey identity,
        EcKeyPair signing,
        EcKeyPair identityPair,
        IEnumerable<(SignedPreKey Key, EcKeyPair Pair)> signedPreKeys,
        IEnumerable<(uint Id, EcKeyPair Pair)> oneTimePreKeys,
        DateTimeOffset createdAt)
    {
        var signed = signedPreKeys.Select(k => (k.Key, k.Pair, createdAt.ToUnixTimeMilliseconds())).ToList();
        if (signed.Count == 0)
        {
            throw new ArgumentException("A device has at least one signed prekey.", nameof(signedPreKeys));
        }

        var oneTime = new SortedDictionary<uint, EcKeyPair>(oneTimePreKeys.ToDictionary(k => k.Id, k => k.Pair));
        var next = Math.Max(signed.Max(k => k.Key.Id), oneTime.Count == 0 ? 0 : oneTime.Keys.Max()) + 1;
        return new DeviceKeys(identity, signing, identityPair, signed, oneTime, next);
    }

    internal OneTimePreKey AddOneTimePreKey(EcKeyPair pair)
    {
        var id = _nextPreKeyId++;
        _oneTimePreKeys[id] = pair;
        while (_oneTimePreKeys.Count > MaxOneTimePreKeys)
        {
            var oldest = _oneTimePreKeys.First();
            CryptographicOperations.ZeroMemory(oldest.Value.PrivateKey);
            _oneTimePreKeys.Remove(oldest.Key);
        }

        return new OneTimePreKey(id, pair.PublicKey);
    }

    /// <summary>Whether a handshake with this base key was already answered under the signed prekey (a replay).</summary>
    internal bool Answered(uint signedPreKeyId, byte[] baseKey) =>
        _answered.TryGetValue(signedPreKeyId, out var handshakes) && handshakes.Exists(h => h.AsSpan().SequenceEqual(HandshakeId(baseKey)));

    internal void RememberAnswered(uint signedPreKeyId, byte[] baseKey)
    {
        if (!_answered.TryGetValue(signedPreKeyId, out var handshakes))
        {
            _answered[signedPreKeyId] = handshakes = [];
        }

        handshakes.Add(HandshakeId(baseKey));
        if (handshakes.Count > RememberedHandshakes)
        {
            handshakes.RemoveAt(0);
        }
    }

    private const int HandshakeIdLength = 16;

    private static byte[] HandshakeId(byte[] baseKey) => SHA256.HashData(baseKey)[..HandshakeIdLength];

    internal void AddSignedPreKey(EcKeyPair pair, DateTimeOffset now)
    {
        var id = _nextPreKeyId++;
        var key = new SignedPreKey(id, pair.PublicKey, P256.Sign(_signing, SignedPreKey.SignedBytes(id, pair.PublicKey)));
        _signedPreKeys.Insert(0, (key, pair, now.ToUnixTimeMilliseconds()));
        if (_signedPreKeys.Count > KeptSignedPreKeys + 1)
        {
            CryptographicOperations.ZeroMemory(_signedPreKeys[^1].Pair.PrivateKey);
            _answered.Remove(_signedPreKeys[^1].Key.Id);
            _signedPreKeys.RemoveAt(_signedPreKeys.Count - 1);
        }
    }

    internal EcKeyPair SignedPreKeyPair(uint id)
    {
        foreach (var (key, pair, _) in _signedPreKeys)
        {
            if (key.Id == id)
            {
                return pair;
            }
        }

        throw new EncryptionException(EncryptionErrorCodes.UnknownPreKey, $"This device no longer has signed prekey {id}.");
    }

    internal EcKeyPair OneTimePreKeyPair(uint id) =>
        _oneTimePreKeys.TryGetValue(id, out var pair) ? pair : throw new EncryptionException(EncryptionErrorCodes.UnknownPreKey, $"One-time prekey {id} was already used or never existed on this device.");

    /// <summary>Deletes a one-time prekey's private half once a handshake that used it has succeeded.</summary>
    internal void ForgetOneTimePreKey(uint id) => _oneTimePreKeys.Remove(id);
}
