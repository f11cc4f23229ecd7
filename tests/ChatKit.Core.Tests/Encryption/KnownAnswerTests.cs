using System.Text;
using System.Text.Json;
using ChatKit.Encryption;

namespace ChatKit.Core.Tests.Encryption;

/// <summary>
/// Replays ChatKit's own known-answer vectors (tests/vectors/chatkit-e2e-v1.json, which other implementations must
/// reproduce byte for byte) through the Core API, section by section, from the recorded inputs alone.
/// </summary>
public sealed class KnownAnswerTests
{
    private static readonly Lazy<JsonElement> Vectors = new(Load);

    /// <summary>When restored devices made their signed prekeys: device state only, in no output.</summary>
    private static readonly DateTimeOffset CreatedAt = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private static JsonElement Root => Vectors.Value;

    [Fact]
    public void The_file_names_protocol_version_1_and_its_suite()
    {
        Assert.Equal("ChatKit end-to-end encryption known-answer vectors", Root.GetProperty("name").GetString());
        Assert.Equal(RatchetSession.ProtocolVersion, Root.GetProperty("protocolVersion").GetInt32());
        Assert.Equal("P-256, HKDF-SHA256, HMAC-SHA256, AES-256-CBC + HMAC-SHA256, ECDSA P-256 SHA-256 P1363", Root.GetProperty("suite").GetString());
        Assert.Equal("MIT (ChatKit's own data)", Root.GetProperty("license").GetString());
        Assert.Equal("dotnet run -c Release --project benchmarks/ChatKit.Benchmarks -- vectors", Root.GetProperty("generator").GetString());
    }

    [Fact]
    public void Kdf_root_chain_message_keys_and_handshake_derive_the_recorded_keys()
    {
        var kdf = Root.GetProperty("kdf");
        var info = kdf.GetProperty("info");
        Assert.Equal(Encoding.ASCII.GetString(Kdf.Info.Handshake), info.GetProperty("handshake").GetString());
        Assert.Equal(Encoding.ASCII.GetString(Kdf.Info.Ratchet), info.GetProperty("ratchet").GetString());
        Assert.Equal(Encoding.ASCII.GetString(Kdf.Info.MessageKeys), info.GetProperty("messageKeys").GetString());

        var roots = kdf.GetProperty("root").EnumerateArray().ToList();
        Assert.NotEmpty(roots);
        foreach (var root in roots)
        {
            var (newRootKey, chainKey) = Kdf.Root(Bytes(root, "rootKey"), Bytes(root, "dhOutput"));
            AssertHex(root, "newRootKey", newRootKey);
            AssertHex(root, "chainKey", chainKey);
        }

        var chain = kdf.GetProperty("chain");
        var key = Bytes(chain, "chainKey");
        var steps = chain.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(3, steps.Count);
        foreach (var step in steps)
        {
            AssertHex(step, "chainKey", key);
            var (messageKey, next) = Kdf.Chain(key);
            AssertHex(step, "messageKey", messageKey);
            AssertHex(step, "nextChainKey", next);
            key = next;
        }

        foreach (var keys in kdf.GetProperty("messageKeys").EnumerateArray())
        {
            var output = Kdf.MessageKeys(Bytes(keys, "messageKey"));
            Assert.Equal(80, output.Length);
            AssertHex(keys, "output", output);
            AssertHex(keys, "aesKey", output[..32]);
            AssertHex(keys, "macKey", output[32..64]);
            AssertHex(keys, "iv", output[64..]);
        }

        var handshakes = kdf.GetProperty("handshake").EnumerateArray().ToList();
        Assert.Equal([3, 4], handshakes.Select(h => h.GetProperty("dhOutputs").GetArrayLength()));
        foreach (var handshake in handshakes)
        {
            var outputs = handshake.GetProperty("dhOutputs").EnumerateArray().Select(o => Convert.FromHexString(o.GetString()!)).ToList();
            AssertHex(handshake, "secret", Kdf.Handshake(outputs));
        }
    }

