import { concat, randomBytes } from './bytes.js';
import type { EcKeyPair } from './ec-key-pair.js';
import { Kdf } from './kdf.js';
import { MessageCipher } from './message-cipher.js';
import { P256 } from './p256.js';
import { RatchetSession } from './ratchet-session.js';
import { SerialQueue } from './serial-queue.js';
import { WireReader } from './wire-reader.js';
import { WireWriter } from './wire-writer.js';

const stateVersion = 1;

/**
 * The sending half of a Sender Key: one hash-ratchet chain and one ECDSA P-256 signing key of one device in one room.
 * Each message is encrypted under the next key of the chain and signed. Other members get {@link distribution} over
 * their pairwise sessions and decrypt with a `SenderKeyReceiver`. Make a new chain (and distribute it to the members
 * that remain) whenever a member or device leaves the room. Encrypts run one at a time; save {@link export} after each.
 */
export class SenderKeyChain {
  /** The length of a sender key's id. */
  static readonly keyIdLength = 16;
  /** The first byte of a sender key message. */
  static readonly messageKind = 3;
  /** The first byte of a sender key distribution. */
  static readonly distributionKind = 4;
  /** The length of a sender key message's header: kind, version, key id, iteration. */
  static readonly headerLength = 2 + SenderKeyChain.keyIdLength + 4;

  /** The room the key is for. */
  readonly roomId: string;
  /** A random id that names this key in each message. */
  readonly keyId: Uint8Array;
  readonly #signing: EcKeyPair;
  readonly #queue = new SerialQueue();
  #chain: Uint8Array;
  #iteration: number;

  private constructor(roomId: string, keyId: Uint8Array, chain: Uint8Array, iteration: number, signing: EcKeyPair) {
    this.roomId = roomId;
    this.keyId = keyId;
    this.#chain = chain;
    this.#iteration = iteration;
    this.#signing = signing;
  }

  /** The number the next message will carry. */
  get iteration(): number {
    return this.#iteration;
  }

  /** Makes a fresh sender key for a room. */
  static async create(roomId: string): Promise<SenderKeyChain> {
    if (!roomId) throw new RangeError('roomId is required.');
    return SenderKeyChain.createWith(roomId, randomBytes(SenderKeyChain.keyIdLength), randomBytes(Kdf.keyLength), await P256.generate());
  }

  /** A chain from given parts, at iteration 0 (known-answer vectors). */
  static createWith(roomId: string, keyId: Uint8Array, chain: Uint8Array, signing: EcKeyPair): SenderKeyChain {
    return new SenderKeyChain(roomId, keyId, chain, 0, signing);
  }

  /** Encrypts and signs one message for every holder of the key. */
  encrypt(plaintext: Uint8Array): Promise<Uint8Array> {
    return this.#queue.run(async () => {
      const { messageKey, nextChainKey } = await Kdf.chain(this.#chain);
      const header = new WireWriter()
        .byte(SenderKeyChain.messageKind)
        .byte(RatchetSession.protocolVersion)
        .fixed(this.keyId)
        .uint32(this.#iteration)
        .toArray();
      const signed = concat(header, await MessageCipher.encrypt(messageKey, plaintext, header));
      messageKey.fill(0);
      const signature = await P256.sign(this.#signing, signed);
      this.#chain = nextChainKey;
      this.#iteration = (this.#iteration + 1) >>> 0;
      return concat(signed, signature);
    });
  }

  /**
   * What a member needs to read this device's messages from now on: the room, the key id, the chain at its current
   * iteration and the public signing key. Send it only over pairwise sessions.
   */
  distribution(): Uint8Array {
    return new WireWriter()
      .byte(SenderKeyChain.distributionKind)
      .byte(RatchetSession.protocolVersion)
      .text(this.roomId)
      .fixed(this.keyId)
      .uint32(this.#iteration)
      .fixed(this.#chain)
      .fixed(this.#signing.publicKey)
      .toArray();
  }

  /** The chain with its keys, for the app's session store: the same bytes as the .NET client's. */
  export(): Uint8Array {
    return new WireWriter().byte(stateVersion).text(this.roomId).fixed(this.keyId).uint32(this.#iteration).fixed(this.#chain).fixed(this.#signing.privateKey).toArray();
  }

  /** Reads what {@link export} wrote (here or in the .NET client); throws `malformed` or `invalid_key`. */
  static import(state: Uint8Array): SenderKeyChain {
    const reader = new WireReader(state, 'sender key state');
    if (reader.byte() !== stateVersion) throw reader.malformed();
    const roomId = reader.text();
    const keyId = reader.fixed(SenderKeyChain.keyIdLength);
    const iteration = reader.uint32();
    const chain = reader.fixed(Kdf.keyLength);
    const signing = P256.fromPrivate(reader.fixed(P256.privateKeyLength));
    reader.end();
    return new SenderKeyChain(roomId, keyId, chain, iteration, signing);
  }
}
