import type { ChatClient } from '../client.js';
// The main bundle's classes (the e2e bundle imports ./chatkit.js at run time rather than carrying copies).
import { ChatKitError, Emitter } from '../index.js';
import type { KeysLowEvent, Message, RoomInfo, SendAck } from '../types.js';
import {
  DeviceIdentityKey,
  DeviceKeys,
  EncryptedBody,
  EncryptedEnvelope,
  EncryptionException,
  EnvelopeEntry,
  EnvelopeKind,
  OneTimePreKey,
  PreKeyBundle,
  RatchetSession,
  SafetyNumber,
  SenderKeyChain,
  SenderKeyReceiver,
  SignedPreKey,
} from '../e2e/index.js';
import { concat, equal, fromBase64Url, fromUtf8, toBase64Url as base64url, utf8 } from '../e2e/bytes.js';
import { SerialQueue } from '../e2e/serial-queue.js';
import { type Fetch, type IdentityKeyInfo, KeyDirectoryClient, type PreKeyBundleInfo } from './directory.js';
import { entries, type EncryptionStateStore } from './store.js';

/** One-time prekeys uploaded at a time; the device uploads more when the directory holds fewer than half of it. */
export const ONE_TIME_PREKEY_BATCH = 50;
/** How long a signed prekey is used before the device makes a new one: 7 days. */
export const SIGNED_PREKEY_LIFETIME_MS = 7 * 24 * 3600 * 1000;
const KEPT_SESSIONS_PER_DEVICE = 3;
const KEPT_SENT_MESSAGES = 1000;
const TEXT = 1;
const SENDER_KEY = 2;

export interface EndToEndEncryptionOptions {
  /** The signed-in user's client; start the encryption before `connect()` so it sees every message. */
  client: ChatClient;
  /** The signed-in user, as the server knows them. */
  userId: string;
  /** This device's id: stable across page loads, unique among the user's devices, 1 to 64 of `A-Z a-z 0-9 - _ . :`. */
  deviceId: string;
  /** Where the keys, sessions and decrypted texts are kept (`IndexedDbStateStore` in a browser). */
  store: EncryptionStateStore;
  /** The fetch function for the key directory; default `globalThis.fetch`. */
  fetch?: Fetch;
  /** The clock, in ms since the epoch (tests); default `Date.now`. */
  now?: () => number;
}

/** A message of an encrypted room this device cannot read, and why (`error.code`, see docs/encryption.md). */
export interface UndecryptableMessage {
  message: Message;
  error: Error & { code?: string };
}

export interface EncryptionEvents {
  /** A message of an encrypted room, with its text as `body` (messages that only carry keys are left out). */
  message: Message;
  /** A message of an encrypted room this device could not read. */
  undecryptable: UndecryptableMessage;
  /** A top-up of this device's one-time prekeys after `keys.low` failed (the next read or send tries again). */
  error: Error;
}

/**
 * End-to-end encryption for one device of the signed-in user, on top of a `ChatClient`, byte for byte the protocol of
 * the .NET client (docs/encryption.md). It publishes the device's keys to the server's key directory, encrypts what
 * `send` sends to an encrypted room for every device of every member (the sender's other devices included), and
 * decrypts the client's `message` events of encrypted rooms, in order, into its own `message` events. Direct
 * conversations use pairwise Double Ratchet sessions; group rooms use Sender Keys. The text of every message it
 * decrypted or sent is kept in the store, so `decrypt` can show history again after a reload. Calls run one at a time.
 */
export class EndToEndEncryption extends Emitter<EncryptionEvents> {
  readonly #client: ChatClient;
  readonly #store: EncryptionStateStore;
  readonly #directory: KeyDirectoryClient;
  readonly #userId: string;
  readonly #deviceId: string;
  #device: DeviceKeys | undefined;
  readonly #now: () => number;
  readonly #sent = new Map<string, string>();
  readonly #receivers = new Map<string, SenderKeyReceiver>();
  readonly #stop: Array<() => void> = [];
  readonly #gate = new SerialQueue();
  #published = false;
  #removed = false;
  #replenishDue = false;

  /**
   * Resolves once this device's keys are loaded from the store (or made, the first time), its signed prekey rotated
   * when older than 7 days, and the device published to the key directory with enough one-time prekeys. Rejects when
   * that failed: with the keys loaded, messages still decrypt and the next `send` publishes again; without them every
   * call fails.
   */
  readonly ready: Promise<void>;