    [Fact]
    public void Message_cipher_encrypts_to_the_recorded_ciphertexts_and_decrypts_them()
    {
        var cases = Root.GetProperty("messageCipher").EnumerateArray().ToList();
        Assert.Contains(cases, c => c.GetProperty("plaintext").GetString()!.Length == 0);
        foreach (var vector in cases)
        {
            var plaintext = Encoding.UTF8.GetBytes(vector.GetProperty("plaintext").GetString()!);
            AssertHex(vector, "plaintextHex", plaintext);
            var messageKey = Bytes(vector, "messageKey");
            var associatedData = Bytes(vector, "associatedData");

            var ciphertext = MessageCipher.Encrypt(messageKey, plaintext, associatedData);

            AssertHex(vector, "ciphertext", ciphertext);
            Assert.Equal(plaintext, MessageCipher.Decrypt(messageKey, Bytes(vector, "ciphertext"), associatedData));
        }
    }

    [Fact]
    public void P256_private_keys_give_the_recorded_public_keys_and_shared_secrets()
    {
        var p256 = Root.GetProperty("p256");
        var keys = p256.GetProperty("keys").EnumerateArray().ToList();
        Assert.Equal(3, keys.Count);
        foreach (var key in keys)
        {
            AssertHex(key, "public", P256.FromPrivate(Bytes(key, "private")).PublicKey);
        }

        var agreements = p256.GetProperty("ecdh").EnumerateArray().ToList();
        Assert.NotEmpty(agreements);
        foreach (var ecdh in agreements)
        {
            AssertHex(ecdh, "shared", P256.Agree(P256.FromPrivate(Bytes(ecdh, "private")), Bytes(ecdh, "peerPublic")));
        }
    }

    [Fact]
    public void Identity_and_signed_prekey_sign_the_recorded_bytes_with_signatures_that_verify()
    {
        var identity = Root.GetProperty("identity");
        var device = identity.GetProperty("device");
        var user = device.GetProperty("userId").GetString()!;
        var deviceId = device.GetProperty("deviceId").GetString()!;
        var signing = Pair(device, "signingPrivate", "signingKey");
        var identityPair = Pair(device, "identityPrivate", "identityKey");
        var signedBytes = DeviceIdentityKey.SignedBytes(user, deviceId, identityPair.PublicKey);
        AssertHex(device, "signedBytes", signedBytes);
        var signature = Bytes(device, "signature");
        AssertVerifies(signing.PublicKey, signedBytes, signature);
        var identityKey = new DeviceIdentityKey(user, deviceId, signing.PublicKey, identityPair.PublicKey, signature);
        identityKey.Verify();

        var preKey = identity.GetProperty("signedPreKey");
        var id = preKey.GetProperty("id").GetUInt32();
        var preKeyPair = Pair(preKey, "private", "public");
        var preKeyBytes = SignedPreKey.SignedBytes(id, preKeyPair.PublicKey);
        AssertHex(preKey, "signedBytes", preKeyBytes);
        var preKeySignature = Bytes(preKey, "signature");
        AssertVerifies(signing.PublicKey, preKeyBytes, preKeySignature);
        new SignedPreKey(id, preKeyPair.PublicKey, preKeySignature).Verify(identityKey);
    }

