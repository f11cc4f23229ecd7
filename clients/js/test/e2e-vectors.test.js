// Replays ChatKit's known-answer vectors (tests/vectors/chatkit-e2e-v1.json) against dist/e2e.js, section by section,
// from the recorded inputs alone: the same checks as tests/ChatKit.Core.Tests/Encryption/KnownAnswerTests.cs, so the
// WebCrypto port is held to the .NET implementation's bytes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  DeviceIdentityKey,
  DeviceKeys,
  EncryptedEnvelope,
  EnvelopeEntry,
  EnvelopeKind,
  Kdf,
  MessageCipher,
  OneTimePreKey,
  P256,
  PreKeyBundle,
  RatchetSession,
  SafetyNumber,
  SenderKeyChain,
  SenderKeyReceiver,
  SignedPreKey,
} from '../dist/e2e.js';

const vectors = JSON.parse(readFileSync(new URL('../../../tests/vectors/chatkit-e2e-v1.json', import.meta.url), 'utf8'));

/** When restored devices made their signed prekeys: device state only, in no output. */
const createdAtMs = 1_800_000_000_000;

const bytes = (hex) => new Uint8Array(Buffer.from(hex, 'hex'));
const hex = (value) => Buffer.from(value).toString('hex');
const text = (value) => new TextEncoder().encode(value);
const read = (value) => new TextDecoder().decode(value);
const signatureLength = P256.signatureLength;

/** The key pair of the recorded private key, whose public key must be the recorded one. */
function pair(element, privateName, publicName) {
  const keyPair = P256.fromPrivate(bytes(element[privateName]));
  assert.equal(hex(keyPair.publicKey), element[publicName], publicName);
  return keyPair;
}

/** The signature verifies, and the same signature over other data does not. */
async function assertVerifies(publicKey, data, signature) {
  assert.equal(await P256.verify(publicKey, data, signature), true, 'the recorded signature verifies');
  assert.equal(await P256.verify(publicKey, new Uint8Array([...data, 0]), signature), false);
}

/** The ratchet keys one side draws, in the recorded order; drawing more than recorded fails. */
class KeyQueue {
  #privates;
  drawnKeys = [];

  constructor(privates) {
    this.#privates = [...privates];
  }

  get isEmpty() {
    return this.#privates.length === 0;
  }

  next = () => {
    const next = this.#privates.shift();
    if (next === undefined) throw new Error('The session drew more ratchet keys than the vectors list.');
    this.drawnKeys.push(next);
    return P256.fromPrivate(bytes(next));
  };
}

/** One device of the handshake section, restored from its recorded keys and signatures. */
async function party(element) {
  const signing = pair(element, 'signingPrivate', 'signingKey');
  const identityPair = pair(element, 'identityPrivate', 'identityKey');
  const identity = new DeviceIdentityKey(element.userId, element.deviceId, signing.publicKey, identityPair.publicKey, bytes(element.identitySignature));
  await identity.verify();
  const signedPair = pair(element.signedPreKey, 'private', 'public');
  const signedPreKey = new SignedPreKey(element.signedPreKey.id, signedPair.publicKey, bytes(element.signedPreKey.signature));
  await signedPreKey.verify(identity);
  const oneTimePair = element.oneTimePreKey ? pair(element.oneTimePreKey, 'private', 'public') : null;
  const oneTimePreKey = oneTimePair ? new OneTimePreKey(element.oneTimePreKey.id, oneTimePair.publicKey) : null;
  return {
    identity,
    identityPair,
    signedPreKey,
    oneTimePreKey,
    // A fresh copy of the device's private keys: accepting a handshake deletes the one-time prekey it used.
    keys: () =>
      DeviceKeys.restore(identity, signing, identityPair, [{ key: signedPreKey, pair: signedPair }], oneTimePreKey ? [{ id: oneTimePreKey.id, pair: oneTimePair }] : [], createdAtMs),
  };
}

/** Alice starts a session from Bob's bundle with the case's fixed ephemeral key; Bob accepts her first message. */
async function start(alice, bob, vector, aliceKeys, bobKeys) {
  const ephemeral = P256.fromPrivate(bytes(vector.aliceEphemeralPrivate));
  const bundle = new PreKeyBundle(bob.identity, bob.signedPreKey, vector.useOneTimePreKey ? bob.oneTimePreKey : null);
  const aliceSession = await RatchetSession.initiateWith(alice.keys(), bundle, ephemeral, aliceKeys.next);
  const message = await aliceSession.encrypt(text(vector.plaintext));
  assert.equal(hex(message), vector.message);
  const { session: bobSession, plaintext } = await RatchetSession.acceptWith(bob.keys(), bytes(vector.message), bobKeys.next);
  return { alice: aliceSession, bob: bobSession, plaintext };
}