  private constructor(options: EndToEndEncryptionOptions, fetcher: Fetch) {
    super();
    this.#client = options.client;
    this.#store = options.store;
    this.#userId = options.userId;
    this.#deviceId = options.deviceId;
    this.#now = options.now ?? Date.now;
    this.#directory = new KeyDirectoryClient(options.client.url, () => options.client.accessToken(), fetcher);
    this.ready = this.#gate.run(() => this.#load());
    this.ready.catch(() => undefined); // reported to whoever awaits it; not an unhandled rejection
  }

  /**
   * Starts decrypting the client's messages of encrypted rooms at once (each waits for the keys), and loads and
   * publishes this device in the background (`ready`). Call it before `client.connect()`, subscribe, then connect
   * without waiting: no message is missed and the chat does not wait for the key directory.
   */
  static open(options: EndToEndEncryptionOptions): EndToEndEncryption {
    if (!options.userId) throw new TypeError('userId is required.');
    if (!isDeviceId(options.deviceId)) throw new TypeError('A device id is 1 to 64 characters from A-Z a-z 0-9 - _ . :');
    const fetcher = options.fetch ?? (globalThis.fetch?.bind(globalThis) as Fetch | undefined);
    if (!fetcher) throw new TypeError('No fetch function: pass options.fetch.');
    const encryption = new EndToEndEncryption(options, fetcher);
    encryption.#listen();
    return encryption;
  }

  /** `open`, then waits for `ready`; when that fails it stops again and rejects. */
  static async start(options: EndToEndEncryptionOptions): Promise<EndToEndEncryption> {
    const encryption = EndToEndEncryption.open(options);
    try {
      await encryption.ready;
    } catch (e) {
      await encryption.close();
      throw e;
    }
    return encryption;
  }

  /** The signed-in user. */
  get userId(): string {
    return this.#userId;
  }

  /** This device's id. */
  get deviceId(): string {
    return this.#deviceId;
  }