    [Fact]
    public void Handshake_from_fixed_keys_sends_the_recorded_prekey_message_and_the_responder_reads_it()
    {
        var handshake = Root.GetProperty("handshake");
        var alice = Party.Read(handshake.GetProperty("alice"));
        var bob = Party.Read(handshake.GetProperty("bob"));
        var cases = handshake.GetProperty("cases").EnumerateArray().ToList();
        Assert.Equal([true, false], cases.Select(c => c.GetProperty("useOneTimePreKey").GetBoolean()));
        foreach (var vector in cases)
        {
            var withOneTimePreKey = vector.GetProperty("useOneTimePreKey").GetBoolean();
            var ephemeral = Pair(vector, "aliceEphemeralPrivate", "aliceEphemeralPublic");
            var aliceRatchet = Pair(vector, "aliceRatchetPrivate", "aliceRatchetPublic");
            Pair(vector, "bobRatchetPrivate", "bobRatchetPublic");

            // The handshake's DH outputs as docs/encryption.md defines them, then the secret and the first root step.
            List<byte[]> outputs =
            [
                P256.Agree(alice.IdentityPair, bob.SignedPreKey.PublicKey),
                P256.Agree(ephemeral, bob.Identity.IdentityKey),
                P256.Agree(ephemeral, bob.SignedPreKey.PublicKey),
            ];
            if (withOneTimePreKey)
            {
                outputs.Add(P256.Agree(ephemeral, bob.OneTimePreKey!.PublicKey));
            }

            Assert.Equal(HexList(vector, "dhOutputs"), outputs.Select(Convert.ToHexStringLower));
            var secret = Kdf.Handshake(outputs);
            AssertHex(vector, "secret", secret);
            AssertHex(vector, "associatedData", RatchetSession.AssociatedData(alice.Identity, bob.Identity));
            var initialDh = P256.Agree(aliceRatchet, bob.SignedPreKey.PublicKey);
            AssertHex(vector, "initialRatchetDh", initialDh);
            var (rootKey, sendingChainKey) = Kdf.Root(secret, initialDh);
            AssertHex(vector, "rootKey", rootKey);
            AssertHex(vector, "sendingChainKey", sendingChainKey);

            var aliceKeys = new KeyQueue([vector.GetProperty("aliceRatchetPrivate").GetString()!]);
            var bobKeys = new KeyQueue([vector.GetProperty("bobRatchetPrivate").GetString()!]);
            var (_, _, plaintext) = Start(alice, bob, vector, aliceKeys, bobKeys);

            Assert.Equal(vector.GetProperty("plaintext").GetString(), Encoding.UTF8.GetString(plaintext));
            Assert.Equal(1, aliceKeys.Drawn);
            Assert.Equal(1, bobKeys.Drawn);
            Assert.True(aliceKeys.IsEmpty && bobKeys.IsEmpty);
        }
    }

    [Fact]
    public void Ratchet_conversation_with_late_messages_and_dh_steps_reproduces_every_message()
    {
        var handshake = Root.GetProperty("handshake");
        var ratchet = Root.GetProperty("ratchet");
        Assert.Equal("handshake.cases[0]", ratchet.GetProperty("continues").GetString());
        var first = handshake.GetProperty("cases")[0];
        var draws = ratchet.GetProperty("draws");
        var aliceKeys = new KeyQueue([first.GetProperty("aliceRatchetPrivate").GetString()!, .. HexList(draws, "alice")]);
        var bobKeys = new KeyQueue([first.GetProperty("bobRatchetPrivate").GetString()!, .. HexList(draws, "bob")]);
        var (alice, bob, _) = Start(Party.Read(handshake.GetProperty("alice")), Party.Read(handshake.GetProperty("bob")), first, aliceKeys, bobKeys);

        var messages = ratchet.GetProperty("messages").EnumerateArray().ToDictionary(m => m.GetProperty("id").GetString()!, StringComparer.Ordinal);
        var order = ratchet.GetProperty("order").EnumerateArray().Select(s => s.GetString()!.Split(' ')).ToList();
        Assert.True(order.Count >= 16, "at least 8 messages, each sent and delivered");
        Assert.All(messages.Keys, id => Assert.Single(order, step => step[0] == "send" && step[1] == id));
        Assert.All(messages.Keys, id => Assert.Single(order, step => step[0] == "deliver" && step[1] == id));
        Assert.NotEqual(order.Where(s => s[0] == "send").Select(s => s[1]), order.Where(s => s[0] == "deliver").Select(s => s[1]));

        foreach (var step in order)
        {
            var message = messages[step[1]];
            var fromAlice = message.GetProperty("sender").GetString() switch
            {
                "alice" => true,
                "bob" => false,
                var other => throw new InvalidOperationException($"Unknown sender '{other}'."),
            };
            var plaintext = message.GetProperty("plaintext").GetString()!;
            if (step[0] == "send")
            {
                var sent = (fromAlice ? alice : bob).Encrypt(Encoding.UTF8.GetBytes(plaintext));
                AssertHex(message, "message", sent);
                Assert.Equal(message.GetProperty("kind").GetString(), sent[0] == RatchetSession.PreKeyMessageKind ? "prekey" : "message");
                continue;
            }

            Assert.Equal("deliver", step[0]);
            var receiverKeys = fromAlice ? bobKeys : aliceKeys;
            var before = receiverKeys.DrawnKeys.Count;
            var received = (fromAlice ? bob : alice).Decrypt(Bytes(message, "message"));
            Assert.Equal(plaintext, Encoding.UTF8.GetString(received));
            Assert.Equal(HexList(message, "receiverDraws"), receiverKeys.DrawnKeys[before..]);
        }

        Assert.True(aliceKeys.IsEmpty, "Alice drew every ratchet key the vectors list");
        Assert.True(bobKeys.IsEmpty, "Bob drew every ratchet key the vectors list");
    }

