using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ChatKit.Encryption;

namespace ChatKit.Benchmarks;

/// <summary>
/// Writes ChatKit's own known-answer vectors (tests/vectors/chatkit-e2e-v1.json) from fixed inputs, for other
/// implementations (the browser client on WebCrypto) to reproduce byte for byte. Every private key, chain key and key
/// id is SHA-256 of a label ("chatkit-vector " + label); every ratchet key a side draws comes from such a label too.
/// ECDSA signatures are made with RFC 6979 deterministic nonces, so a regenerated file is byte-identical; readers treat
/// them as data and check that they verify (WebCrypto and ChatKit's own signing are randomized).
/// tests/ChatKit.Core.Tests/Encryption/KnownAnswerTests.cs replays the file through the Core API, independently of this class.
/// </summary>
internal static class VectorWriter
{
    public const string DefaultPath = "tests/vectors/chatkit-e2e-v1.json";
    public const string Generator = "dotnet run -c Release --project benchmarks/ChatKit.Benchmarks -- vectors";

    /// <summary>When the devices' signed prekeys were made (kept in device state only, not in any output).</summary>
    private static readonly DateTimeOffset CreatedAt = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    /// <summary>The order of the P-256 base point.</summary>
    private static readonly BigInteger CurveOrder = Integer(Convert.FromHexString("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"));

    /// <summary>
    /// The ratchet conversation of the "ratchet" section, continuing the first handshake: "send mN" encrypts message N
    /// on its sender's session, "deliver mN" decrypts it on the other side. It has two messages in a row from each
    /// side, a prekey message sent before the first answer, a message delivered late within its chain (m2) and one
    /// delivered late after its chain was replaced (m6), and DH ratchet steps on both sides.
    /// </summary>
    private static readonly (string Id, string Sender, string Text)[] Messages =
    [
        ("m1", "alice", "are you there? (sent before any answer)"),
        ("m2", "bob", "yes, here"),
        ("m3", "bob", "two in a row from bob"),
        ("m4", "alice", "got your second message first"),
        ("m5", "bob", "new chain for bob"),
        ("m6", "bob", "this one arrives after bob's next chain"),
        ("m7", "alice", "ünïcödé and emoji 🔐"),
        ("m8", "alice", ""),
        ("m9", "bob", "a reply that replaces bob's chain again"),
        ("m10", "alice", "the last word"),
    ];

    private static readonly string[] Script =
    [
        "send m1", "deliver m1",
        "send m2", "send m3", "deliver m3",
        "send m4", "deliver m2", "deliver m4",
        "send m5", "send m6", "deliver m5",
        "send m7", "send m8", "deliver m7", "deliver m8",
        "send m9", "deliver m9", "deliver m6",
        "send m10", "deliver m10",
    ];

    public static void Write(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllBytes(path, Build());
    }

    /// <summary>The whole file, UTF-8, indented with two spaces, LF line ends and a final newline.</summary>
    public static byte[] Build()
    {
        CheckDeterministicSigning();
        var buffer = new ArrayBufferWriter<byte>();
        var options = new JsonWriterOptions { Indented = true, NewLine = "\n", Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var json = new Utf8JsonWriter(buffer, options))
        {
            json.WriteStartObject();
            json.WriteString("name", "ChatKit end-to-end encryption known-answer vectors");
            json.WriteNumber("protocolVersion", 1);
            json.WriteString("suite", "P-256, HKDF-SHA256, HMAC-SHA256, AES-256-CBC + HMAC-SHA256, ECDSA P-256 SHA-256 P1363");
            json.WriteString("license", "MIT (ChatKit's own data)");
            json.WriteString("generator", Generator);
            WriteKdf(json);
            WriteMessageCipher(json);
            WriteP256(json);
            WriteIdentity(json);
            var (aliceSession, bobSession, aliceDraw, bobDraw) = WriteHandshake(json);
            WriteRatchet(json, aliceSession, bobSession, aliceDraw, bobDraw);
            WriteSenderKey(json);
            WriteSafetyNumber(json);
            WriteEnvelope(json);
            json.WriteEndObject();
        }

        return [.. buffer.WrittenSpan, (byte)'\n'];
    }

