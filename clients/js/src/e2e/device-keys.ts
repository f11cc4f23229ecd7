import { equal, source, subtle } from './bytes.js';
import { DeviceIdentityKey } from './device-identity-key.js';
import type { EcKeyPair } from './ec-key-pair.js';
import { EncryptionErrorCodes } from './encryption-error-codes.js';
import { EncryptionException } from './encryption-exception.js';
import { OneTimePreKey } from './one-time-pre-key.js';
import { P256 } from './p256.js';
import { SerialQueue } from './serial-queue.js';
import { SignedPreKey } from './signed-pre-key.js';
import { WireReader } from './wire-reader.js';
import { WireWriter } from './wire-writer.js';

const stateVersion = 1;
const handshakeIdLength = 16;

interface KeptSignedPreKey {
  key: SignedPreKey;
  pair: EcKeyPair;
  createdAtMs: bigint;
}

/**
 * The private keys of one device: its signing and identity key pairs, its signed prekeys (the current one and the few
 * before it, kept so handshakes in flight still complete after a rotation) and its unused one-time prekeys. Its async
 * methods run one at a time; the owner saves {@link export} after each change, and serializes
 * `RatchetSession.open` / `AcceptedHandshake.complete` pairs on the same device (as the .NET client does).
 */
export class DeviceKeys {
  /** How many replaced signed prekeys are kept for handshakes still in flight. */
  static readonly keptSignedPreKeys = 2;

  /**
   * The most one-time prekeys whose private halves are kept; past it the lowest ids (the oldest, which the directory
   * hands out first) go, so keys claimed by handshakes that never arrive do not pile up.
   */
  static readonly maxOneTimePreKeys = 1000;

  /** How many answered handshakes are remembered per signed prekey, to refuse a replayed one; the oldest go first. */
  static readonly rememberedHandshakes = 5000;

  /** The device's public identity, to publish. */
  readonly identity: DeviceIdentityKey;
  readonly #signing: EcKeyPair;
  readonly #identity: EcKeyPair;
  readonly #signedPreKeys: KeptSignedPreKey[];
  readonly #oneTimePreKeys: Map<number, EcKeyPair>;
  readonly #answered = new Map<number, Uint8Array[]>();
  readonly #queue = new SerialQueue();
  #nextPreKeyId: number;

  private constructor(
    identity: DeviceIdentityKey,
    signing: EcKeyPair,
    identityPair: EcKeyPair,
    signedPreKeys: KeptSignedPreKey[],
    oneTimePreKeys: Map<number, EcKeyPair>,
    nextPreKeyId: number,
  ) {
    this.identity = identity;
    this.#signing = signing;
    this.#identity = identityPair;
    this.#signedPreKeys = signedPreKeys;
    this.#oneTimePreKeys = oneTimePreKeys;
    this.#nextPreKeyId = nextPreKeyId;
  }

  /** The signed prekey to publish now. */
  get signedPreKey(): SignedPreKey {
    return this.#signedPreKeys[0]!.key;
  }