    [Fact]
    public void Sender_key_messages_match_up_to_the_signature_and_the_recorded_ones_decrypt()
    {
        var senderKey = Root.GetProperty("senderKey");
        var signing = Pair(senderKey, "signingPrivate", "signingPublic");
        var chain = SenderKeyChain.CreateWith(senderKey.GetProperty("roomId").GetString()!, Bytes(senderKey, "keyId"), Bytes(senderKey, "chainKey"), signing);
        AssertHex(senderKey, "distribution", chain.Distribution());
        var receiver = SenderKeyReceiver.FromDistribution(Bytes(senderKey, "distribution"));

        var messages = senderKey.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(3, messages.Count);
        foreach (var vector in messages)
        {
            Assert.Equal(vector.GetProperty("iteration").GetUInt32(), chain.Iteration);
            var plaintext = vector.GetProperty("plaintext").GetString()!;

            var message = chain.Encrypt(Encoding.UTF8.GetBytes(plaintext));

            AssertHex(vector, "signedPart", message[..^P256.SignatureLength]);
            AssertVerifies(signing.PublicKey, message[..^P256.SignatureLength], message[^P256.SignatureLength..]);
            var recorded = Bytes(vector, "message");
            Assert.Equal(vector.GetProperty("signedPart").GetString() + vector.GetProperty("signature").GetString(), Convert.ToHexStringLower(recorded));
            AssertVerifies(signing.PublicKey, Bytes(vector, "signedPart"), Bytes(vector, "signature"));
            Assert.Equal(plaintext, Encoding.UTF8.GetString(receiver.Decrypt(recorded)));
        }
    }

    [Fact]
    public void Safety_numbers_and_fingerprints_match_in_either_argument_order()
    {
        var safety = Root.GetProperty("safetyNumber");
        Assert.Equal(SafetyNumber.Iterations, safety.GetProperty("iterations").GetInt32());
        var users = new List<(string User, List<byte[]> Keys)>();
        foreach (var fingerprint in safety.GetProperty("fingerprints").EnumerateArray())
        {
            var user = fingerprint.GetProperty("userId").GetString()!;
            var keys = HexList(fingerprint, "signingPrivates").Select(p => P256.FromPrivate(Convert.FromHexString(p)).PublicKey).ToList();
            Assert.Equal(HexList(fingerprint, "signingKeys"), keys.Select(Convert.ToHexStringLower));
            Assert.Equal(fingerprint.GetProperty("fingerprint").GetString(), SafetyNumber.Fingerprint(user, keys));
            users.Add((user, keys));
        }

        Assert.Contains(users, u => u.Keys.Count == 1);
        Assert.Contains(users, u => u.Keys.Count == 2);
        var numbers = safety.GetProperty("numbers").EnumerateArray().ToList();
        Assert.NotEmpty(numbers);
        foreach (var number in numbers)
        {
            var a = users[number.GetProperty("a").GetInt32()];
            var b = users[number.GetProperty("b").GetInt32()];
            var expected = number.GetProperty("safetyNumber").GetString();
            Assert.Equal(expected, SafetyNumber.Compute(a.User, a.Keys, b.User, b.Keys));
            Assert.Equal(expected, SafetyNumber.Compute(b.User, b.Keys, a.User, a.Keys));
        }
    }