  /**
   * Encrypts `text` for every other device of every member of the encrypted room and sends it; resolves with the
   * server's ack. In a group room, devices that lack this device's sender key first get it in messages of their own.
   * Throws a `TypeError` when the room is not encrypted, or (direct rooms) when the other member has no device yet.
   */
  send(room: RoomInfo, text: string, cmid: string = randomCmid()): Promise<SendAck> {
    if (room.encrypted !== true) return Promise.reject(new TypeError(`Room ${room.id} is not end-to-end encrypted; send to it with ChatClient.send.`));
    if (!text) return Promise.reject(new TypeError('The text is empty.'));
    return this.#locked(async () => {
      if (!this.#published || this.#now() - this.#keys.signedPreKeyCreatedAt > SIGNED_PREKEY_LIFETIME_MS) await this.#publish();
      else if (this.#replenishDue) await this.#tryReplenish();
      const targets = await this.#targets(room.id, room.kind === 'direct');
      const content = utf8(text);
      let body: string;
      if (room.kind === 'direct') {
        if (!targets.some((t) => t.userId !== this.userId)) {
          throw new TypeError(`The other member of room ${room.id} has no device in the key directory yet: nobody but you could read the message.`);
        }
        const list: EnvelopeEntry[] = [];
        for (const target of targets) {
          list.push(new EnvelopeEntry(target.userId, target.deviceId, await this.#encryptPairwise(target, payload(TEXT, room.id, content))));
        }
        body = new EncryptedEnvelope(EnvelopeKind.Direct, this.deviceId, list, new Uint8Array()).toBody();
      } else {
        const chain = await this.#senderKeyFor(room.id, targets);
        body = new EncryptedEnvelope(EnvelopeKind.Group, this.deviceId, [], await chain.encrypt(content)).toBody();
        await this.#store.save(entries.senderKey(room.id), await chain.export());
      }
      this.#remember(room.id, cmid, text);
      const ack = await this.#client.send(room.id, body, cmid);
      // The message is stored: a failed save of its text here must not report the send as failed.
      const name = entries.text(room.id, ack.seq, this.userId, cmid);
      if (!(ack.duplicate && (await this.#store.load(name).catch(() => undefined)))) await this.#store.save(name, keptText(text)).catch(() => undefined);
      return ack;
    });
  }

  /**
   * The text of an encrypted message (a history page's, for instance), or null for a message that only carries keys.
   * A message decrypts once; its text is kept in the store and returned again afterwards. When it throws (an
   * `EncryptionException` with a code from docs/encryption.md, or the key directory's `ChatKitError`), nothing this
   * device keeps has changed.
   */
  decrypt(message: Message): Promise<string | null> {
    return this.#locked(() => this.#decrypt(message));
  }

  /** Uploads a batch of one-time prekeys when the directory holds fewer than half a batch; returns how many it holds. */
  replenish(): Promise<number> {
    return this.#locked(() => this.#replenishCore());
  }

  /**
   * The safety number of the signed-in user and `otherUser` (60 digits): from each user's devices that the key
   * directory lists now, together with every device of theirs this device has had a session with. Compare it with
   * theirs in person; equal numbers mean no one sits in between.
   */
  safetyNumber(otherUser: string): Promise<string> {
    return this.#locked(async () => {
      const mine = await this.#verifiedDevices(this.userId);
      const theirs = await this.#verifiedDevices(otherUser);
      if (!theirs.length) throw new TypeError(`User '${otherUser}' has no device in the key directory.`);
      return SafetyNumber.compute(this.userId, mine, otherUser, theirs);
    });
  }

  /**
   * Forgets the devices of `user` this device has had sessions with but the directory no longer lists, so they stop
   * counting in the safety number. Do it only after confirming with the user that they removed those devices.
   */
  forgetRemovedDevices(user: string): Promise<void> {
    return this.#locked(async () => {
      await this.#store.save(entries.seen(user), writeSeen(await this.#devices(user)));
    });
  }

  /**
   * Removes this device from the key directory (at sign-out, say): nobody encrypts for it any more, and this object
   * stops (its calls reject). Delete its state store afterwards; a later `start` with the same store would publish
   * the device again.
   */
  removeDevice(): Promise<void> {
    return this.#locked(async () => {
      await this.#directory.remove(this.deviceId);
      this.#removed = true;
      this.#stop.splice(0).forEach((stop) => stop());
    });
  }

  /**
   * Stops decrypting the client's events (the client stays connected); resolves once the calls already queued have
   * finished, so the store can be closed after it.
   */
  async close(): Promise<void> {
    this.#stop.splice(0).forEach((stop) => stop());
    await this.#gate.run(() => Promise.resolve()).catch(() => undefined);
  }

  #listen(): void {
    this.#stop.push(
      this.#client.on('message', (message) => {
        if (!message.body.startsWith(EncryptedBody.prefix)) return;
        this.#locked(() => this.#decrypt(message)).then(
          (text) => text !== null && this.emit('message', { ...message, body: text }),
          (e: Error) => this.emit('undecryptable', { message, error: e }),
        );
      }),
      this.#client.on('keys.low', (low: KeysLowEvent) => {
        if (low.device !== this.deviceId) return;
        this.#locked(async () => {
          this.#replenishDue = true;
          await this.#tryReplenish();
          if (this.#replenishDue) this.emit('error', new ChatKitError('unavailable', 'The one-time prekeys could not be topped up; the next read or send tries again.'));
        }).catch((e: Error) => this.emit('error', e));
      }),
    );
  }

  /** Runs `action` after every call before it has settled; none after `removeDevice`, none without the keys. */
  #locked<T>(action: () => Promise<T>): Promise<T> {
    return this.#gate.run(() => {
      if (this.#removed) throw new TypeError(`Device '${this.deviceId}' was removed from the key directory; start a new device to encrypt again.`);
      return action();
    });
  }

  /** This device's keys, once `#load` has them. */
  get #keys(): DeviceKeys {
    if (!this.#device) throw new TypeError(`The keys of device '${this.deviceId}' could not be loaded from the state store (see ready).`);
    return this.#device;
  }

  /** The first call: the device's keys from the store (or new ones), then the publish. */
  async #load(): Promise<void> {
    const saved = await this.#store.load(entries.device);
    const device = saved ? await DeviceKeys.import(saved) : await DeviceKeys.create(this.#userId, this.#deviceId, this.#now);
    if (device.identity.userId !== this.#userId || device.identity.deviceId !== this.#deviceId) {
      throw new TypeError(
        `The state store holds device '${device.identity.deviceId}' of user '${device.identity.userId}', not device '${this.#deviceId}' of '${this.#userId}': give each device a store of its own.`,
      );
    }
    this.#device = device;
    await this.#publish();
  }

  async #decrypt(message: Message): Promise<string | null> {
    const envelope = EncryptedEnvelope.parse(message.body);
    if (!isDeviceId(envelope.senderDevice)) throw new EncryptionException('malformed', "The envelope's sender device is not a valid device id.");
    const name = entries.text(message.room, message.seq, message.sender, message.cmid);
    const kept = await this.#store.load(name);
    if (kept?.length) return kept[0] === KEPT_KEYS ? null : fromUtf8(kept.subarray(1));
    if (message.sender === this.userId && envelope.senderDevice === this.deviceId) {
      if (envelope.kind === EnvelopeKind.Keys) return null;
      const mine = this.#sent.get(sentKey(message.room, message.cmid));
      if (mine === undefined) {
        throw new EncryptionException('replayed', 'This device sent the message; its text is kept once the server has acknowledged it.');
      }
      return mine;
    }
    let text: string | null;
    if (envelope.kind === EnvelopeKind.Direct) text = await this.#readDirect(message, envelope);
    else if (envelope.kind === EnvelopeKind.Keys) text = await this.#readKeys(message, envelope);
    else text = await this.#readGroup(message, envelope);
    await this.#store.save(name, keptText(text));
    return text;
  }

  // Pairwise sessions: up to three per peer device, newest first (two devices that start sessions with each other at
  // once converge on the one that answered).

  async #readDirect(message: Message, envelope: EncryptedEnvelope): Promise<string> {
    const entry = envelope.for(this.userId, this.deviceId);
    if (!entry) throw notForThisDevice();
    const opened = await this.#openPairwise(message.sender, envelope.senderDevice, entry.message);
    const text = fromUtf8(openPayload(opened.payload, TEXT, message.room));
    await opened.commit();
    if (this.#replenishDue) await this.#tryReplenish();
    return text;
  }

  /**
   * Decrypts a pairwise message without keeping anything: the caller checks the payload, then commits (which saves
   * the session, and for a new handshake the device's keys). A failed check leaves every saved state as it was.
   */
  async #openPairwise(sender: string, senderDevice: string, message: Uint8Array): Promise<{ payload: Uint8Array; commit: () => Promise<void> }> {
    const sessions = await this.#loadSessions(sender, senderDevice);
    const baseKey = RatchetSession.preKeyMessageBaseKey(message);
    if (baseKey && !sessions.some((s) => equal(s.baseKey, baseKey))) {
      const initiator = RatchetSession.preKeyMessageInitiator(message)!;
      if (initiator.userId !== sender || initiator.deviceId !== senderDevice) {
        throw new EncryptionException(
          'bad_signature',
          `The handshake is signed by device '${initiator.deviceId}' of '${initiator.userId}', but the message came from device '${senderDevice}' of '${sender}'.`,
        );
      }
      const listed = await this.#devices(sender);
      if (!listed.some((d) => d.sameKeysAs(initiator))) {
        throw new EncryptionException('unknown_device', `The key directory does not list device '${senderDevice}' of '${sender}' with the keys that signed this handshake.`);
      }
      const accepted = await RatchetSession.open(this.#keys, message);
      return {
        payload: accepted.plaintext,
        commit: async () => {
          accepted.complete();
          sessions.unshift(accepted.session);
          await this.#saveSessions(sender, senderDevice, sessions);
          await this.#saveDevice();
          await this.#rememberSeen(accepted.session.peer);
          this.#replenishDue = true;
        },
      };
    }
    // A prekey message of a known handshake goes to that session only; other messages may belong to any.
    const candidates = baseKey ? sessions.filter((s) => equal(s.baseKey, baseKey)) : sessions;
    let first: unknown;
    let replayed: unknown;
    for (const session of candidates) {
      try {
        const plaintext = await session.decrypt(message);
        return {
          payload: plaintext,
          commit: async () => {
            sessions.splice(sessions.indexOf(session), 1);
            sessions.unshift(session);
            await this.#saveSessions(sender, senderDevice, sessions);
          },
        };
      } catch (e) {
        if (!(e instanceof EncryptionException)) throw e;
        first ??= e;
        if (e.code === 'replayed') replayed ??= e;
      }
    }
    throw replayed ?? first ?? new EncryptionException('unknown_prekey', `There is no session with device '${senderDevice}' of '${sender}' and the message does not start one.`);
  }

  async #encryptPairwise(target: DeviceIdentityKey, content: Uint8Array): Promise<Uint8Array> {
    const sessions = await this.#loadSessions(target.userId, target.deviceId);
    if (!sessions.length || !sessions[0]!.peer.sameKeysAs(target)) {
      const bundle = await bundleFromInfo(await this.#directory.claimBundle(target.userId, target.deviceId));
      if (!bundle.identity.sameKeysAs(target)) {
        throw new EncryptionException('bad_signature', `The directory's bundle for device '${target.deviceId}' of '${target.userId}' has other identity keys than its device list.`);
      }
      sessions.unshift(await RatchetSession.initiate(this.#keys, bundle));
      await this.#rememberSeen(target);
    }
    const message = await sessions[0]!.encrypt(content);
    await this.#saveSessions(target.userId, target.deviceId, sessions);
    return message;
  }

  /** The saved sessions with one device: an int32 count, then each state with its int32 length (little-endian, as the .NET client writes them). */
  async #loadSessions(user: string, device: string): Promise<RatchetSession[]> {
    const saved = await this.#store.load(entries.sessions(user, device));
    if (!saved) return [];
    const view = new DataView(saved.buffer, saved.byteOffset, saved.byteLength);
    const sessions: RatchetSession[] = [];
    try {
      let at = 4;
      for (let count = view.getInt32(0, true); count > 0; count--) {
        const length = view.getInt32(at, true);
        if (length < 0 || at + 4 + length > saved.length) throw new RangeError('truncated');
        sessions.push(await RatchetSession.import(saved.subarray(at + 4, at + 4 + length)));
        at += 4 + length;
      }
    } catch (e) {
      if (e instanceof RangeError) throw new EncryptionException('malformed', `The saved sessions with device '${device}' of '${user}' are damaged.`);
      throw e;
    }
    return sessions;
  }

  async #saveSessions(user: string, device: string, sessions: RatchetSession[]): Promise<void> {
    const states = await Promise.all(sessions.slice(0, KEPT_SESSIONS_PER_DEVICE).map((s) => s.export()));
    const bytes = new Uint8Array(4 + states.reduce((n, s) => n + 4 + s.length, 0));
    const view = new DataView(bytes.buffer);
    view.setInt32(0, states.length, true);
    let at = 4;
    for (const state of states) {
      view.setInt32(at, state.length, true);
      bytes.set(state, at + 4);
      at += 4 + state.length;
    }
    await this.#store.save(entries.sessions(user, device), bytes);
  }

  // Sender keys: one per group room for this device, and a receiver per other device and room. Receivers stay loaded:
  // a group message needs its sender's receiver every time. The store still gets every change.

  async #readKeys(message: Message, envelope: EncryptedEnvelope): Promise<null> {
    const entry = envelope.for(this.userId, this.deviceId);
    if (!entry) return null;
    const opened = await this.#openPairwise(message.sender, envelope.senderDevice, entry.message);
    const receiver = await SenderKeyReceiver.fromDistribution(openPayload(opened.payload, SENDER_KEY, message.room));
    if (receiver.roomId !== message.room) {
      throw new EncryptionException('malformed', `The sender key is for room ${receiver.roomId}, but came in room ${message.room}.`);
    }
    const name = entries.receiver(message.room, message.sender, envelope.senderDevice);
    const existing = await this.#loadReceiver(name);
    await opened.commit();
    // The same key again (a replay) must not take a receiver back to an earlier iteration.
    if (!existing || !equal(existing.keyId, receiver.keyId)) {
      await this.#store.save(name, await receiver.export());
      this.#receivers.set(name, receiver);
    }
    if (this.#replenishDue) await this.#tryReplenish();
    return null;
  }

  async #readGroup(message: Message, envelope: EncryptedEnvelope): Promise<string> {
    const name = entries.receiver(message.room, message.sender, envelope.senderDevice);
    const receiver = await this.#loadReceiver(name);
    if (!receiver) {
      throw new EncryptionException('unknown_sender_key', `This device has no sender key of device '${envelope.senderDevice}' of user '${message.sender}' in room ${message.room}.`);
    }
    const text = fromUtf8(await receiver.decrypt(envelope.groupMessage));
    await this.#store.save(name, await receiver.export());
    return text;
  }

  async #loadReceiver(name: string): Promise<SenderKeyReceiver | undefined> {
    let receiver = this.#receivers.get(name);
    if (receiver) return receiver;
    const saved = await this.#store.load(name);
    if (!saved) return undefined;
    receiver = await SenderKeyReceiver.import(saved);
    this.#receivers.set(name, receiver);
    return receiver;
  }

  /**
   * This device's sender key for the room, sent first to every target that lacks it; a new one when a device that had
   * it is no longer a target, or is there with other keys (reinstalled, or replaced).
   */
  async #senderKeyFor(room: string, targets: DeviceIdentityKey[]): Promise<SenderKeyChain> {
    const savedChain = await this.#store.load(entries.senderKey(room));
    const savedSentTo = await this.#store.load(entries.sentTo(room));
    const sentTo = new Set(savedSentTo ? fromUtf8(savedSentTo).split('\n').filter(Boolean) : []);
    const holders = new Map<DeviceIdentityKey, string>();
    for (const target of targets) holders.set(target, await holder(target));
    const current = new Set(holders.values());
    let chain = savedChain ? await SenderKeyChain.import(savedChain) : undefined;
    if (!chain || [...sentTo].some((h) => !current.has(h))) {
      chain = await SenderKeyChain.create(room);
      sentTo.clear();
      await this.#store.save(entries.senderKey(room), await chain.export());
      await this.#store.save(entries.sentTo(room), new Uint8Array());
    }
    const limit = this.#client.welcome?.limits?.maxMessageBytes ?? 16 * 1024;
    let batch: Array<{ entry: EnvelopeEntry; holder: string }> = [];
    for (const target of targets) {
      const h = holders.get(target)!;
      if (sentTo.has(h)) continue;
      const message = await this.#encryptPairwise(target, payload(SENDER_KEY, room, await chain.distribution()));
      const entry = new EnvelopeEntry(target.userId, target.deviceId, message);
      if (batch.length && this.#keysBody([...batch.map((e) => e.entry), entry]).length > limit) {
        await this.#sendKeys(room, batch, sentTo);
        batch = [];
      }
      batch.push({ entry, holder: h });
    }
    if (batch.length) await this.#sendKeys(room, batch, sentTo);
    return chain;
  }

  #keysBody(list: EnvelopeEntry[]): string {
    return new EncryptedEnvelope(EnvelopeKind.Keys, this.deviceId, list, new Uint8Array()).toBody();
  }

  async #sendKeys(room: string, batch: Array<{ entry: EnvelopeEntry; holder: string }>, sentTo: Set<string>): Promise<void> {
    await this.#client.send(
      room,
      this.#keysBody(batch.map((e) => e.entry)),
    );
    batch.forEach((e) => sentTo.add(e.holder));
    await this.#store.save(entries.sentTo(room), utf8([...sentTo].join('\n')));
  }

  // The key directory: publishing this device, topping up its prekeys, reading other devices.

  async #publish(): Promise<void> {
    if (this.#now() - this.#keys.signedPreKeyCreatedAt > SIGNED_PREKEY_LIFETIME_MS) {
      await this.#keys.rotateSignedPreKey(this.#now);
      this.#published = false;
    }
    const fresh = this.#keys.oneTimePreKeyCount === 0 ? await this.#keys.generateOneTimePreKeys(ONE_TIME_PREKEY_BATCH) : [];
    await this.#saveDevice();
    await this.#directory.publish(this.deviceId, {
      identity: identityToInfo(this.#keys.identity),
      signedPreKey: {
        id: this.#keys.signedPreKey.id,
        publicKey: base64url(this.#keys.signedPreKey.publicKey),
        signature: base64url(this.#keys.signedPreKey.signature),
      },
      oneTimePreKeys: fresh.map(oneTimeToInfo),
    });
    this.#published = true;
    await this.#tryReplenish();
  }

  async #replenishCore(): Promise<number> {
    const status = await this.#directory.status(this.deviceId);
    if (!status.low && status.oneTimePreKeys >= ONE_TIME_PREKEY_BATCH / 2) {
      this.#replenishDue = false;
      return status.oneTimePreKeys;
    }
    const fresh = await this.#keys.generateOneTimePreKeys(ONE_TIME_PREKEY_BATCH);
    await this.#saveDevice();
    const added = await this.#directory.addPreKeys(this.deviceId, { oneTimePreKeys: fresh.map(oneTimeToInfo) });
    this.#replenishDue = false;
    return added.oneTimePreKeys;
  }

  /** Tops up when due, and leaves it due for a later call when the directory cannot be reached now: a message already read is never lost to it. */
  async #tryReplenish(): Promise<void> {
    try {
      await this.#replenishCore();
    } catch (e) {
      if (!(e instanceof ChatKitError)) throw e;
      this.#replenishDue = true;
    }
  }

  async #saveDevice(): Promise<void> {
    await this.#store.save(entries.device, await this.#keys.export());
  }

  /** The user's devices as the directory lists them, each signature checked. */
  async #devices(user: string): Promise<DeviceIdentityKey[]> {
    const listed = await this.#directory.devices(user);
    const devices: DeviceIdentityKey[] = [];
    for (const info of listed.devices) {
      const identity = identityFromInfo(info);
      await identity.verify();
      if (identity.userId !== user) throw new EncryptionException('bad_signature', `The directory listed a device of user '${identity.userId}' as one of '${user}'.`);
      devices.push(identity);
    }
    return devices;
  }

  /** The signing keys that make a user's half of a safety number: listed now, or seen in a session. */
  async #verifiedDevices(user: string): Promise<Uint8Array[]> {
    const devices = await this.#devices(user);
    if (user === this.userId && !devices.some((d) => d.sameKeysAs(this.#keys.identity))) devices.push(this.#keys.identity);
    devices.push(...readSeen(await this.#store.load(entries.seen(user))));
    const keys = new Map<string, Uint8Array>();
    for (const d of devices) keys.set(base64url(d.signingKey), d.signingKey);
    return [...keys.values()];
  }

  /** Records a device this device has a session with, for safety numbers. */
  async #rememberSeen(device: DeviceIdentityKey): Promise<void> {
    const seen = readSeen(await this.#store.load(entries.seen(device.userId)));
    if (!seen.some((d) => d.sameKeysAs(device))) {
      seen.push(device);
      await this.#store.save(entries.seen(device.userId), writeSeen(seen));
    }
  }

  /**
   * Every device of every member of the room, except this one. A direct room has two members whatever the server
   * says: a third one listed there is refused, so the server cannot add a reader to a conversation of two.
   */
  async #targets(room: string, direct: boolean): Promise<DeviceIdentityKey[]> {
    const members = await this.#client.listMembers(room);
    if (direct && (members.length > 2 || !members.some((m) => m.user === this.userId))) {
      throw new EncryptionException('unknown_device', `The server lists ${members.length} members for direct room ${room}, not its two people; nothing was sent.`);
    }
    const targets: DeviceIdentityKey[] = [];
    for (const member of members) {
      targets.push(...(await this.#devices(member.user)).filter((d) => !d.sameKeysAs(this.#keys.identity)));
    }
    return targets;
  }

  #remember(room: string, cmid: string, text: string): void {
    const key = sentKey(room, cmid);
    if (this.#sent.has(key)) return; // a retry keeps the first text, as the server keeps the first message
    this.#sent.set(key, text);
    if (this.#sent.size > KEPT_SENT_MESSAGES) this.#sent.delete(this.#sent.keys().next().value!);
  }
}

const isDeviceId = (value: unknown): value is string => typeof value === 'string' && /^[A-Za-z0-9\-_.:]{1,64}$/.test(value);

const sentKey = (room: string, cmid: string) => `${room.length}:${room}${cmid}`;

/** A kept message: a kind byte (1 text, 0 a message that only carried keys), then the UTF-8 text. */
const KEPT_KEYS = 0;
const keptText = (text: string | null): Uint8Array => (text === null ? Uint8Array.of(KEPT_KEYS) : concat(Uint8Array.of(1), utf8(text)));

const notForThisDevice = () =>
  new EncryptionException(
    'unknown_prekey',
    'The message holds nothing for this device: it was sent before the device published its keys, or its sender did not know the device yet.',
  );

function randomCmid(): string {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * What a pairwise message carries: a type byte (1 text, 2 sender key distribution), the room it was sent in (uint16
 * length + UTF-8) and the content. The room is inside the encryption, so the server cannot show a message in another
 * room than the one it was written for.
 */
function payload(type: number, room: string, content: Uint8Array): Uint8Array {
  const roomBytes = utf8(room);
  const bytes = new Uint8Array(3 + roomBytes.length + content.length);
  bytes[0] = type;
  new DataView(bytes.buffer).setUint16(1, roomBytes.length);
  bytes.set(roomBytes, 3);
  bytes.set(content, 3 + roomBytes.length);
  return bytes;
}

/** The content, after checking the type the envelope says and the room the message came in. */
function openPayload(bytes: Uint8Array, type: number, room: string): Uint8Array {
  if (bytes.length < 3 || bytes[0] !== type) throw new EncryptionException('malformed', 'The pairwise message does not carry what its envelope says.');
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(1);
  if (bytes.length < 3 + length || fromUtf8(bytes.subarray(3, 3 + length)) !== room) {
    throw new EncryptionException('malformed', `The message was written for another room than ${room}, where it came.`);
  }
  return bytes.slice(3 + length);
}

/** A device that holds a sender key, named with a digest of its keys so a reinstalled device counts as another. */
async function holder(device: DeviceIdentityKey): Promise<string> {
  const keys = new Uint8Array([...device.signingKey, ...device.identityKey]);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', keys)).subarray(0, 16);
  return [device.userId, device.deviceId, [...digest].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join('')].join('\t');
}

function fromBase64url(text: unknown, field: string, length: number): Uint8Array {
  const bytes = typeof text === 'string' ? fromBase64Url(text) : undefined;
  if (bytes?.length === length) return bytes;
  throw new EncryptionException('invalid_key', `Field '${field}' is not ${length} bytes of unpadded base64url.`);
}

function identityToInfo(identity: DeviceIdentityKey): IdentityKeyInfo {
  return {
    user: identity.userId,
    device: identity.deviceId,
    signingKey: base64url(identity.signingKey),
    identityKey: base64url(identity.identityKey),
    signature: base64url(identity.signature),
  };
}

function identityFromInfo(info: IdentityKeyInfo): DeviceIdentityKey {
  if (typeof info?.user !== 'string' || typeof info.device !== 'string') throw new EncryptionException('malformed', 'An identity without its user or device.');
  return new DeviceIdentityKey(
    info.user,
    info.device,
    fromBase64url(info.signingKey, 'identity.signingKey', 65),
    fromBase64url(info.identityKey, 'identity.identityKey', 65),
    fromBase64url(info.signature, 'identity.signature', 64),
  );
}

async function bundleFromInfo(info: PreKeyBundleInfo): Promise<PreKeyBundle> {
  const spk = info.signedPreKey;
  const opk = info.oneTimePreKey;
  const bundle = new PreKeyBundle(
    identityFromInfo(info.identity),
    new SignedPreKey(spk.id, fromBase64url(spk.publicKey, 'signedPreKey.publicKey', 65), fromBase64url(spk.signature, 'signedPreKey.signature', 64)),
    opk ? new OneTimePreKey(opk.id, fromBase64url(opk.publicKey, 'oneTimePreKey.publicKey', 65)) : null,
  );
  await bundle.verify();
  return bundle;
}

const oneTimeToInfo = (key: OneTimePreKey) => ({ id: key.id, publicKey: base64url(key.publicKey) });

/** The devices of one user this device has had sessions with: one line per device, tab-separated, keys in base64url. */
function writeSeen(devices: DeviceIdentityKey[]): Uint8Array {
  return utf8(devices.map((d) => [d.userId, d.deviceId, base64url(d.signingKey), base64url(d.identityKey), base64url(d.signature)].join('\t')).join('\n'));
}

function readSeen(saved: Uint8Array | undefined): DeviceIdentityKey[] {
  if (!saved) return [];
  return fromUtf8(saved)
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [user, device, signing, identity, signature] = line.split('\t');
      if (user === undefined || device === undefined) throw new EncryptionException('malformed', 'The saved list of seen devices is damaged.');
      return new DeviceIdentityKey(user, device, fromBase64url(signing, 'seen.signingKey', 65), fromBase64url(identity, 'seen.identityKey', 65), fromBase64url(signature, 'seen.signature', 64));
    });
}
