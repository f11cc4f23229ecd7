import { AcceptedHandshake } from './accepted-handshake.js';
import { concat, equal } from './bytes.js';
import { DeviceIdentityKey } from './device-identity-key.js';
import { DeviceKeys } from './device-keys.js';
import type { EcKeyPair } from './ec-key-pair.js';
import { EncryptionErrorCodes } from './encryption-error-codes.js';
import { EncryptionException } from './encryption-exception.js';
import { Kdf } from './kdf.js';
import { MAX_SKIP, MAX_SKIPPED_KEYS } from './limits.js';
import { MessageCipher } from './message-cipher.js';
import { P256 } from './p256.js';
import type { PreKeyBundle } from './pre-key-bundle.js';
import { SerialQueue } from './serial-queue.js';
import { WireReader } from './wire-reader.js';
import { WireWriter } from './wire-writer.js';

const stateVersion = 1;

/** Where a session's new ratchet key pairs come from: fresh ones, or fixed ones for known-answer vectors. */
export type KeyPairSource = () => EcKeyPair | Promise<EcKeyPair>;

interface SkippedKey {
  readonly ratchetKey: Uint8Array;
  readonly number: number;
  readonly messageKey: Uint8Array;
}

interface PendingHandshake {
  readonly signedPreKeyId: number;
  readonly oneTimePreKeyId: number;
  readonly own: DeviceIdentityKey;
}

interface PreKeyMessage {
  readonly signedPreKeyId: number;
  readonly oneTimePreKeyId: number;
  readonly initiator: DeviceIdentityKey;
  readonly baseKey: Uint8Array;
  readonly message: Uint8Array;
}

const identityBytes = (identity: DeviceIdentityKey): Uint8Array => {
  const writer = new WireWriter();
  identity.writeTo(writer);
  return writer.toArray();
};

const readPreKeyMessage = (message: Uint8Array): PreKeyMessage => {
  const reader = new WireReader(message, 'prekey message');
  if (reader.byte() !== RatchetSession.preKeyMessageKind || reader.byte() !== RatchetSession.protocolVersion) throw reader.malformed();
  const signedPreKeyId = reader.uint32();
  const oneTimePreKeyId = reader.uint32();
  const identityReader = new WireReader(reader.blob(), 'device identity');
  const initiator = DeviceIdentityKey.readFrom(identityReader);
  identityReader.end();
  const baseKey = reader.fixed(P256.publicKeyLength);
  return { signedPreKeyId, oneTimePreKeyId, initiator, baseKey, message: reader.rest() };
};

/** The message keys from `from` up to (not including) `to` of the chain of `ratchetKey`, and the chain key at `to`. */
const skipTo = async (chain: Uint8Array, from: number, to: number, ratchetKey: Uint8Array): Promise<{ skipped: SkippedKey[]; chain: Uint8Array }> => {
  const result = await Kdf.skip(chain, from, to);
  return { skipped: result.skipped.map(({ number, messageKey }) => ({ ratchetKey, number, messageKey })), chain: result.chain };
};

const replayed = (message: string) => new EncryptionException(EncryptionErrorCodes.Replayed, message);

/**
 * A pairwise session between two devices: an X3DH-style handshake on P-256 followed by the Double Ratchet.
 * {@link initiate} starts one from the other device's {@link PreKeyBundle}; until the first answer arrives, every
 * message carries the handshake (a prekey message), which the other device turns into its side of the session with
 * {@link accept} (or {@link open}). Messages may arrive late, out of order or not at all: up to {@link maxSkip} keys
 * per chain are kept for late messages, at most {@link maxSkippedKeys} in all. A message that does not decrypt leaves
 * the session exactly as it was. Calls on one session run one at a time, in call order; save {@link export} after
 * every call that changes it. State moves freely between this and the .NET `RatchetSession` (same export bytes).
 */
export class RatchetSession {
  /** The most message keys one message may make the session skip in one chain. */
  static readonly maxSkip = MAX_SKIP;
  /** The most skipped message keys kept for late messages; the oldest go first. */
  static readonly maxSkippedKeys = MAX_SKIPPED_KEYS;
  /** The version byte of every message and distribution. */
  static readonly protocolVersion = 1;
  /** The first byte of a ratchet message. */
  static readonly messageKind = 1;
  /** The first byte of a prekey message. */
  static readonly preKeyMessageKind = 2;
  /** The length of a ratchet message's header: kind, version, ratchet key, previous chain length, number. */
  static readonly headerLength = 2 + P256.publicKeyLength + 4 + 4;