describe('known-answer vectors chatkit-e2e-v1.json', () => {
  test('the file names protocol version 1 and its suite', () => {
    assert.equal(vectors.name, 'ChatKit end-to-end encryption known-answer vectors');
    assert.equal(vectors.protocolVersion, RatchetSession.protocolVersion);
    assert.equal(vectors.suite, 'P-256, HKDF-SHA256, HMAC-SHA256, AES-256-CBC + HMAC-SHA256, ECDSA P-256 SHA-256 P1363');
    assert.equal(vectors.license, "MIT (ChatKit's own data)");
    assert.equal(vectors.generator, 'dotnet run -c Release --project benchmarks/ChatKit.Benchmarks -- vectors');
  });

  test('kdf: root, chain, message keys and handshake derive the recorded keys', async () => {
    const { kdf } = vectors;
    assert.equal(read(Kdf.info.handshake), kdf.info.handshake);
    assert.equal(read(Kdf.info.ratchet), kdf.info.ratchet);
    assert.equal(read(Kdf.info.messageKeys), kdf.info.messageKeys);

    assert.ok(kdf.root.length > 0);
    for (const root of kdf.root) {
      const { rootKey, chainKey } = await Kdf.root(bytes(root.rootKey), bytes(root.dhOutput));
      assert.equal(hex(rootKey), root.newRootKey);
      assert.equal(hex(chainKey), root.chainKey);
    }

    let key = bytes(kdf.chain.chainKey);
    assert.equal(kdf.chain.steps.length, 3);
    for (const step of kdf.chain.steps) {
      assert.equal(hex(key), step.chainKey);
      const { messageKey, nextChainKey } = await Kdf.chain(key);
      assert.equal(hex(messageKey), step.messageKey);
      assert.equal(hex(nextChainKey), step.nextChainKey);
      key = nextChainKey;
    }

    for (const keys of kdf.messageKeys) {
      const output = await Kdf.messageKeys(bytes(keys.messageKey));
      assert.equal(output.length, 80);
      assert.equal(hex(output), keys.output);
      assert.equal(hex(output.subarray(0, 32)), keys.aesKey);
      assert.equal(hex(output.subarray(32, 64)), keys.macKey);
      assert.equal(hex(output.subarray(64)), keys.iv);
    }

    assert.deepEqual(kdf.handshake.map((h) => h.dhOutputs.length), [3, 4]);
    for (const handshake of kdf.handshake) {
      assert.equal(hex(await Kdf.handshake(handshake.dhOutputs.map(bytes))), handshake.secret);
    }
  });

  test('message cipher encrypts to the recorded ciphertexts and decrypts them', async () => {
    const cases = vectors.messageCipher;
    assert.ok(cases.some((c) => c.plaintext.length === 0));
    for (const vector of cases) {
      const plaintext = text(vector.plaintext);
      assert.equal(hex(plaintext), vector.plaintextHex);
      const messageKey = bytes(vector.messageKey);
      const associatedData = bytes(vector.associatedData);

      assert.equal(hex(await MessageCipher.encrypt(messageKey, plaintext, associatedData)), vector.ciphertext);
      assert.deepEqual(await MessageCipher.decrypt(messageKey, bytes(vector.ciphertext), associatedData), plaintext);
    }
  });

  test('P-256 private keys give the recorded public keys and shared secrets', async () => {
    const { p256 } = vectors;
    assert.equal(p256.keys.length, 3);
    for (const key of p256.keys) assert.equal(hex(P256.fromPrivate(bytes(key.private)).publicKey), key.public);
    assert.ok(p256.ecdh.length > 0);
    for (const ecdh of p256.ecdh) {
      assert.equal(hex(await P256.agree(P256.fromPrivate(bytes(ecdh.private)), bytes(ecdh.peerPublic))), ecdh.shared);
    }
  });

  test('identity and signed prekey sign the recorded bytes with signatures that verify', async () => {
    const { device, signedPreKey: preKey } = vectors.identity;
    const signing = pair(device, 'signingPrivate', 'signingKey');
    const identityPair = pair(device, 'identityPrivate', 'identityKey');
    const signedBytes = DeviceIdentityKey.signedBytes(device.userId, device.deviceId, identityPair.publicKey);
    assert.equal(hex(signedBytes), device.signedBytes);
    const signature = bytes(device.signature);
    await assertVerifies(signing.publicKey, signedBytes, signature);
    const identityKey = new DeviceIdentityKey(device.userId, device.deviceId, signing.publicKey, identityPair.publicKey, signature);
    await identityKey.verify();

    const preKeyPair = pair(preKey, 'private', 'public');
    const preKeyBytes = SignedPreKey.signedBytes(preKey.id, preKeyPair.publicKey);
    assert.equal(hex(preKeyBytes), preKey.signedBytes);
    const preKeySignature = bytes(preKey.signature);
    await assertVerifies(signing.publicKey, preKeyBytes, preKeySignature);
    await new SignedPreKey(preKey.id, preKeyPair.publicKey, preKeySignature).verify(identityKey);

    // WebCrypto signs with random nonces: what this port signs cannot match the recorded bytes, so it must verify.
    await assertVerifies(signing.publicKey, signedBytes, await P256.sign(signing, signedBytes));
  });

  test('handshake from fixed keys sends the recorded prekey message and the responder reads it', async () => {
    const { handshake } = vectors;
    const alice = await party(handshake.alice);
    const bob = await party(handshake.bob);
    assert.deepEqual(handshake.cases.map((c) => c.useOneTimePreKey), [true, false]);
    for (const vector of handshake.cases) {
      const ephemeral = pair(vector, 'aliceEphemeralPrivate', 'aliceEphemeralPublic');
      const aliceRatchet = pair(vector, 'aliceRatchetPrivate', 'aliceRatchetPublic');
      pair(vector, 'bobRatchetPrivate', 'bobRatchetPublic');

      // The handshake's DH outputs as docs/encryption.md defines them, then the secret and the first root step.
      const outputs = [
        await P256.agree(alice.identityPair, bob.signedPreKey.publicKey),
        await P256.agree(ephemeral, bob.identity.identityKey),
        await P256.agree(ephemeral, bob.signedPreKey.publicKey),
      ];
      if (vector.useOneTimePreKey) outputs.push(await P256.agree(ephemeral, bob.oneTimePreKey.publicKey));
      assert.deepEqual(outputs.map(hex), vector.dhOutputs);
      const secret = await Kdf.handshake(outputs);
      assert.equal(hex(secret), vector.secret);
      assert.equal(hex(RatchetSession.associatedData(alice.identity, bob.identity)), vector.associatedData);
      const initialDh = await P256.agree(aliceRatchet, bob.signedPreKey.publicKey);
      assert.equal(hex(initialDh), vector.initialRatchetDh);
      const { rootKey, chainKey } = await Kdf.root(secret, initialDh);
      assert.equal(hex(rootKey), vector.rootKey);
      assert.equal(hex(chainKey), vector.sendingChainKey);

      const aliceKeys = new KeyQueue([vector.aliceRatchetPrivate]);
      const bobKeys = new KeyQueue([vector.bobRatchetPrivate]);
      const { plaintext } = await start(alice, bob, vector, aliceKeys, bobKeys);

      assert.equal(read(plaintext), vector.plaintext);
      assert.equal(aliceKeys.drawnKeys.length, 1);
      assert.equal(bobKeys.drawnKeys.length, 1);
      assert.ok(aliceKeys.isEmpty && bobKeys.isEmpty);
    }
  });

  test('ratchet conversation with late messages and DH steps reproduces every message', async () => {
    const { handshake, ratchet } = vectors;
    assert.equal(ratchet.continues, 'handshake.cases[0]');
    const first = handshake.cases[0];
    const aliceKeys = new KeyQueue([first.aliceRatchetPrivate, ...ratchet.draws.alice]);
    const bobKeys = new KeyQueue([first.bobRatchetPrivate, ...ratchet.draws.bob]);
    const sessions = await start(await party(handshake.alice), await party(handshake.bob), first, aliceKeys, bobKeys);

    const messages = new Map(ratchet.messages.map((m) => [m.id, m]));
    const order = ratchet.order.map((step) => step.split(' '));
    assert.ok(order.length >= 16, 'at least 8 messages, each sent and delivered');
    for (const id of messages.keys()) {
      assert.equal(order.filter(([verb, of]) => verb === 'send' && of === id).length, 1);
      assert.equal(order.filter(([verb, of]) => verb === 'deliver' && of === id).length, 1);
    }
    const sends = order.filter(([verb]) => verb === 'send').map(([, id]) => id);
    const deliveries = order.filter(([verb]) => verb === 'deliver').map(([, id]) => id);
    assert.notDeepEqual(sends, deliveries);

    for (const [verb, id] of order) {
      const message = messages.get(id);
      assert.ok(message.sender === 'alice' || message.sender === 'bob', `unknown sender '${message.sender}'`);
      const fromAlice = message.sender === 'alice';
      if (verb === 'send') {
        const sent = await (fromAlice ? sessions.alice : sessions.bob).encrypt(text(message.plaintext));
        assert.equal(hex(sent), message.message, `send ${id}`);
        assert.equal(message.kind, sent[0] === RatchetSession.preKeyMessageKind ? 'prekey' : 'message');
        continue;
      }
      assert.equal(verb, 'deliver');
      const receiverKeys = fromAlice ? bobKeys : aliceKeys;
      const before = receiverKeys.drawnKeys.length;
      const received = await (fromAlice ? sessions.bob : sessions.alice).decrypt(bytes(message.message));
      assert.equal(read(received), message.plaintext, `deliver ${id}`);
      assert.deepEqual(receiverKeys.drawnKeys.slice(before), message.receiverDraws);
    }

    assert.ok(aliceKeys.isEmpty, 'Alice drew every ratchet key the vectors list');
    assert.ok(bobKeys.isEmpty, 'Bob drew every ratchet key the vectors list');
  });

  test('sender key messages match up to the signature and the recorded ones decrypt', async () => {
    const { senderKey } = vectors;
    const signing = pair(senderKey, 'signingPrivate', 'signingPublic');
    const chain = SenderKeyChain.createWith(senderKey.roomId, bytes(senderKey.keyId), bytes(senderKey.chainKey), signing);
    assert.equal(hex(chain.distribution()), senderKey.distribution);
    const receiver = SenderKeyReceiver.fromDistribution(bytes(senderKey.distribution));

    assert.equal(senderKey.messages.length, 3);
    for (const vector of senderKey.messages) {
      assert.equal(chain.iteration, vector.iteration);

      const message = await chain.encrypt(text(vector.plaintext));

      const signed = message.subarray(0, message.length - signatureLength);
      assert.equal(hex(signed), vector.signedPart);
      await assertVerifies(signing.publicKey, signed, message.subarray(signed.length));
      const recorded = bytes(vector.message);
      assert.equal(vector.signedPart + vector.signature, hex(recorded));
      await assertVerifies(signing.publicKey, bytes(vector.signedPart), bytes(vector.signature));
      assert.equal(read(await receiver.decrypt(recorded)), vector.plaintext);
    }
  });

  test('safety numbers and fingerprints match in either argument order', async () => {
    const safety = vectors.safetyNumber;
    assert.equal(safety.iterations, SafetyNumber.iterations);
    const users = [];
    for (const fingerprint of safety.fingerprints) {
      const keys = fingerprint.signingPrivates.map((p) => P256.fromPrivate(bytes(p)).publicKey);
      assert.deepEqual(keys.map(hex), fingerprint.signingKeys);
      assert.equal(await SafetyNumber.fingerprint(fingerprint.userId, keys), fingerprint.fingerprint);
      users.push({ user: fingerprint.userId, keys });
    }
    assert.ok(users.some((u) => u.keys.length === 1));
    assert.ok(users.some((u) => u.keys.length === 2));
    assert.ok(safety.numbers.length > 0);
    for (const number of safety.numbers) {
      const a = users[number.a];
      const b = users[number.b];
      assert.equal(await SafetyNumber.compute(a.user, a.keys, b.user, b.keys), number.safetyNumber);
      assert.equal(await SafetyNumber.compute(b.user, b.keys, a.user, a.keys), number.safetyNumber);
    }
  });

  test('envelopes of each kind write the recorded bodies and parse back', () => {
    const kinds = { direct: EnvelopeKind.Direct, group: EnvelopeKind.Group, keys: EnvelopeKind.Keys };
    assert.deepEqual(vectors.envelope.map((e) => kinds[e.kind]), [EnvelopeKind.Direct, EnvelopeKind.Group, EnvelopeKind.Keys]);
    for (const vector of vectors.envelope) {
      const kind = kinds[vector.kind];
      assert.equal(kind, vector.kindByte);
      const entries = vector.entries.map((e) => new EnvelopeEntry(e.user, e.device, bytes(e.message)));
      const envelope = new EncryptedEnvelope(kind, vector.senderDevice, entries, bytes(vector.groupMessage));

      assert.equal(envelope.toBody(), vector.body);

      const parsed = EncryptedEnvelope.parse(vector.body);
      assert.equal(parsed.kind, envelope.kind);
      assert.equal(parsed.senderDevice, envelope.senderDevice);
      assert.deepEqual(
        parsed.entries.map((e) => [e.user, e.device, hex(e.message)]),
        entries.map((e) => [e.user, e.device, hex(e.message)]),
      );
      assert.equal(hex(parsed.groupMessage), hex(envelope.groupMessage));
      assert.equal(parsed.toBody(), vector.body);
    }
  });
});
