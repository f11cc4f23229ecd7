import { equal } from './bytes.js';
import { EncryptionErrorCodes } from './encryption-error-codes.js';
import { EncryptionException } from './encryption-exception.js';
import { Kdf } from './kdf.js';
import { MAX_SKIPPED_KEYS } from './limits.js';
import { MessageCipher } from './message-cipher.js';
import { P256 } from './p256.js';
import { RatchetSession } from './ratchet-session.js';
import { SenderKeyChain } from './sender-key-chain.js';
import { SerialQueue } from './serial-queue.js';
import { WireReader } from './wire-reader.js';
import { WireWriter } from './wire-writer.js';

const stateVersion = 1;

/**
 * The receiving half of another device's Sender Key in one room, made from its distribution. Each message's signature
 * is checked before anything else; late messages are read with keys kept for them (at most `RatchetSession.maxSkip`
 * ahead, `RatchetSession.maxSkippedKeys` in all). A message that does not decrypt leaves the receiver exactly as it
 * was. Decrypts run one at a time.
 */
export class SenderKeyReceiver {
  /** The room the key is for. */
  readonly roomId: string;
  /** The key's id, as its messages carry it. */
  readonly keyId: Uint8Array;
  readonly #signingKey: Uint8Array;
  readonly #skipped: { iteration: number; messageKey: Uint8Array }[];
  readonly #queue = new SerialQueue();
  #verifier: Promise<CryptoKey> | undefined;
  #chain: Uint8Array;
  #iteration: number;

  private constructor(roomId: string, keyId: Uint8Array, iteration: number, chain: Uint8Array, signingKey: Uint8Array, skipped: { iteration: number; messageKey: Uint8Array }[]) {
    P256.validate(signingKey);
    this.roomId = roomId;
    this.keyId = keyId;
    this.#iteration = iteration;
    this.#chain = chain;
    this.#signingKey = signingKey;
    this.#skipped = skipped;
  }

  /** How many skipped message keys are kept for late messages. */
  get skippedKeyCount(): number {
    return this.#skipped.length;
  }

  /** Reads a distribution (which must have arrived over a pairwise session with its sender); throws `malformed` or `invalid_key`. */
  static fromDistribution(distribution: Uint8Array): SenderKeyReceiver {
    const reader = new WireReader(distribution, 'sender key distribution');
    if (reader.byte() !== SenderKeyChain.distributionKind || reader.byte() !== RatchetSession.protocolVersion) throw reader.malformed();
    const receiver = new SenderKeyReceiver(
      reader.text(),
      reader.fixed(SenderKeyChain.keyIdLength),
      reader.uint32(),
      reader.fixed(Kdf.keyLength),
      reader.fixed(P256.publicKeyLength),
      [],
    );
    reader.end();
    return receiver;
  }

  /** The key id a sender key message names, to find its receiver; throws `malformed` when the bytes are not one. */
  static messageKeyId(message: Uint8Array): Uint8Array {
    const reader = new WireReader(message, 'sender key message');
    if (reader.byte() !== SenderKeyChain.messageKind || reader.byte() !== RatchetSession.protocolVersion) throw reader.malformed();
    return reader.fixed(SenderKeyChain.keyIdLength);
  }

  /**
   * Checks the signature and decrypts; rejects with `EncryptionException` (changing nothing) otherwise: `malformed`,
   * `unknown_sender_key`, `bad_signature`, `replayed`, `too_far_ahead`, `not_authentic`.
   */
  decrypt(message: Uint8Array): Promise<Uint8Array> {
    return this.#queue.run(async () => {
      if (message.length < SenderKeyChain.headerLength + P256.signatureLength) {
        throw new EncryptionException(EncryptionErrorCodes.Malformed, 'The bytes are not a valid sender key message.');
      }
      const signed = message.subarray(0, message.length - P256.signatureLength);
      if (!equal(SenderKeyReceiver.messageKeyId(message), this.keyId)) {
        throw new EncryptionException(EncryptionErrorCodes.UnknownSenderKey, 'The message uses another sender key than this one.');
      }
      this.#verifier ??= P256.importVerifier(this.#signingKey);
      await P256.verifyOrThrow(await this.#verifier, signed, message.subarray(signed.length), 'group message');
      const reader = new WireReader(signed, 'sender key message');
      reader.fixed(2 + SenderKeyChain.keyIdLength);
      const iteration = reader.uint32();
      const body = reader.rest();
      const header = signed.subarray(0, SenderKeyChain.headerLength);

      if (iteration < this.#iteration) {
        const kept = this.#skipped.find((k) => k.iteration === iteration);
        if (!kept) throw new EncryptionException(EncryptionErrorCodes.Replayed, `Message ${iteration} of this sender key was already decrypted, or its key was dropped.`);
        const plaintext = await MessageCipher.decrypt(kept.messageKey, body, header);
        kept.messageKey.fill(0);
        this.#skipped.splice(this.#skipped.indexOf(kept), 1);
        return plaintext;
      }

      const { skipped, chain } = await Kdf.skip(this.#chain, this.#iteration, iteration);
      const { messageKey, nextChainKey } = await Kdf.chain(chain);
      const result = await MessageCipher.decrypt(messageKey, body, header);
      this.#chain = nextChainKey;
      this.#iteration = (iteration + 1) >>> 0;
      this.#skipped.push(...skipped.map(({ number, messageKey: key }) => ({ iteration: number, messageKey: key })));
      if (this.#skipped.length > MAX_SKIPPED_KEYS) this.#skipped.splice(0, this.#skipped.length - MAX_SKIPPED_KEYS);
      return result;
    });
  }

  /** The receiver with its keys, for the app's session store: the same bytes as the .NET client's. Equal receivers export equal bytes. */
  export(): Uint8Array {
    const writer = new WireWriter()
      .byte(stateVersion)
      .text(this.roomId)
      .fixed(this.keyId)
      .uint32(this.#iteration)
      .fixed(this.#chain)
      .fixed(this.#signingKey)
      .uint32(this.#skipped.length);
    for (const { iteration, messageKey } of this.#skipped) writer.uint32(iteration).fixed(messageKey);
    return writer.toArray();
  }

  /** Reads what {@link export} wrote (here or in the .NET client); throws `malformed` or `invalid_key`. */
  static import(state: Uint8Array): SenderKeyReceiver {
    const reader = new WireReader(state, 'sender key receiver state');
    if (reader.byte() !== stateVersion) throw reader.malformed();
    const roomId = reader.text();
    const keyId = reader.fixed(SenderKeyChain.keyIdLength);
    const iteration = reader.uint32();
    const chain = reader.fixed(Kdf.keyLength);
    const signingKey = reader.fixed(P256.publicKeyLength);
    const skipped: { iteration: number; messageKey: Uint8Array }[] = [];
    for (let count = reader.uint32(); count > 0; count--) skipped.push({ iteration: reader.uint32(), messageKey: reader.fixed(Kdf.keyLength) });
    reader.end();
    return new SenderKeyReceiver(roomId, keyId, iteration, chain, signingKey, skipped);
  }
}