  /** The other device. Check it against the key directory (and safety numbers) before trusting it. */
  readonly peer: DeviceIdentityKey;
  /** The initiator's ephemeral public key: it names the handshake the session came from. */
  readonly baseKey: Uint8Array;
  /** Where the session's new ratchet key pairs come from (fresh ones unless a known-answer test fixes them). */
  newKeyPair: KeyPairSource = P256.generate;
  readonly #associatedData: Uint8Array;
  readonly #skipped: SkippedKey[];
  readonly #queue = new SerialQueue();
  #pending: PendingHandshake | null = null;
  #sendingPair: EcKeyPair;
  #receivingKey: Uint8Array | null = null;
  #rootKey: Uint8Array;
  #sendingChain: Uint8Array | null = null;
  #receivingChain: Uint8Array | null = null;
  #sent = 0;
  #received = 0;
  #previousSent = 0;

  private constructor(peer: DeviceIdentityKey, associatedData: Uint8Array, baseKey: Uint8Array, sendingPair: EcKeyPair, rootKey: Uint8Array, skipped: SkippedKey[]) {
    this.peer = peer;
    this.#associatedData = associatedData;
    this.baseKey = baseKey;
    this.#sendingPair = sendingPair;
    this.#rootKey = rootKey;
    this.#skipped = skipped;
  }

  /** Whether the other device has answered; until then each message carries the handshake. */
  get isAcknowledged(): boolean {
    return this.#pending === null;
  }

  /** How many skipped message keys the session holds for late messages. */
  get skippedKeyCount(): number {
    return this.#skipped.length;
  }

  /** Starts a session with the device of `bundle`, after checking every signature in it. */
  static async initiate(own: DeviceKeys, bundle: PreKeyBundle): Promise<RatchetSession> {
    return RatchetSession.initiateWith(own, bundle, await P256.generate(), P256.generate);
  }

  /** {@link initiate} with a given ephemeral key and ratchet key source (known-answer vectors). */
  static async initiateWith(own: DeviceKeys, bundle: PreKeyBundle, ephemeral: EcKeyPair, newKeyPair: KeyPairSource): Promise<RatchetSession> {
    await bundle.verify();
    const signedPreKey = bundle.signedPreKey.publicKey;
    const outputs = [
      await P256.agree(own.identityPair, signedPreKey),
      await P256.agree(ephemeral, bundle.identity.identityKey),
      await P256.agree(ephemeral, signedPreKey),
    ];
    if (bundle.oneTimePreKey) outputs.push(await P256.agree(ephemeral, bundle.oneTimePreKey.publicKey));
    const secret = await Kdf.handshake(outputs);
    const sendingPair = await newKeyPair();
    const { rootKey, chainKey } = await Kdf.root(secret, await P256.agree(sendingPair, signedPreKey));
    const session = new RatchetSession(bundle.identity, RatchetSession.associatedData(own.identity, bundle.identity), ephemeral.publicKey, sendingPair, rootKey, []);
    session.newKeyPair = newKeyPair;
    session.#receivingKey = signedPreKey;
    session.#sendingChain = chainKey;
    session.#pending = { signedPreKeyId: bundle.signedPreKey.id, oneTimePreKeyId: bundle.oneTimePreKey?.id ?? 0, own: own.identity };
    return session;
  }

  /**
   * Answers a prekey message from a device that started a session with this one: {@link open}, then
   * `AcceptedHandshake.complete` at once. Nothing changes when it rejects.
   */
  static async accept(own: DeviceKeys, preKeyMessage: Uint8Array): Promise<{ session: RatchetSession; plaintext: Uint8Array }> {
    return RatchetSession.acceptWith(own, preKeyMessage, P256.generate);
  }

  /** {@link accept} with a given ratchet key source (known-answer vectors). */
  static async acceptWith(own: DeviceKeys, preKeyMessage: Uint8Array, newKeyPair: KeyPairSource): Promise<{ session: RatchetSession; plaintext: Uint8Array }> {
    const accepted = await RatchetSession.openWith(own, preKeyMessage, newKeyPair);
    accepted.complete();
    return { session: accepted.session, plaintext: accepted.plaintext };
  }