    /// <summary>32 fixed bytes: SHA-256 of "chatkit-vector " and the label.</summary>
    internal static byte[] Bytes(string label) => SHA256.HashData(Encoding.UTF8.GetBytes("chatkit-vector " + label));

    /// <summary>The P-256 key pair whose private scalar is <see cref="Bytes"/> of the label.</summary>
    internal static EcKeyPair Key(string label) => P256.FromPrivate(Bytes(label));

    /// <summary>ECDSA P-256 SHA-256 with the nonce of RFC 6979 (section 3.2), as a P1363 signature (r || s).</summary>
    internal static byte[] SignDeterministic(EcKeyPair key, ReadOnlySpan<byte> data)
    {
        var hash = SHA256.HashData(data);
        var e = Integer(hash);
        var d = Integer(key.PrivateKey);
        var x = key.PrivateKey;
        var h = Scalar(e % CurveOrder);
        var v = Enumerable.Repeat((byte)0x01, 32).ToArray();
        var k = new byte[32];
        k = HMACSHA256.HashData(k, Concat(v, [0x00], x, h));
        v = HMACSHA256.HashData(k, v);
        k = HMACSHA256.HashData(k, Concat(v, [0x01], x, h));
        v = HMACSHA256.HashData(k, v);
        while (true)
        {
            v = HMACSHA256.HashData(k, v);
            var nonce = Integer(v);
            if (nonce >= BigInteger.One && nonce < CurveOrder)
            {
                // The nonce's public point is nonce * G: P256.FromPrivate computes it.
                var point = P256.FromPrivate(v).PublicKey;
                var r = Integer(point.AsSpan(1, 32)) % CurveOrder;
                var s = BigInteger.ModPow(nonce, CurveOrder - 2, CurveOrder) * (e + (r * d)) % CurveOrder;
                if (!r.IsZero && !s.IsZero)
                {
                    byte[] signature = [.. Scalar(r), .. Scalar(s)];
                    return P256.Verify(key.PublicKey, data, signature)
                        ? signature
                        : throw new InvalidOperationException("A deterministic signature does not verify.");
                }
            }

            k = HMACSHA256.HashData(k, Concat(v, [0x00]));
            v = HMACSHA256.HashData(k, v);
        }
    }