  /** When the current signed prekey was made (milliseconds since the Unix epoch, as `now` gave it), to decide when to rotate it. */
  get signedPreKeyCreatedAt(): number {
    return Number(this.#signedPreKeys[0]!.createdAtMs);
  }

  /** How many one-time prekeys this device still holds the private half of. */
  get oneTimePreKeyCount(): number {
    return this.#oneTimePreKeys.size;
  }

  /** The identity key pair (handshakes). */
  get identityPair(): EcKeyPair {
    return this.#identity;
  }

  /** The signing key pair. */
  get signingPair(): EcKeyPair {
    return this.#signing;
  }

  /**
   * Makes a new device with fresh keys and a first signed prekey.
   * @param now the current time in milliseconds since the Unix epoch (tests pass a fake clock).
   */
  static async create(userId: string, deviceId: string, now: () => number = Date.now): Promise<DeviceKeys> {
    if (!userId) throw new RangeError('userId is required.');
    if (!deviceId) throw new RangeError('deviceId is required.');
    const [signing, identity, signedPreKey] = [await P256.generate(), await P256.generate(), await P256.generate()];
    const identityKey = new DeviceIdentityKey(userId, deviceId, signing.publicKey, identity.publicKey, await P256.sign(signing, DeviceIdentityKey.signedBytes(userId, deviceId, identity.publicKey)));
    const keys = new DeviceKeys(identityKey, signing, identity, [], new Map(), 1);
    await keys.#addSignedPreKey(signedPreKey, now());
    return keys;
  }

  /** Replaces the signed prekey with a new one (publish it afterwards); the last {@link keptSignedPreKeys} are kept. */
  rotateSignedPreKey(now: () => number = Date.now): Promise<SignedPreKey> {
    return this.#queue.run(async () => {
      await this.#addSignedPreKey(await P256.generate(), now());
      return this.signedPreKey;
    });
  }

  /** Makes `count` new one-time prekeys (publish them afterwards). */
  async generateOneTimePreKeys(count: number): Promise<OneTimePreKey[]> {
    if (!Number.isInteger(count) || count <= 0) throw new RangeError('count must be a positive integer.');
    return this.#queue.run(async () => {
      const pairs: EcKeyPair[] = [];
      for (let i = 0; i < count; i++) pairs.push(await P256.generate());
      return pairs.map((pair) => this.addOneTimePreKey(pair));
    });
  }

  /** The device's state with every private key, for the app's session store: the same bytes as the .NET client's. Keep it as secret as the keys. */
  export(): Uint8Array {
    const writer = new WireWriter().byte(stateVersion);
    this.identity.writeTo(writer);
    writer.fixed(this.#signing.privateKey).fixed(this.#identity.privateKey).uint32(this.#nextPreKeyId).uint32(this.#signedPreKeys.length);
    for (const { key, pair, createdAtMs } of this.#signedPreKeys) {
      writer.uint32(key.id).fixed(pair.privateKey).fixed(key.signature).int64(createdAtMs);
    }
    const oneTimeIds = [...this.#oneTimePreKeys.keys()].sort((a, b) => a - b);
    writer.uint32(oneTimeIds.length);
    for (const id of oneTimeIds) writer.uint32(id).fixed(this.#oneTimePreKeys.get(id)!.privateKey);
    const answeredIds = [...this.#answered.keys()].sort((a, b) => a - b);
    writer.uint32(answeredIds.length);
    for (const id of answeredIds) {
      const handshakes = this.#answered.get(id)!;
      writer.uint32(id).uint32(handshakes.length);
      for (const handshake of handshakes) writer.fixed(handshake);
    }
    return writer.toArray();
  }

  /** Reads what {@link export} wrote (here or in the .NET client); throws `malformed` or `invalid_key`. */
  static import(state: Uint8Array): DeviceKeys {
    const reader = new WireReader(state, 'device key state');
    if (reader.byte() !== stateVersion) throw reader.malformed();
    const identity = DeviceIdentityKey.readFrom(reader);
    const signing = P256.fromPrivate(reader.fixed(32));
    const identityPair = P256.fromPrivate(reader.fixed(32));
    const nextId = reader.uint32();
    const signed: KeptSignedPreKey[] = [];
    for (let count = reader.uint32(); count > 0; count--) {
      const id = reader.uint32();
      const pair = P256.fromPrivate(reader.fixed(32));
      const signature = reader.fixed(P256.signatureLength);
      const createdAtMs = reader.int64();
      signed.push({ key: new SignedPreKey(id, pair.publicKey, signature), pair, createdAtMs });
    }
    const oneTime = new Map<number, EcKeyPair>();
    for (let count = reader.uint32(); count > 0; count--) {
      const id = reader.uint32();
      oneTime.set(id, P256.fromPrivate(reader.fixed(32)));
    }
    const answered = new Map<number, Uint8Array[]>();
    for (let count = reader.uint32(); count > 0; count--) {
      const id = reader.uint32();
      const handshakes: Uint8Array[] = [];
      for (let n = reader.uint32(); n > 0; n--) handshakes.push(reader.fixed(handshakeIdLength));
      answered.set(id, handshakes);
    }
    reader.end();
    if (signed.length === 0 || !equal(identity.signingKey, signing.publicKey) || !equal(identity.identityKey, identityPair.publicKey)) {
      throw reader.malformed();
    }
    const keys = new DeviceKeys(identity, signing, identityPair, signed, oneTime, nextId);
    for (const [id, handshakes] of answered) keys.#answered.set(id, handshakes);
    return keys;
  }

  /**
   * A device from given parts, signatures included (known-answer vectors: ECDSA signatures are randomized). Not for
   * apps: {@link create} and {@link import} make devices.
   */
  static restore(
    identity: DeviceIdentityKey,
    signing: EcKeyPair,
    identityPair: EcKeyPair,
    signedPreKeys: Iterable<{ key: SignedPreKey; pair: EcKeyPair }>,
    oneTimePreKeys: Iterable<{ id: number; pair: EcKeyPair }>,
    createdAtMs: number,
  ): DeviceKeys {
    const signed = [...signedPreKeys].map(({ key, pair }) => ({ key, pair, createdAtMs: BigInt(Math.trunc(createdAtMs)) }));
    if (signed.length === 0) throw new RangeError('A device has at least one signed prekey.');
    const oneTime = new Map([...oneTimePreKeys].sort((a, b) => a.id - b.id).map(({ id, pair }) => [id, pair]));
    const next = Math.max(...signed.map((k) => k.key.id), ...oneTime.keys(), 0) + 1;
    return new DeviceKeys(identity, signing, identityPair, signed, oneTime, next);
  }

  /** Adds a one-time prekey under the next id, dropping the oldest past {@link maxOneTimePreKeys}. */
  addOneTimePreKey(pair: EcKeyPair): OneTimePreKey {
    const id = this.#takeId();
    this.#oneTimePreKeys.set(id, pair);
    while (this.#oneTimePreKeys.size > DeviceKeys.maxOneTimePreKeys) {
      const oldest = Math.min(...this.#oneTimePreKeys.keys());
      this.#oneTimePreKeys.get(oldest)!.privateKey.fill(0);
      this.#oneTimePreKeys.delete(oldest);
    }
    return new OneTimePreKey(id, pair.publicKey);
  }

  /** The 16-byte name a handshake is remembered by: the start of SHA-256 of its base key. */
  static async handshakeId(baseKey: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(await subtle().digest('SHA-256', source(baseKey))).slice(0, handshakeIdLength);
  }

  /** Whether the handshake ({@link handshakeId}) was already answered under the signed prekey (a replay). */
  answered(signedPreKeyId: number, handshakeId: Uint8Array): boolean {
    return this.#answered.get(signedPreKeyId)?.some((h) => equal(h, handshakeId)) ?? false;
  }

  /** Remembers an answered handshake ({@link handshakeId}); the oldest past {@link rememberedHandshakes} go. */
  rememberAnswered(signedPreKeyId: number, handshakeId: Uint8Array): void {
    let handshakes = this.#answered.get(signedPreKeyId);
    if (!handshakes) this.#answered.set(signedPreKeyId, (handshakes = []));
    handshakes.push(handshakeId);
    if (handshakes.length > DeviceKeys.rememberedHandshakes) handshakes.shift();
  }

  /** The key pair of a kept signed prekey; throws `unknown_prekey` when it was rotated out. */
  signedPreKeyPair(id: number): EcKeyPair {
    const kept = this.#signedPreKeys.find((k) => k.key.id === id);
    if (!kept) throw new EncryptionException(EncryptionErrorCodes.UnknownPreKey, `This device no longer has signed prekey ${id}.`);
    return kept.pair;
  }

  /** The key pair of a one-time prekey; throws `unknown_prekey` when it was used or never existed. */
  oneTimePreKeyPair(id: number): EcKeyPair {
    const pair = this.#oneTimePreKeys.get(id);
    if (!pair) throw new EncryptionException(EncryptionErrorCodes.UnknownPreKey, `One-time prekey ${id} was already used or never existed on this device.`);
    return pair;
  }

  /** Deletes a one-time prekey's private half once a handshake that used it has succeeded. */
  forgetOneTimePreKey(id: number): void {
    this.#oneTimePreKeys.delete(id);
  }

  #takeId(): number {
    const id = this.#nextPreKeyId;
    this.#nextPreKeyId = (id + 1) >>> 0;
    return id;
  }

  async #addSignedPreKey(pair: EcKeyPair, nowMs: number): Promise<void> {
    const id = this.#takeId();
    const key = new SignedPreKey(id, pair.publicKey, await P256.sign(this.#signing, SignedPreKey.signedBytes(id, pair.publicKey)));
    this.#signedPreKeys.unshift({ key, pair, createdAtMs: BigInt(Math.trunc(nowMs)) });
    if (this.#signedPreKeys.length > DeviceKeys.keptSignedPreKeys + 1) {
      const dropped = this.#signedPreKeys.pop()!;
      dropped.pair.privateKey.fill(0);
      this.#answered.delete(dropped.key.id);
    }
  }
}