  /**
   * Checks a prekey message from a device that started a session with this one (the initiator's identity signature;
   * that `own` has not answered this handshake already, which would make it a replay), makes this side of the session
   * and decrypts the message, without changing `own`. Call `AcceptedHandshake.complete` once the caller has checked
   * the result (and before saving `own`): it deletes the one-time prekey the handshake used and remembers the handshake.
   * Rejects with `EncryptionException` (`malformed`, `invalid_key`, `bad_signature`, `replayed`, `unknown_prekey`,
   * `not_authentic`).
   */
  static open(own: DeviceKeys, preKeyMessage: Uint8Array): Promise<AcceptedHandshake> {
    return RatchetSession.openWith(own, preKeyMessage, P256.generate);
  }

  /** {@link open} with a given ratchet key source (known-answer vectors). */
  static async openWith(own: DeviceKeys, preKeyMessage: Uint8Array, newKeyPair: KeyPairSource): Promise<AcceptedHandshake> {
    const handshake = readPreKeyMessage(preKeyMessage);
    await handshake.initiator.verify();
    const handshakeId = await DeviceKeys.handshakeId(handshake.baseKey);
    if (own.answered(handshake.signedPreKeyId, handshakeId)) throw replayed('This handshake was already answered: the prekey message is a replay.');
    const signedPreKey = own.signedPreKeyPair(handshake.signedPreKeyId);
    const outputs = [
      await P256.agree(signedPreKey, handshake.initiator.identityKey),
      await P256.agree(own.identityPair, handshake.baseKey),
      await P256.agree(signedPreKey, handshake.baseKey),
    ];
    if (handshake.oneTimePreKeyId !== 0) outputs.push(await P256.agree(own.oneTimePreKeyPair(handshake.oneTimePreKeyId), handshake.baseKey));
    const associatedData = RatchetSession.associatedData(handshake.initiator, own.identity);
    const session = new RatchetSession(handshake.initiator, associatedData, handshake.baseKey, signedPreKey, await Kdf.handshake(outputs), []);
    session.newKeyPair = newKeyPair;
    const plaintext = await session.#decryptMessage(handshake.message);
    return new AcceptedHandshake(session, plaintext, () => {
      if (handshake.oneTimePreKeyId !== 0) own.forgetOneTimePreKey(handshake.oneTimePreKeyId);
      own.rememberAnswered(handshake.signedPreKeyId, handshakeId);
    });
  }

  /**
   * The initiator's identity as a prekey message states it (not yet checked: check it against the sender the server
   * names and the key directory before {@link accept}), or null for an ordinary message. Throws `malformed`.
   */
  static preKeyMessageInitiator(message: Uint8Array): DeviceIdentityKey | null {
    return message.length > 0 && message[0] === RatchetSession.preKeyMessageKind ? readPreKeyMessage(message).initiator : null;
  }

  /** The base key of a prekey message (to find the session it belongs to), or null for an ordinary message. Throws `malformed`. */
  static preKeyMessageBaseKey(message: Uint8Array): Uint8Array | null {
    return message.length > 0 && message[0] === RatchetSession.preKeyMessageKind ? readPreKeyMessage(message).baseKey : null;
  }

