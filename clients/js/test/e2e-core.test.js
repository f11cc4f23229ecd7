// Behaviour of the end-to-end encryption core in dist/e2e.js: handshakes, the ratchet, sender keys, safety numbers and
// envelopes, with the failure semantics of the .NET implementation (a refused message leaves the state byte for byte
// as it was, with the same error code).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DeviceIdentityKey,
  DeviceKeys,
  EncryptedBody,
  EncryptedEnvelope,
  EncryptionErrorCodes,
  EncryptionException,
  EnvelopeEntry,
  EnvelopeKind,
  P256,
  PreKeyBundle,
  RatchetSession,
  SafetyNumber,
  SenderKeyChain,
  SenderKeyReceiver,
  SignedPreKey,
} from '../dist/e2e.js';

const text = (value) => new TextEncoder().encode(value);
const read = (value) => new TextDecoder().decode(value);
const hex = (value) => Buffer.from(value).toString('hex');

/** Asserts that `promise` rejects with an EncryptionException of `code`. */
async function rejectsWith(promise, code) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof EncryptionException, `expected an EncryptionException, got ${error}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

/** Asserts that `run` throws an EncryptionException of `code` synchronously. */
function throwsWith(run, code) {
  assert.throws(run, (error) => error instanceof EncryptionException && error.code === code);
}

async function bundleOf(device, withOneTimePreKey = true) {
  return new PreKeyBundle(device.identity, device.signedPreKey, withOneTimePreKey ? (await device.generateOneTimePreKeys(1))[0] : null);
}

/** Alice starts a session with Bob and Bob accepts her first message; both sides are ready. */
async function pair() {
  const aliceKeys = await DeviceKeys.create('alice', 'phone');
  const bobKeys = await DeviceKeys.create('bob', 'laptop');
  const alice = await RatchetSession.initiate(aliceKeys, await bundleOf(bobKeys));
  const { session: bob, plaintext } = await RatchetSession.accept(bobKeys, await alice.encrypt(text('hello')));
  assert.equal(read(plaintext), 'hello');
  return { alice, bob, aliceKeys, bobKeys };
}

describe('handshake', () => {
  test('a full X3DH and ratchet conversation between two devices', async () => {
    const aliceKeys = await DeviceKeys.create('alice', 'phone');
    const bobKeys = await DeviceKeys.create('bob', 'laptop');
    const alice = await RatchetSession.initiate(aliceKeys, await bundleOf(bobKeys));
    assert.equal(alice.isAcknowledged, false);

    const first = await alice.encrypt(text('hi bob'));
    const second = await alice.encrypt(text('are you there?'));
    assert.equal(first[0], RatchetSession.preKeyMessageKind);
    assert.equal(second[0], RatchetSession.preKeyMessageKind, 'every message carries the handshake until the first answer');
    assert.ok(RatchetSession.preKeyMessageInitiator(first).sameKeysAs(aliceKeys.identity));
    assert.equal(hex(RatchetSession.preKeyMessageBaseKey(first)), hex(alice.baseKey));

    const accepted = await RatchetSession.accept(bobKeys, first);
    const bob = accepted.session;
    assert.equal(read(accepted.plaintext), 'hi bob');
    assert.ok(bob.peer.sameKeysAs(aliceKeys.identity));
    assert.equal(read(await bob.decrypt(second)), 'are you there?');

    assert.equal(read(await alice.decrypt(await bob.encrypt(text('yes')))), 'yes');
    assert.equal(alice.isAcknowledged, true);
    const after = await alice.encrypt(text('good'));
    assert.equal(after[0], RatchetSession.messageKind);
    assert.equal(read(await bob.decrypt(after)), 'good');
    for (let round = 0; round < 5; round++) {
      assert.equal(read(await bob.decrypt(await alice.encrypt(text(`a${round}`)))), `a${round}`);
      assert.equal(read(await bob.decrypt(await alice.encrypt(text(`a${round}'`)))), `a${round}'`);
      assert.equal(read(await alice.decrypt(await bob.encrypt(text(`b${round}`)))), `b${round}`);
    }
  });

  test('a handshake without a one-time prekey works', async () => {
    const aliceKeys = await DeviceKeys.create('alice', 'phone');
    const bobKeys = await DeviceKeys.create('bob', 'laptop');
    const alice = await RatchetSession.initiate(aliceKeys, await bundleOf(bobKeys, false));
    const { session: bob, plaintext } = await RatchetSession.accept(bobKeys, await alice.encrypt(text('no otpk')));
    assert.equal(read(plaintext), 'no otpk');
    assert.equal(read(await alice.decrypt(await bob.encrypt(text('fine')))), 'fine');
  });

  test('an opened handshake changes the device only when completed, and a replay is refused after', async () => {
    const aliceKeys = await DeviceKeys.create('alice', 'phone');
    const bobKeys = await DeviceKeys.create('bob', 'laptop');
    const alice = await RatchetSession.initiate(aliceKeys, await bundleOf(bobKeys));
    const message = await alice.encrypt(text('once'));
    const before = hex(bobKeys.export());

    const opened = await RatchetSession.open(bobKeys, message);
    assert.equal(read(opened.plaintext), 'once');
    assert.equal(hex(bobKeys.export()), before);
    assert.equal(bobKeys.oneTimePreKeyCount, 1);

    opened.complete();
    opened.complete();
    assert.notEqual(hex(bobKeys.export()), before);
    assert.equal(bobKeys.oneTimePreKeyCount, 0);
    await rejectsWith(RatchetSession.accept(bobKeys, message), EncryptionErrorCodes.Replayed);
  });

  test('a replayed handshake without a one-time prekey is refused', async () => {
    const aliceKeys = await DeviceKeys.create('alice', 'phone');
    const bobKeys = await DeviceKeys.create('bob', 'laptop');
    const alice = await RatchetSession.initiate(aliceKeys, await bundleOf(bobKeys, false));
    const message = await alice.encrypt(text('once'));
    await RatchetSession.accept(bobKeys, message);
    const before = hex(bobKeys.export());
    await rejectsWith(RatchetSession.accept(bobKeys, message), EncryptionErrorCodes.Replayed);
    assert.equal(hex(bobKeys.export()), before);
  });

  test('a one-time prekey serves one handshake only', async () => {
    const bobKeys = await DeviceKeys.create('bob', 'laptop');
    const bundle = await bundleOf(bobKeys);
    const first = await RatchetSession.initiate(await DeviceKeys.create('alice', 'phone'), bundle);
    const second = await RatchetSession.initiate(await DeviceKeys.create('carol', 'tablet'), bundle);
    await RatchetSession.accept(bobKeys, await first.encrypt(text('first')));
    await rejectsWith(RatchetSession.accept(bobKeys, await second.encrypt(text('second'))), EncryptionErrorCodes.UnknownPreKey);
  });

  test('a failed handshake keeps the one-time prekey', async () => {
    const aliceKeys = await DeviceKeys.create('alice', 'phone');
    const bobKeys = await DeviceKeys.create('bob', 'laptop');
    const alice = await RatchetSession.initiate(aliceKeys, await bundleOf(bobKeys));
    const message = await alice.encrypt(text('tamper me'));
    const tampered = message.slice();
    tampered[tampered.length - 1] ^= 1;
    const before = hex(bobKeys.export());
    await rejectsWith(RatchetSession.accept(bobKeys, tampered), EncryptionErrorCodes.NotAuthentic);
    assert.equal(hex(bobKeys.export()), before);
    assert.equal(read((await RatchetSession.accept(bobKeys, message)).plaintext), 'tamper me');
  });

  test('a bad identity or signed prekey signature fails the handshake', async () => {
    const aliceKeys = await DeviceKeys.create('alice', 'phone');
    const bobKeys = await DeviceKeys.create('bob', 'laptop');
    const { identity, signedPreKey } = bobKeys;
    const renamed = new DeviceIdentityKey('mallory', identity.deviceId, identity.signingKey, identity.identityKey, identity.signature);
    await rejectsWith(RatchetSession.initiate(aliceKeys, new PreKeyBundle(renamed, signedPreKey, null)), EncryptionErrorCodes.BadSignature);
    const forged = signedPreKey.signature.slice();
    forged[10] ^= 1;
    const badPreKey = new SignedPreKey(signedPreKey.id, signedPreKey.publicKey, forged);
    await rejectsWith(RatchetSession.initiate(aliceKeys, new PreKeyBundle(identity, badPreKey, null)), EncryptionErrorCodes.BadSignature);
  });

  test('a signing key off the curve, or compressed, is an invalid key', async () => {
    const bobKeys = await DeviceKeys.create('bob', 'laptop');
    const { identity } = bobKeys;
    const offCurve = identity.signingKey.slice();
    offCurve[64] ^= 1;
    const compressed = new Uint8Array([2, ...identity.signingKey.subarray(1, 33)]);
    for (const key of [offCurve, compressed, new Uint8Array(65)]) {
      const bad = new DeviceIdentityKey(identity.userId, identity.deviceId, key, identity.identityKey, identity.signature);
      await rejectsWith(bad.verify(), EncryptionErrorCodes.InvalidKey);
    }
  });

  test('a handshake for another device fails', async () => {
    const aliceKeys = await DeviceKeys.create('alice', 'phone');
    const bobKeys = await DeviceKeys.create('bob', 'laptop');
    const carolKeys = await DeviceKeys.create('carol', 'tablet');
    const alice = await RatchetSession.initiate(aliceKeys, await bundleOf(bobKeys, false));
    await assert.rejects(RatchetSession.accept(carolKeys, await alice.encrypt(text('for bob'))), EncryptionException);
  });

  test('a device keeps at most maxOneTimePreKeys, dropping the lowest ids', async () => {
    const device = await DeviceKeys.create('bob', 'laptop');
    const made = await device.generateOneTimePreKeys(DeviceKeys.maxOneTimePreKeys + 3);
    assert.equal(device.oneTimePreKeyCount, DeviceKeys.maxOneTimePreKeys);
    const alice = await DeviceKeys.create('alice', 'phone');
    const dropped = await RatchetSession.initiate(alice, new PreKeyBundle(device.identity, device.signedPreKey, made[0]));
    await rejectsWith(RatchetSession.accept(device, await dropped.encrypt(text('old'))), EncryptionErrorCodes.UnknownPreKey);
    const kept = await RatchetSession.initiate(alice, new PreKeyBundle(device.identity, device.signedPreKey, made[3]));
    assert.equal(read((await RatchetSession.accept(device, await kept.encrypt(text('new')))).plaintext), 'new');
  });

  test('handshakes in flight survive rotations that keep their signed prekey', async () => {
    let now = 1_000;
    const bobKeys = await DeviceKeys.create('bob', 'laptop', () => now);
    assert.equal(bobKeys.signedPreKeyCreatedAt, 1_000);
    const alice = await RatchetSession.initiate(await DeviceKeys.create('alice', 'phone'), await bundleOf(bobKeys, false));
    const message = await alice.encrypt(text('in flight'));
    for (let i = 0; i < DeviceKeys.keptSignedPreKeys; i++) {
      now += 1_000;
      await bobKeys.rotateSignedPreKey(() => now);
    }
    assert.equal(bobKeys.signedPreKeyCreatedAt, now);
    assert.equal(read((await RatchetSession.open(bobKeys, message)).plaintext), 'in flight');
    await bobKeys.rotateSignedPreKey(() => now);
    await rejectsWith(RatchetSession.open(bobKeys, message), EncryptionErrorCodes.UnknownPreKey);
  });

  test('device keys survive export and import, byte for byte', async () => {
    const bobKeys = await DeviceKeys.create('bob', 'laptop');
    await bobKeys.generateOneTimePreKeys(3);
    await bobKeys.rotateSignedPreKey();
    const alice = await RatchetSession.initiate(await DeviceKeys.create('alice', 'phone'), await bundleOf(bobKeys));
    const message = await alice.encrypt(text('after import'));

    const restored = DeviceKeys.import(bobKeys.export());

    assert.equal(hex(restored.export()), hex(bobKeys.export()));
    assert.ok(restored.identity.sameKeysAs(bobKeys.identity));
    assert.equal(restored.oneTimePreKeyCount, 4);
    assert.equal(read((await RatchetSession.accept(restored, message)).plaintext), 'after import');
    await rejectsWith(RatchetSession.accept(DeviceKeys.import(restored.export()), message), EncryptionErrorCodes.Replayed);
  });

  test('corrupt device state is refused', async () => {
    const state = (await DeviceKeys.create('bob', 'laptop')).export();
    throwsWith(() => DeviceKeys.import(state.subarray(0, state.length - 1)), EncryptionErrorCodes.Malformed);
    throwsWith(() => DeviceKeys.import(new Uint8Array([...state, 0])), EncryptionErrorCodes.Malformed);
    throwsWith(() => DeviceKeys.import(new Uint8Array([2, ...state.subarray(1)])), EncryptionErrorCodes.Malformed);
  });
});

describe('ratchet', () => {
  test('out-of-order delivery across chains decrypts every message once', async () => {
    const { alice, bob } = await pair();
    const a1 = await alice.encrypt(text('a1'));
    const a2 = await alice.encrypt(text('a2'));
    const a3 = await alice.encrypt(text('a3'));
    assert.equal(read(await bob.decrypt(a3)), 'a3');
    assert.equal(bob.skippedKeyCount, 2);
    const b1 = await bob.encrypt(text('b1'));
    assert.equal(read(await alice.decrypt(b1)), 'b1');
    const a4 = await alice.encrypt(text('a4'));
    assert.equal(read(await bob.decrypt(a4)), 'a4');
    assert.equal(read(await bob.decrypt(a1)), 'a1');
    assert.equal(read(await bob.decrypt(a2)), 'a2');
    assert.equal(bob.skippedKeyCount, 0);
    for (const replay of [a1, a2, a3, a4]) await rejectsWith(bob.decrypt(replay), EncryptionErrorCodes.Replayed);
  });

  test('a gap over maxSkip is refused and changes nothing', async () => {
    const { alice, bob } = await pair();
    for (let i = 0; i <= RatchetSession.maxSkip; i++) await alice.encrypt(text('lost'));
    const tooFar = await alice.encrypt(text('too far'));
    const before = hex(bob.export());
    await rejectsWith(bob.decrypt(tooFar), EncryptionErrorCodes.TooFarAhead);
    assert.equal(hex(bob.export()), before);
  });

  test('a tampered message is refused and leaves the state byte for byte unchanged', async () => {
    const { alice, bob } = await pair();
    await bob.decrypt(await alice.encrypt(text('one')));
    await alice.decrypt(await bob.encrypt(text('two')));
    const message = await alice.encrypt(text('three'));
    const before = hex(bob.export());
    for (let i = 0; i < message.length; i++) {
      const tampered = message.slice();
      tampered[i] ^= 0x01;
      await assert.rejects(bob.decrypt(tampered), EncryptionException, `byte ${i}`);
      assert.equal(hex(bob.export()), before, `byte ${i}`);
      if (i >= RatchetSession.headerLength) await rejectsWith(bob.decrypt(tampered), EncryptionErrorCodes.NotAuthentic);
    }
    assert.equal(read(await bob.decrypt(message)), 'three');
  });

  test('a replayed message is refused and leaves the state byte for byte unchanged', async () => {
    const { alice, bob } = await pair();
    const inOrder = await alice.encrypt(text('in order'));
    const late = await alice.encrypt(text('late'));
    const ahead = await alice.encrypt(text('ahead'));
    await bob.decrypt(inOrder);
    await bob.decrypt(ahead);
    await bob.decrypt(late);
    const before = hex(bob.export());
    for (const replay of [inOrder, late, ahead]) {
      await rejectsWith(bob.decrypt(replay), EncryptionErrorCodes.Replayed);
      assert.equal(hex(bob.export()), before);
    }
  });

  test('a relabelled message (other number, other session, other handshake) is refused and changes nothing', async () => {
    const { alice, bob } = await pair();
    const other = await pair();
    await alice.decrypt(await bob.encrypt(text('answer')));
    const message = await alice.encrypt(text('numbered'));
    assert.equal(message[0], RatchetSession.messageKind);
    const before = hex(bob.export());

    const renumbered = message.slice();
    renumbered[RatchetSession.headerLength - 1] += 1;
    await rejectsWith(bob.decrypt(renumbered), EncryptionErrorCodes.NotAuthentic);
    const previous = message.slice();
    previous[2 + 65 + 3] += 1;
    await rejectsWith(bob.decrypt(previous), EncryptionErrorCodes.NotAuthentic);
    await rejectsWith(other.bob.decrypt(message), EncryptionErrorCodes.NotAuthentic);

    const fresh = await RatchetSession.initiate(other.aliceKeys, await bundleOf(other.bobKeys));
    await rejectsWith(bob.decrypt(await fresh.encrypt(text('another handshake'))), EncryptionErrorCodes.Malformed);
    assert.equal(hex(bob.export()), before);
    assert.equal(read(await bob.decrypt(message)), 'numbered');
  });

  test('garbage and truncated messages are malformed', async () => {
    const { alice, bob } = await pair();
    const message = await alice.encrypt(text('whole'));
    await rejectsWith(bob.decrypt(new Uint8Array()), EncryptionErrorCodes.Malformed);
    await rejectsWith(bob.decrypt(message.subarray(0, 40)), EncryptionErrorCodes.Malformed);
    await rejectsWith(bob.decrypt(new Uint8Array([9, 1, 2])), EncryptionErrorCodes.Malformed);
    await rejectsWith(bob.decrypt(message.subarray(0, message.length - 1)), EncryptionErrorCodes.Malformed);
  });

  test('an exported session goes on where it left off, mid-conversation', async () => {
    const { alice, bob } = await pair();
    await alice.decrypt(await bob.encrypt(text('answer')));
    const late = await alice.encrypt(text('late'));
    await bob.decrypt(await alice.encrypt(text('now')));

    const restored = RatchetSession.import(bob.export());
    const restoredAlice = RatchetSession.import(alice.export());

    assert.equal(hex(restored.export()), hex(bob.export()));
    assert.equal(restored.skippedKeyCount, 1);
    assert.ok(restored.peer.sameKeysAs(bob.peer));
    assert.equal(read(await restored.decrypt(late)), 'late');
    assert.equal(read(await restoredAlice.decrypt(await restored.encrypt(text('reply')))), 'reply');
    assert.equal(read(await restored.decrypt(await restoredAlice.encrypt(text('and on')))), 'and on');
  });

  test('a session imported before the first answer still sends the handshake', async () => {
    const aliceKeys = await DeviceKeys.create('alice', 'phone');
    const bobKeys = await DeviceKeys.create('bob', 'laptop');
    const alice = RatchetSession.import((await RatchetSession.initiate(aliceKeys, await bundleOf(bobKeys))).export());
    assert.equal(alice.isAcknowledged, false);
    const { plaintext } = await RatchetSession.accept(bobKeys, await alice.encrypt(text('restored')));
    assert.equal(read(plaintext), 'restored');
  });

  test('corrupt session state is refused', async () => {
    const { bob } = await pair();
    const state = bob.export();
    throwsWith(() => RatchetSession.import(state.subarray(0, state.length - 1)), EncryptionErrorCodes.Malformed);
    throwsWith(() => RatchetSession.import(new Uint8Array([...state, 0])), EncryptionErrorCodes.Malformed);
  });

  test('overlapping calls run one at a time, so no message key is used twice', async () => {
    const { alice, bob } = await pair();
    const messages = await Promise.all(['m0', 'm1', 'm2', 'm3'].map((m) => alice.encrypt(text(m))));
    assert.equal(new Set(messages.map(hex)).size, 4);
    const plaintexts = await Promise.all([...messages].reverse().map((m) => bob.decrypt(m)));
    assert.deepEqual(plaintexts.map(read), ['m3', 'm2', 'm1', 'm0']);
    assert.equal(bob.skippedKeyCount, 0);
  });
});

describe('sender keys', () => {
  async function group() {
    const chain = await SenderKeyChain.create('room-1');
    const receiver = SenderKeyReceiver.fromDistribution(chain.distribution());
    return { chain, receiver };
  }

  test('late messages decrypt with skipped keys and replays are refused without changing the receiver', async () => {
    const { chain, receiver } = await group();
    const m0 = await chain.encrypt(text('m0'));
    const m1 = await chain.encrypt(text('m1'));
    const m2 = await chain.encrypt(text('m2'));
    assert.equal(chain.iteration, 3);
    assert.equal(read(await receiver.decrypt(m2)), 'm2');
    assert.equal(receiver.skippedKeyCount, 2);
    assert.equal(read(await receiver.decrypt(m0)), 'm0');
    const before = hex(receiver.export());
    await rejectsWith(receiver.decrypt(m0), EncryptionErrorCodes.Replayed);
    await rejectsWith(receiver.decrypt(m2), EncryptionErrorCodes.Replayed);
    assert.equal(hex(receiver.export()), before);
    assert.equal(read(await receiver.decrypt(m1)), 'm1');
    assert.equal(receiver.skippedKeyCount, 0);
  });

  test('a forged signature is refused and changes nothing; a holder of the chain key cannot sign as the sender', async () => {
    const { chain, receiver } = await group();
    const message = await chain.encrypt(text('signed'));
    const before = hex(receiver.export());
    const forged = message.slice();
    forged[forged.length - 1] ^= 1;
    await rejectsWith(receiver.decrypt(forged), EncryptionErrorCodes.BadSignature);
    const altered = message.slice();
    altered[30] ^= 1;
    await rejectsWith(receiver.decrypt(altered), EncryptionErrorCodes.BadSignature);

    // Another member knows the chain key: it can encrypt, but signs with its own key.
    const chainKeyAt = 2 + 2 + chain.roomId.length + SenderKeyChain.keyIdLength + 4;
    const chainKey = chain.distribution().subarray(chainKeyAt, chainKeyAt + 32);
    const impostor = SenderKeyChain.createWith(chain.roomId, chain.keyId, chainKey, await P256.generate());
    await rejectsWith(receiver.decrypt(await impostor.encrypt(text('forged'))), EncryptionErrorCodes.BadSignature);
    assert.equal(hex(receiver.export()), before);
    assert.equal(read(await receiver.decrypt(message)), 'signed');
  });

  test('a message of another sender key, or too far ahead, is refused', async () => {
    const { chain, receiver } = await group();
    const other = await SenderKeyChain.create('room-1');
    await rejectsWith(receiver.decrypt(await other.encrypt(text('other'))), EncryptionErrorCodes.UnknownSenderKey);
    for (let i = 0; i <= RatchetSession.maxSkip; i++) await chain.encrypt(text('lost'));
    await rejectsWith(receiver.decrypt(await chain.encrypt(text('too far'))), EncryptionErrorCodes.TooFarAhead);
    await rejectsWith(receiver.decrypt(new Uint8Array(10)), EncryptionErrorCodes.Malformed);
  });

  test('sender keys survive export and import', async () => {
    const { chain, receiver } = await group();
    const late = await chain.encrypt(text('late'));
    await receiver.decrypt(await chain.encrypt(text('now')));
    const restoredChain = SenderKeyChain.import(chain.export());
    const restoredReceiver = SenderKeyReceiver.import(receiver.export());
    assert.equal(hex(restoredChain.export()), hex(chain.export()));
    assert.equal(hex(restoredReceiver.export()), hex(receiver.export()));
    assert.equal(hex(restoredChain.distribution()), hex(chain.distribution()));
    assert.equal(read(await restoredReceiver.decrypt(late)), 'late');
    assert.equal(read(await restoredReceiver.decrypt(await restoredChain.encrypt(text('after')))), 'after');
  });

  test('a distribution with a signing key off the curve is an invalid key', async () => {
    const distribution = (await SenderKeyChain.create('room-1')).distribution();
    distribution[distribution.length - 1] ^= 1;
    throwsWith(() => SenderKeyReceiver.fromDistribution(distribution), EncryptionErrorCodes.InvalidKey);
  });
});

describe('safety numbers', () => {
  test('both sides compute the same sixty digits, which change with a device', async () => {
    const alice = [(await DeviceKeys.create('alice', 'phone')).identity.signingKey, (await DeviceKeys.create('alice', 'laptop')).identity.signingKey];
    const bob = [(await DeviceKeys.create('bob', 'phone')).identity.signingKey];
    const seenByAlice = await SafetyNumber.compute('alice', alice, 'bob', bob);
    const seenByBob = await SafetyNumber.compute('bob', bob, 'alice', [...alice].reverse());
    assert.match(seenByAlice, /^\d{60}$/);
    assert.equal(seenByBob, seenByAlice);
    assert.notEqual(await SafetyNumber.compute('alice', alice.slice(0, 1), 'bob', bob), seenByAlice);
  });

  test('a key that is not a P-256 point is refused', async () => {
    await rejectsWith(SafetyNumber.fingerprint('alice', [new Uint8Array(65)]), EncryptionErrorCodes.InvalidKey);
  });
});

describe('private keys', () => {
  test('a scalar that is zero, not below the order, or not 32 bytes is an invalid key', () => {
    const order = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
    for (const d of [new Uint8Array(32), new Uint8Array(order), new Uint8Array(31)]) throwsWith(() => P256.fromPrivate(d), EncryptionErrorCodes.InvalidKey);
  });
});

describe('envelopes', () => {
  test('an envelope round-trips through its body and finds the entry for a device', () => {
    const envelope = new EncryptedEnvelope(EnvelopeKind.Direct, 'phone', [new EnvelopeEntry('bob', 'laptop', new Uint8Array([1, 2, 3]))], new Uint8Array());
    const parsed = EncryptedEnvelope.parse(envelope.toBody());
    assert.ok(envelope.toBody().startsWith(EncryptedBody.prefix));
    assert.equal(hex(parsed.for('bob', 'laptop').message), '010203');
    assert.equal(parsed.for('bob', 'phone'), null);
  });

  test('malformed bodies are refused with the malformed code', () => {
    const valid = new EncryptedEnvelope(EnvelopeKind.Group, 'phone', [], new Uint8Array([7])).toBody();
    const payload = Buffer.from(valid.slice(EncryptedBody.prefix.length), 'base64url');
    const body = (bytes) => EncryptedBody.prefix + Buffer.from(bytes).toString('base64url');
    for (const bad of [
      'hello',
      'e2e1:!!!!',
      'e2e1:A',
      '',
      body([]),
      body([9, ...payload.subarray(1)]),
      body(payload.subarray(0, payload.length - 1)),
      body([...payload, 0]),
      body([1, 0, 0, 0xff, 0xff, 0xff, 0xff]),
    ]) {
      throwsWith(() => EncryptedEnvelope.parse(bad), EncryptionErrorCodes.Malformed);
    }
  });
});