    private static void WriteKdf(Utf8JsonWriter json)
    {
        json.WriteStartObject("kdf");
        json.WriteStartObject("info");
        json.WriteString("handshake", Encoding.ASCII.GetString(Kdf.Info.Handshake));
        json.WriteString("ratchet", Encoding.ASCII.GetString(Kdf.Info.Ratchet));
        json.WriteString("messageKeys", Encoding.ASCII.GetString(Kdf.Info.MessageKeys));
        json.WriteEndObject();

        json.WriteStartArray("root");
        for (var i = 1; i <= 2; i++)
        {
            var rootKey = Bytes($"kdf root key {i}");
            var dhOutput = Bytes($"kdf root dh output {i}");
            var (newRootKey, chainKey) = Kdf.Root(rootKey, dhOutput);
            json.WriteStartObject();
            Hex(json, "rootKey", rootKey);
            Hex(json, "dhOutput", dhOutput);
            Hex(json, "newRootKey", newRootKey);
            Hex(json, "chainKey", chainKey);
            json.WriteEndObject();
        }

        json.WriteEndArray();

        json.WriteStartObject("chain");
        var chain = Bytes("kdf chain key");
        Hex(json, "chainKey", chain);
        json.WriteStartArray("steps");
        for (var step = 0; step < 3; step++)
        {
            var (messageKey, next) = Kdf.Chain(chain);
            json.WriteStartObject();
            Hex(json, "chainKey", chain);
            Hex(json, "messageKey", messageKey);
            Hex(json, "nextChainKey", next);
            json.WriteEndObject();
            chain = next;
        }

        json.WriteEndArray();
        json.WriteEndObject();

        json.WriteStartArray("messageKeys");
        for (var i = 1; i <= 2; i++)
        {
            var messageKey = Bytes($"kdf message key {i}");
            var output = Kdf.MessageKeys(messageKey);
            json.WriteStartObject();
            Hex(json, "messageKey", messageKey);
            Hex(json, "output", output);
            Hex(json, "aesKey", output.AsSpan(0, 32));
            Hex(json, "macKey", output.AsSpan(32, 32));
            Hex(json, "iv", output.AsSpan(64, 16));
            json.WriteEndObject();
        }

        json.WriteEndArray();

        json.WriteStartArray("handshake");
        foreach (var count in new[] { 3, 4 })
        {
            var outputs = Enumerable.Range(1, count).Select(i => Bytes($"kdf handshake {count} dh{i}")).ToList();
            json.WriteStartObject();
            json.WriteStartArray("dhOutputs");
            outputs.ForEach(o => json.WriteStringValue(Convert.ToHexStringLower(o)));
            json.WriteEndArray();
            Hex(json, "secret", Kdf.Handshake(outputs));
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteMessageCipher(Utf8JsonWriter json)
    {
        json.WriteStartArray("messageCipher");
        var cases = new (string Plaintext, int AssociatedDataLength)[]
        {
            ("Grüße aus ChatKit 👋 — a message of more than one AES block", 32),
            ("sixteen bytes!!!", 0),
            (string.Empty, 32),
        };
        for (var i = 0; i < cases.Length; i++)
        {
            var messageKey = Bytes($"message cipher key {i + 1}");
            var plaintext = Encoding.UTF8.GetBytes(cases[i].Plaintext);
            var associatedData = Bytes($"message cipher associated data {i + 1}")[..cases[i].AssociatedDataLength];
            var ciphertext = MessageCipher.Encrypt(messageKey, plaintext, associatedData);
            Check(MessageCipher.Decrypt(messageKey, ciphertext, associatedData).AsSpan().SequenceEqual(plaintext), "message cipher round trip");
            json.WriteStartObject();
            Hex(json, "messageKey", messageKey);
            json.WriteString("plaintext", cases[i].Plaintext);
            Hex(json, "plaintextHex", plaintext);
            Hex(json, "associatedData", associatedData);
            Hex(json, "ciphertext", ciphertext);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteP256(Utf8JsonWriter json)
    {
        var keys = Enumerable.Range(1, 3).Select(i => Key($"p256 key {i}")).ToList();
        json.WriteStartObject("p256");
        json.WriteStartArray("keys");
        foreach (var key in keys)
        {
            json.WriteStartObject();
            Hex(json, "private", key.PrivateKey);
            Hex(json, "public", key.PublicKey);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("ecdh");
        foreach (var (own, peer) in new[] { (0, 1), (1, 0), (0, 2), (2, 1) })
        {
            json.WriteStartObject();
            Hex(json, "private", keys[own].PrivateKey);
            Hex(json, "peerPublic", keys[peer].PublicKey);
            Hex(json, "shared", P256.Agree(keys[own], keys[peer].PublicKey));
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteIdentity(Utf8JsonWriter json)
    {
        const string User = "carol";
        const string Device = "desktop";
        const uint PreKeyId = 5;
        var signing = Key("identity carol signing");
        var identity = Key("identity carol identity");
        var preKey = Key("identity carol signed prekey 5");
        var identityBytes = DeviceIdentityKey.SignedBytes(User, Device, identity.PublicKey);
        var identitySignature = SignDeterministic(signing, identityBytes);
        var device = new DeviceIdentityKey(User, Device, signing.PublicKey, identity.PublicKey, identitySignature);
        device.Verify();
        var preKeyBytes = SignedPreKey.SignedBytes(PreKeyId, preKey.PublicKey);
        var preKeySignature = SignDeterministic(signing, preKeyBytes);
        new SignedPreKey(PreKeyId, preKey.PublicKey, preKeySignature).Verify(device);

        json.WriteStartObject("identity");
        json.WriteStartObject("device");
        json.WriteString("userId", User);
        json.WriteString("deviceId", Device);
        Hex(json, "signingPrivate", signing.PrivateKey);
        Hex(json, "identityPrivate", identity.PrivateKey);
        Hex(json, "signingKey", signing.PublicKey);
        Hex(json, "identityKey", identity.PublicKey);
        Hex(json, "signedBytes", identityBytes);
        Hex(json, "signature", identitySignature);
        json.WriteEndObject();
        json.WriteStartObject("signedPreKey");
        json.WriteNumber("id", PreKeyId);
        Hex(json, "private", preKey.PrivateKey);
        Hex(json, "public", preKey.PublicKey);
        Hex(json, "signedBytes", preKeyBytes);
        Hex(json, "signature", preKeySignature);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static (RatchetSession Alice, RatchetSession Bob, Drawer AliceDraw, Drawer BobDraw) WriteHandshake(Utf8JsonWriter json)
    {
        var alice = new Party("alice", "phone", 1, null);
        var bob = new Party("bob", "laptop", 1, 2);

        json.WriteStartObject("handshake");
        alice.WriteTo(json, "alice");
        bob.WriteTo(json, "bob");
        json.WriteStartArray("cases");
        var first = WriteHandshakeCase(json, alice, bob, "with a one-time prekey", string.Empty, withOneTimePreKey: true);
        WriteHandshakeCase(json, alice, bob, "without a one-time prekey", " (no one-time prekey)", withOneTimePreKey: false);
        json.WriteEndArray();
        json.WriteEndObject();
        return first;
    }

    private static (RatchetSession Alice, RatchetSession Bob, Drawer AliceDraw, Drawer BobDraw) WriteHandshakeCase(
        Utf8JsonWriter json, Party alice, Party bob, string name, string suffix, bool withOneTimePreKey)
    {
        var ephemeral = Key($"alice ephemeral{suffix}");
        var aliceDraw = new Drawer($"alice ratchet{suffix}");
        var bobDraw = new Drawer($"bob ratchet{suffix}");
        var bundle = new PreKeyBundle(bob.Identity, bob.SignedPreKey, withOneTimePreKey ? new OneTimePreKey(bob.OneTimePreKeyId!.Value, bob.OneTimePreKeyPair!.PublicKey) : null);

        List<byte[]> outputs =
        [
            P256.Agree(alice.IdentityPair, bob.SignedPreKeyPair.PublicKey),
            P256.Agree(ephemeral, bob.IdentityPair.PublicKey),
            P256.Agree(ephemeral, bob.SignedPreKeyPair.PublicKey),
        ];
        if (withOneTimePreKey)
        {
            outputs.Add(P256.Agree(ephemeral, bob.OneTimePreKeyPair!.PublicKey));
        }

        var secret = Kdf.Handshake(outputs);
        var associatedData = RatchetSession.AssociatedData(alice.Identity, bob.Identity);

        var aliceSession = RatchetSession.InitiateWith(alice.Keys(), bundle, ephemeral, aliceDraw.Next);
        var aliceRatchet = aliceDraw.Drawn[0];
        var initialDh = P256.Agree(aliceRatchet, bob.SignedPreKeyPair.PublicKey);
        var (rootKey, sendingChainKey) = Kdf.Root(secret, initialDh);
        const string Plaintext = "hello bob";
        var message = aliceSession.Encrypt(Encoding.UTF8.GetBytes(Plaintext));
        var (bobSession, received) = RatchetSession.AcceptWith(bob.Keys(), message, bobDraw.Next);
        Check(Encoding.UTF8.GetString(received) == Plaintext && aliceDraw.Drawn.Count == 1 && bobDraw.Drawn.Count == 1, "handshake");

        json.WriteStartObject();
        json.WriteString("name", name);
        json.WriteBoolean("useOneTimePreKey", withOneTimePreKey);
        Hex(json, "aliceEphemeralPrivate", ephemeral.PrivateKey);
        Hex(json, "aliceEphemeralPublic", ephemeral.PublicKey);
        Hex(json, "aliceRatchetPrivate", aliceRatchet.PrivateKey);
        Hex(json, "aliceRatchetPublic", aliceRatchet.PublicKey);
        Hex(json, "bobRatchetPrivate", bobDraw.Drawn[0].PrivateKey);
        Hex(json, "bobRatchetPublic", bobDraw.Drawn[0].PublicKey);
        json.WriteStartArray("dhOutputs");
        outputs.ForEach(o => json.WriteStringValue(Convert.ToHexStringLower(o)));
        json.WriteEndArray();
        Hex(json, "secret", secret);
        Hex(json, "associatedData", associatedData);
        Hex(json, "initialRatchetDh", initialDh);
        Hex(json, "rootKey", rootKey);
        Hex(json, "sendingChainKey", sendingChainKey);
        json.WriteString("plaintext", Plaintext);
        Hex(json, "message", message);
        json.WriteEndObject();
        return (aliceSession, bobSession, aliceDraw, bobDraw);
    }

    private static void WriteRatchet(Utf8JsonWriter json, RatchetSession alice, RatchetSession bob, Drawer aliceDraw, Drawer bobDraw)
    {
        var aliceStart = aliceDraw.Drawn.Count;
        var bobStart = bobDraw.Drawn.Count;
        var sent = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var draws = new Dictionary<string, List<EcKeyPair>>(StringComparer.Ordinal);
        foreach (var step in Script)
        {
            var parts = step.Split(' ');
            var (id, sender, text) = Messages.Single(m => m.Id == parts[1]);
            var fromAlice = sender == "alice";
            if (parts[0] == "send")
            {
                sent[id] = (fromAlice ? alice : bob).Encrypt(Encoding.UTF8.GetBytes(text));
                continue;
            }

            var receiverDraw = fromAlice ? bobDraw : aliceDraw;
            var before = receiverDraw.Drawn.Count;
            var plaintext = (fromAlice ? bob : alice).Decrypt(sent[id]);
            Check(Encoding.UTF8.GetString(plaintext) == text, $"ratchet {step}");
            draws[id] = receiverDraw.Drawn[before..];
        }

        json.WriteStartObject("ratchet");
        json.WriteString("continues", "handshake.cases[0]");
        json.WriteStartObject("draws");
        WriteKeyList(json, "alice", aliceDraw.Drawn[aliceStart..]);
        WriteKeyList(json, "bob", bobDraw.Drawn[bobStart..]);
        json.WriteEndObject();
        json.WriteStartArray("messages");
        foreach (var (id, sender, text) in Messages)
        {
            json.WriteStartObject();
            json.WriteString("id", id);
            json.WriteString("sender", sender);
            json.WriteString("plaintext", text);
            json.WriteString("kind", sent[id][0] == RatchetSession.PreKeyMessageKind ? "prekey" : "message");
            Hex(json, "message", sent[id]);
            WriteKeyList(json, "receiverDraws", draws[id]);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("order");
        foreach (var step in Script)
        {
            json.WriteStringValue(step);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteSenderKey(Utf8JsonWriter json)
    {
        const string Room = "room-42";
        var keyId = Bytes("sender key id")[..SenderKeyChain.KeyIdLength];
        var chainKey = Bytes("sender key chain");
        var signing = Key("sender key signing");
        var chain = SenderKeyChain.CreateWith(Room, keyId, chainKey, signing);
        var distribution = chain.Distribution();
        var receiver = SenderKeyReceiver.FromDistribution(distribution);

        json.WriteStartObject("senderKey");
        json.WriteString("roomId", Room);
        Hex(json, "keyId", keyId);
        Hex(json, "chainKey", chainKey);
        Hex(json, "signingPrivate", signing.PrivateKey);
        Hex(json, "signingPublic", signing.PublicKey);
        Hex(json, "distribution", distribution);
        json.WriteStartArray("messages");
        foreach (var text in new[] { "hello, group", "a second message to the group", "🎉 the third" })
        {
            var iteration = chain.Iteration;
            var signedPart = chain.Encrypt(Encoding.UTF8.GetBytes(text))[..^P256.SignatureLength];
            var signature = SignDeterministic(signing, signedPart);
            byte[] message = [.. signedPart, .. signature];
            Check(Encoding.UTF8.GetString(receiver.Decrypt(message)) == text, "sender key");
            json.WriteStartObject();
            json.WriteNumber("iteration", iteration);
            json.WriteString("plaintext", text);
            Hex(json, "signedPart", signedPart);
            Hex(json, "signature", signature);
            Hex(json, "message", message);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteSafetyNumber(Utf8JsonWriter json)
    {
        var users = new List<(string User, List<EcKeyPair> Keys)>();
        foreach (var user in new[] { "alice", "bob" })
        {
            var first = Key($"safety number {user} device 1");
            var second = Key($"safety number {user} device 2");
            users.Add((user, [first]));
            users.Add((user, [first, second]));
        }

        var fingerprints = users.Select(u => SafetyNumber.Fingerprint(u.User, u.Keys.Select(k => k.PublicKey))).ToList();
        json.WriteStartObject("safetyNumber");
        json.WriteNumber("iterations", SafetyNumber.Iterations);
        json.WriteStartArray("fingerprints");
        for (var i = 0; i < users.Count; i++)
        {
            json.WriteStartObject();
            json.WriteString("userId", users[i].User);
            json.WriteStartArray("signingPrivates");
            users[i].Keys.ForEach(k => json.WriteStringValue(Convert.ToHexStringLower(k.PrivateKey)));
            json.WriteEndArray();
            json.WriteStartArray("signingKeys");
            users[i].Keys.ForEach(k => json.WriteStringValue(Convert.ToHexStringLower(k.PublicKey)));
            json.WriteEndArray();
            json.WriteString("fingerprint", fingerprints[i]);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("numbers");
        foreach (var (a, b) in new[] { (0, 2), (1, 3), (0, 3), (1, 2) })
        {
            var number = SafetyNumber.Compute(users[a].User, users[a].Keys.Select(k => k.PublicKey), users[b].User, users[b].Keys.Select(k => k.PublicKey));
            Check(number == SafetyNumber.Compute(users[b].User, users[b].Keys.Select(k => k.PublicKey), users[a].User, users[a].Keys.Select(k => k.PublicKey)), "safety number symmetry");
            json.WriteStartObject();
            json.WriteNumber("a", a);
            json.WriteNumber("b", b);
            json.WriteString("safetyNumber", number);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteEnvelope(Utf8JsonWriter json)
    {
        var envelopes = new[]
        {
            new EncryptedEnvelope(
                EnvelopeKind.Direct,
                "phone",
                [
                    new EnvelopeEntry("bob", "laptop", Bytes("envelope direct bob laptop")[..24]),
                    new EnvelopeEntry("bob", "tablet", Bytes("envelope direct bob tablet")[..7]),
                    new EnvelopeEntry("zoë", "télé", Bytes("envelope direct zoe tele")),
                ],
                []),
            new EncryptedEnvelope(EnvelopeKind.Group, "phone", [], [.. Bytes("envelope group 1"), .. Bytes("envelope group 2")[..9]]),
            new EncryptedEnvelope(EnvelopeKind.Keys, "laptop", [new EnvelopeEntry("carol", "desktop", Bytes("envelope keys carol desktop")[..16])], []),
        };

        json.WriteStartArray("envelope");
        foreach (var envelope in envelopes)
        {
            json.WriteStartObject();
            json.WriteString("kind", envelope.Kind.ToString().ToLowerInvariant());
            json.WriteNumber("kindByte", (byte)envelope.Kind);
            json.WriteString("senderDevice", envelope.SenderDevice);
            json.WriteStartArray("entries");
            foreach (var entry in envelope.Entries)
            {
                json.WriteStartObject();
                json.WriteString("user", entry.User);
                json.WriteString("device", entry.Device);
                Hex(json, "message", entry.Message);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            Hex(json, "groupMessage", envelope.GroupMessage);
            json.WriteString("body", envelope.ToBody());
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteKeyList(Utf8JsonWriter json, string name, IEnumerable<EcKeyPair> keys)
    {
        json.WriteStartArray(name);
        foreach (var key in keys)
        {
            json.WriteStringValue(Convert.ToHexStringLower(key.PrivateKey));
        }

        json.WriteEndArray();
    }

    private static void Hex(Utf8JsonWriter json, string name, ReadOnlySpan<byte> value) => json.WriteString(name, Convert.ToHexStringLower(value));

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    private static BigInteger Integer(ReadOnlySpan<byte> bigEndian) => new(bigEndian, isUnsigned: true, isBigEndian: true);

    private static byte[] Scalar(BigInteger value)
    {
        var bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        var padded = new byte[32];
        bytes.CopyTo(padded, 32 - bytes.Length);
        return padded;
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"The vector generator's own check failed: {what}.");
        }
    }

    /// <summary>RFC 6979 appendix A.2.5 (P-256, SHA-256, message "sample") must come out exactly.</summary>
    private static void CheckDeterministicSigning()
    {
        var key = P256.FromPrivate(Convert.FromHexString("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721"));
        var signature = Convert.ToHexString(SignDeterministic(key, "sample"u8));
        Check(
            string.Equals(signature, "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8", StringComparison.Ordinal),
            string.Create(CultureInfo.InvariantCulture, $"RFC 6979 A.2.5 signature (got {signature})"));
    }

    /// <summary>The ratchet keys one side draws, in order: the key pair of the label with its draw number.</summary>
    private sealed class Drawer(string label)
    {
        public List<EcKeyPair> Drawn { get; } = [];

        public EcKeyPair Next()
        {
            var key = Key(string.Create(CultureInfo.InvariantCulture, $"{label} {Drawn.Count}"));
            Drawn.Add(key);
            return key;
        }
    }

    /// <summary>One device of the handshake, its keys from labels and its signatures deterministic.</summary>
    private sealed class Party
    {
        public Party(string user, string device, uint signedPreKeyId, uint? oneTimePreKeyId)
        {
            User = user;
            Device = device;
            SigningPair = Key($"{user} signing");
            IdentityPair = Key($"{user} identity");
            SignedPreKeyPair = Key(string.Create(CultureInfo.InvariantCulture, $"{user} signed prekey {signedPreKeyId}"));
            Identity = new DeviceIdentityKey(user, device, SigningPair.PublicKey, IdentityPair.PublicKey, SignDeterministic(SigningPair, DeviceIdentityKey.SignedBytes(user, device, IdentityPair.PublicKey)));
            SignedPreKey = new SignedPreKey(signedPreKeyId, SignedPreKeyPair.PublicKey, SignDeterministic(SigningPair, SignedPreKey.SignedBytes(signedPreKeyId, SignedPreKeyPair.PublicKey)));
            OneTimePreKeyId = oneTimePreKeyId;
            OneTimePreKeyPair = oneTimePreKeyId is { } id ? Key(string.Create(CultureInfo.InvariantCulture, $"{user} one-time prekey {id}")) : null;
        }

        public string User { get; }

        public string Device { get; }

        public EcKeyPair SigningPair { get; }

        public EcKeyPair IdentityPair { get; }

        public EcKeyPair SignedPreKeyPair { get; }

        public DeviceIdentityKey Identity { get; }

        public SignedPreKey SignedPreKey { get; }

        public uint? OneTimePreKeyId { get; }

        public EcKeyPair? OneTimePreKeyPair { get; }

        /// <summary>A fresh copy of the device's private keys (accepting a handshake forgets the one-time prekey).</summary>
        public DeviceKeys Keys() => DeviceKeys.Restore(
            Identity,
            SigningPair,
            IdentityPair,
            [(SignedPreKey, SignedPreKeyPair)],
            OneTimePreKeyId is { } id ? [(id, OneTimePreKeyPair!)] : [],
            CreatedAt);

        public void WriteTo(Utf8JsonWriter json, string name)
        {
            json.WriteStartObject(name);
            json.WriteString("userId", User);
            json.WriteString("deviceId", Device);
            Hex(json, "signingPrivate", SigningPair.PrivateKey);
            Hex(json, "identityPrivate", IdentityPair.PrivateKey);
            Hex(json, "signingKey", SigningPair.PublicKey);
            Hex(json, "identityKey", IdentityPair.PublicKey);
            Hex(json, "identitySignature", Identity.Signature);
            json.WriteStartObject("signedPreKey");
            json.WriteNumber("id", SignedPreKey.Id);
            Hex(json, "private", SignedPreKeyPair.PrivateKey);
            Hex(json, "public", SignedPreKeyPair.PublicKey);
            Hex(json, "signature", SignedPreKey.Signature);
            json.WriteEndObject();
            if (OneTimePreKeyId is { } id)
            {
                json.WriteStartObject("oneTimePreKey");
                json.WriteNumber("id", id);
                Hex(json, "private", OneTimePreKeyPair!.PrivateKey);
                Hex(json, "public", OneTimePreKeyPair.PublicKey);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }
    }
}