  /** Encrypts one message for the other device. */
  encrypt(plaintext: Uint8Array): Promise<Uint8Array> {
    return this.#queue.run(async () => {
      if (!this.#sendingChain) throw new Error('The session has no sending chain.');
      const { messageKey, nextChainKey } = await Kdf.chain(this.#sendingChain);
      const header = new WireWriter()
        .byte(RatchetSession.messageKind)
        .byte(RatchetSession.protocolVersion)
        .fixed(this.#sendingPair.publicKey)
        .uint32(this.#previousSent)
        .uint32(this.#sent)
        .toArray();
      const ciphertext = await MessageCipher.encrypt(messageKey, plaintext, concat(this.#associatedData, header));
      messageKey.fill(0);
      this.#sendingChain = nextChainKey;
      this.#sent = (this.#sent + 1) >>> 0;
      const message = concat(header, ciphertext);
      const pending = this.#pending;
      if (!pending) return message;
      return new WireWriter()
        .byte(RatchetSession.preKeyMessageKind)
        .byte(RatchetSession.protocolVersion)
        .uint32(pending.signedPreKeyId)
        .uint32(pending.oneTimePreKeyId)
        .blob(identityBytes(pending.own))
        .fixed(this.baseKey)
        .fixed(message)
        .toArray();
    });
  }

  /**
   * Decrypts a message from the other device: an ordinary one, or a prekey message of this session's handshake.
   * Rejects with `EncryptionException` (and changes nothing) when it is altered (`not_authentic`), replayed
   * (`replayed`), too far ahead (`too_far_ahead`), or not a message of this session (`malformed`).
   */
  decrypt(message: Uint8Array): Promise<Uint8Array> {
    return this.#queue.run(async () => {
      if (message.length > 0 && message[0] === RatchetSession.preKeyMessageKind) {
        const handshake = readPreKeyMessage(message);
        if (!equal(handshake.baseKey, this.baseKey)) {
          throw new EncryptionException(EncryptionErrorCodes.Malformed, 'The prekey message starts another session; accept it as a new one.');
        }
        return this.#decryptMessage(handshake.message);
      }
      return this.#decryptMessage(message);
    });
  }

  /** The whole session, with its keys, for the app's session store: the same bytes as the .NET client's. Equal sessions export equal bytes. */
  export(): Uint8Array {
    const writer = new WireWriter().byte(stateVersion).blob(identityBytes(this.peer)).blob(this.#associatedData).fixed(this.baseKey);
    const pending = this.#pending;
    if (pending) writer.byte(1).uint32(pending.signedPreKeyId).uint32(pending.oneTimePreKeyId).blob(identityBytes(pending.own));
    else writer.byte(0);
    writer.fixed(this.#sendingPair.privateKey).fixed(this.#rootKey);
    for (const value of [this.#receivingKey, this.#sendingChain, this.#receivingChain]) {
      if (value) writer.byte(1).fixed(value);
      else writer.byte(0);
    }
    writer.uint32(this.#sent).uint32(this.#received).uint32(this.#previousSent).uint32(this.#skipped.length);
    for (const skipped of this.#skipped) writer.fixed(skipped.ratchetKey).uint32(skipped.number).fixed(skipped.messageKey);
    return writer.toArray();
  }

  /** Reads what {@link export} wrote (here or in the .NET client); throws `malformed` or `invalid_key`. */
  static import(state: Uint8Array): RatchetSession {
    const reader = new WireReader(state, 'ratchet session state');
    if (reader.byte() !== stateVersion) throw reader.malformed();
    const optional = (length: number) => (reader.byte() === 1 ? reader.fixed(length) : null);
    const peer = DeviceIdentityKey.readFrom(new WireReader(reader.blob(), 'device identity'));
    const associatedData = reader.blob();
    const baseKey = reader.fixed(P256.publicKeyLength);
    const pending =
      reader.byte() === 1
        ? { signedPreKeyId: reader.uint32(), oneTimePreKeyId: reader.uint32(), own: DeviceIdentityKey.readFrom(new WireReader(reader.blob(), 'device identity')) }
        : null;
    const sendingPair = P256.fromPrivate(reader.fixed(P256.privateKeyLength));
    const rootKey = reader.fixed(Kdf.keyLength);
    const receivingKey = optional(P256.publicKeyLength);
    const sendingChain = optional(Kdf.keyLength);
    const receivingChain = optional(Kdf.keyLength);
    const sent = reader.uint32();
    const received = reader.uint32();
    const previousSent = reader.uint32();
    const skipped: SkippedKey[] = [];
    for (let count = reader.uint32(); count > 0; count--) {
      skipped.push({ ratchetKey: reader.fixed(P256.publicKeyLength), number: reader.uint32(), messageKey: reader.fixed(Kdf.keyLength) });
    }
    reader.end();
    const session = new RatchetSession(peer, associatedData, baseKey, sendingPair, rootKey, skipped);
    session.#pending = pending;
    session.#receivingKey = receivingKey;
    session.#sendingChain = sendingChain;
    session.#receivingChain = receivingChain;
    session.#sent = sent;
    session.#received = received;
    session.#previousSent = previousSent;
    return session;
  }

  /** The associated data every message of a session is authenticated with: suite, then both devices' ids and keys. */
  static associatedData(initiator: DeviceIdentityKey, responder: DeviceIdentityKey): Uint8Array {
    return new WireWriter()
      .fixed(Kdf.info.handshake)
      .text(initiator.userId)
      .text(initiator.deviceId)
      .fixed(initiator.signingKey)
      .fixed(initiator.identityKey)
      .text(responder.userId)
      .text(responder.deviceId)
      .fixed(responder.signingKey)
      .fixed(responder.identityKey)
      .toArray();
  }

  // Every path computes the new state aside and assigns it only after the MAC verified: a failed decrypt changes nothing.
  async #decryptMessage(message: Uint8Array): Promise<Uint8Array> {
    const reader = new WireReader(message, 'ratchet message');
    if (reader.byte() !== RatchetSession.messageKind || reader.byte() !== RatchetSession.protocolVersion) throw reader.malformed();
    const ratchetKey = reader.fixed(P256.publicKeyLength);
    const previous = reader.uint32();
    const number = reader.uint32();
    const body = reader.rest();
    const associatedData = concat(this.#associatedData, message.subarray(0, RatchetSession.headerLength));

    const kept = this.#skipped.find((k) => k.number === number && equal(k.ratchetKey, ratchetKey));
    if (kept) {
      const plaintext = await MessageCipher.decrypt(kept.messageKey, body, associatedData);
      kept.messageKey.fill(0);
      this.#skipped.splice(this.#skipped.indexOf(kept), 1);
      this.#pending = null;
      return plaintext;
    }

    if (this.#receivingKey && this.#receivingChain && equal(ratchetKey, this.#receivingKey)) {
      if (number < this.#received) throw replayed(`Message ${number} of this chain was already decrypted, or its key was dropped.`);
      const { skipped, chain } = await skipTo(this.#receivingChain, this.#received, number, ratchetKey);
      const { messageKey, nextChainKey } = await Kdf.chain(chain);
      const plaintext = await MessageCipher.decrypt(messageKey, body, associatedData);
      this.#receivingChain = nextChainKey;
      this.#received = (number + 1) >>> 0;
      this.#keep(skipped);
      this.#pending = null;
      return plaintext;
    }

    return this.#ratchetAndDecrypt(ratchetKey, previous, number, body, associatedData);
  }

  async #ratchetAndDecrypt(ratchetKey: Uint8Array, previous: number, number: number, body: Uint8Array, associatedData: Uint8Array): Promise<Uint8Array> {
    let skipped: SkippedKey[] = [];
    if (this.#receivingChain && this.#receivingKey) {
      // Only a message of an older chain says so: its keys were used or dropped.
      if (previous < this.#received) throw replayed('The message belongs to an older chain of this session whose keys are gone.');
      ({ skipped } = await skipTo(this.#receivingChain, this.#received, previous, this.#receivingKey));
    }
    const { rootKey, chainKey: receivingChain } = await Kdf.root(this.#rootKey, await P256.agree(this.#sendingPair, ratchetKey));
    const { skipped: more, chain } = await skipTo(receivingChain, 0, number, ratchetKey);
    const { messageKey, nextChainKey } = await Kdf.chain(chain);
    const plaintext = await MessageCipher.decrypt(messageKey, body, associatedData);

    const sendingPair = await this.newKeyPair();
    const { rootKey: nextRoot, chainKey: sendingChain } = await Kdf.root(rootKey, await P256.agree(sendingPair, ratchetKey));
    this.#previousSent = this.#sent;
    this.#sent = 0;
    this.#received = (number + 1) >>> 0;
    this.#receivingKey = ratchetKey;
    this.#receivingChain = nextChainKey;
    this.#sendingPair = sendingPair;
    this.#sendingChain = sendingChain;
    this.#rootKey = nextRoot;
    this.#keep([...skipped, ...more]);
    this.#pending = null;
    return plaintext;
  }

  #keep(skipped: SkippedKey[]): void {
    this.#skipped.push(...skipped);
    const excess = this.#skipped.length - RatchetSession.maxSkippedKeys;
    if (excess > 0) {
      for (const dropped of this.#skipped.splice(0, excess)) dropped.messageKey.fill(0);
    }
  }
}