    [Fact]
    public void Envelopes_of_each_kind_write_the_recorded_bodies_and_parse_back()
    {
        var envelopes = Root.GetProperty("envelope").EnumerateArray().ToList();
        Assert.Equal(
            [EnvelopeKind.Direct, EnvelopeKind.Group, EnvelopeKind.Keys],
            envelopes.Select(e => Enum.Parse<EnvelopeKind>(e.GetProperty("kind").GetString()!, ignoreCase: true)));
        foreach (var vector in envelopes)
        {
            var kind = Enum.Parse<EnvelopeKind>(vector.GetProperty("kind").GetString()!, ignoreCase: true);
            Assert.Equal(vector.GetProperty("kindByte").GetInt32(), (int)kind);
            var entries = vector.GetProperty("entries").EnumerateArray()
                .Select(e => new EnvelopeEntry(e.GetProperty("user").GetString()!, e.GetProperty("device").GetString()!, Bytes(e, "message")))
                .ToList();
            var envelope = new EncryptedEnvelope(kind, vector.GetProperty("senderDevice").GetString()!, entries, Bytes(vector, "groupMessage"));
            var body = vector.GetProperty("body").GetString()!;

            Assert.Equal(body, envelope.ToBody());

            var parsed = EncryptedEnvelope.Parse(body);
            Assert.Equal(envelope.Kind, parsed.Kind);
            Assert.Equal(envelope.SenderDevice, parsed.SenderDevice);
            Assert.Equal(
                entries.Select(e => (e.User, e.Device, Convert.ToHexStringLower(e.Message))),
                parsed.Entries.Select(e => (e.User, e.Device, Convert.ToHexStringLower(e.Message))));
            Assert.Equal(envelope.GroupMessage, parsed.GroupMessage);
            Assert.Equal(body, parsed.ToBody());
        }
    }

    /// <summary>Alice starts a session from Bob's bundle with the case's fixed ephemeral key; Bob accepts her first message.</summary>
    private static (RatchetSession Alice, RatchetSession Bob, byte[] Plaintext) Start(Party alice, Party bob, JsonElement vector, KeyQueue aliceKeys, KeyQueue bobKeys)
    {
        var ephemeral = P256.FromPrivate(Bytes(vector, "aliceEphemeralPrivate"));
        var bundle = new PreKeyBundle(bob.Identity, bob.SignedPreKey, vector.GetProperty("useOneTimePreKey").GetBoolean() ? bob.OneTimePreKey : null);
        var aliceSession = RatchetSession.InitiateWith(alice.Keys(), bundle, ephemeral, aliceKeys.Next);

        var message = aliceSession.Encrypt(Encoding.UTF8.GetBytes(vector.GetProperty("plaintext").GetString()!));

        AssertHex(vector, "message", message);
        var (bobSession, plaintext) = RatchetSession.AcceptWith(bob.Keys(), Bytes(vector, "message"), bobKeys.Next);
        return (aliceSession, bobSession, plaintext);
    }

    private static JsonElement Load()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ChatKit.sln")))
        {
            directory = directory.Parent;
        }

        Assert.NotNull(directory);
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory.FullName, "tests", "vectors", "chatkit-e2e-v1.json")));
        return document.RootElement.Clone();
    }

    private static byte[] Bytes(JsonElement element, string name) => Convert.FromHexString(element.GetProperty(name).GetString()!);

    private static List<string> HexList(JsonElement element, string name) =>
        element.GetProperty(name).EnumerateArray().Select(e => e.GetString()!).ToList();

    private static void AssertHex(JsonElement element, string name, byte[] actual) =>
        Assert.Equal(element.GetProperty(name).GetString(), Convert.ToHexStringLower(actual));

    /// <summary>The key pair of the recorded private key, whose public key must be the recorded one.</summary>
    private static EcKeyPair Pair(JsonElement element, string privateName, string publicName)
    {
        var pair = P256.FromPrivate(Bytes(element, privateName));
        AssertHex(element, publicName, pair.PublicKey);
        return pair;
    }

    /// <summary>The signature verifies, and the same signature over other data does not.</summary>
    private static void AssertVerifies(byte[] publicKey, byte[] data, byte[] signature)
    {
        Assert.True(P256.Verify(publicKey, data, signature), "the recorded signature verifies");
        byte[] altered = [.. data, 0x00];
        Assert.False(P256.Verify(publicKey, altered, signature));
    }

    /// <summary>The ratchet keys one side draws, in the recorded order; drawing more than recorded fails.</summary>
    private sealed class KeyQueue(IEnumerable<string> privates)
    {
        private readonly Queue<string> _privates = new(privates);

        public List<string> DrawnKeys { get; } = [];

        public int Drawn => DrawnKeys.Count;

        public bool IsEmpty => _privates.Count == 0;

        public EcKeyPair Next()
        {
            var next = _privates.TryDequeue(out var hex) ? hex : throw new InvalidOperationException("The session drew more ratchet keys than the vectors list.");
            DrawnKeys.Add(next);
            return P256.FromPrivate(Convert.FromHexString(next));
        }
    }

    /// <summary>One device of the handshake section, restored from its recorded keys and signatures.</summary>
    private sealed record Party(
        DeviceIdentityKey Identity,
        EcKeyPair SigningPair,
        EcKeyPair IdentityPair,
        SignedPreKey SignedPreKey,
        EcKeyPair SignedPreKeyPair,
        OneTimePreKey? OneTimePreKey,
        EcKeyPair? OneTimePreKeyPair)
    {
        public static Party Read(JsonElement party)
        {
            var user = party.GetProperty("userId").GetString()!;
            var device = party.GetProperty("deviceId").GetString()!;
            var signing = Pair(party, "signingPrivate", "signingKey");
            var identity = Pair(party, "identityPrivate", "identityKey");
            var identityKey = new DeviceIdentityKey(user, device, signing.PublicKey, identity.PublicKey, Bytes(party, "identitySignature"));
            identityKey.Verify();
            var signed = party.GetProperty("signedPreKey");
            var signedPair = Pair(signed, "private", "public");
            var signedPreKey = new SignedPreKey(signed.GetProperty("id").GetUInt32(), signedPair.PublicKey, Bytes(signed, "signature"));
            signedPreKey.Verify(identityKey);
            if (!party.TryGetProperty("oneTimePreKey", out var oneTime))
            {
                return new Party(identityKey, signing, identity, signedPreKey, signedPair, null, null);
            }

            var oneTimePair = Pair(oneTime, "private", "public");
            return new Party(identityKey, signing, identity, signedPreKey, signedPair, new OneTimePreKey(oneTime.GetProperty("id").GetUInt32(), oneTimePair.PublicKey), oneTimePair);
        }

        /// <summary>A fresh copy of the device's private keys: accepting a handshake deletes the one-time prekey it used.</summary>
        public DeviceKeys Keys() => DeviceKeys.Restore(
            Identity,
            SigningPair,
            IdentityPair,
            [(SignedPreKey, SignedPreKeyPair)],
            OneTimePreKey is { } oneTime ? [(oneTime.Id, OneTimePreKeyPair!)] : [],
            CreatedAt);
    }
}
