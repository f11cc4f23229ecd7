import { source, subtle, utf8 } from './bytes.js';
import { EncryptionErrorCodes } from './encryption-error-codes.js';
import { EncryptionException } from './encryption-exception.js';
import { MAX_SKIP } from './limits.js';

const zeroSalt = new Uint8Array(32);
const messageKeyConstant = new Uint8Array([0x01]);
const chainKeyConstant = new Uint8Array([0x02]);

const hkdf = async (ikm: Uint8Array, length: number, salt: Uint8Array, info: Uint8Array): Promise<Uint8Array> => {
  const key = await subtle().importKey('raw', source(ikm), 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await subtle().deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: source(salt), info: source(info) }, key, length * 8));
};

/** The key derivations of the protocol (the Signal specifications' recommended choices, on SHA-256). */
export class Kdf {
  static readonly keyLength = 32;

  /** The HKDF info strings: each binds the protocol version and the suite (P-256, SHA-256, AES-256-CBC + HMAC-SHA256). */
  static readonly info = {
    handshake: utf8('ChatKit_X3DH_P256_SHA256_AES256CBC_v1'),
    ratchet: utf8('ChatKit_Ratchet_v1'),
    messageKeys: utf8('ChatKit_MessageKeys_v1'),
  } as const;

  /** KDF_RK: HKDF-SHA256 with the root key as salt and the DH output as input; 32 bytes each of new root key and chain key. */
  static async root(rootKey: Uint8Array, dhOutput: Uint8Array): Promise<{ rootKey: Uint8Array; chainKey: Uint8Array }> {
    const output = await hkdf(dhOutput, 2 * Kdf.keyLength, rootKey, Kdf.info.ratchet);
    return { rootKey: output.slice(0, Kdf.keyLength), chainKey: output.slice(Kdf.keyLength) };
  }

  /** KDF_CK: HMAC-SHA256 of 0x01 (message key) and 0x02 (next chain key) under the chain key. */
  static async chain(chainKey: Uint8Array): Promise<{ messageKey: Uint8Array; nextChainKey: Uint8Array }> {
    const key = await subtle().importKey('raw', source(chainKey), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const [messageKey, nextChainKey] = await Promise.all([subtle().sign('HMAC', key, messageKeyConstant), subtle().sign('HMAC', key, chainKeyConstant)]);
    return { messageKey: new Uint8Array(messageKey), nextChainKey: new Uint8Array(nextChainKey) };
  }

  /**
   * Steps a chain from message `from` to `to`: the message keys skipped on the way (for late messages) and the chain
   * key at `to`. Throws `too_far_ahead` for more than `RatchetSession.maxSkip`.
   */
  static async skip(chain: Uint8Array, from: number, to: number): Promise<{ skipped: { number: number; messageKey: Uint8Array }[]; chain: Uint8Array }> {
    // Unsigned like the .NET code: `to` below `from` wraps around to a huge gap.
    if (to < from || to - from > MAX_SKIP) {
      const gap = (to - from) >>> 0;
      throw new EncryptionException(EncryptionErrorCodes.TooFarAhead, `The message is ${gap} messages ahead of its chain; at most ${MAX_SKIP} may be skipped.`);
    }
    const skipped: { number: number; messageKey: Uint8Array }[] = [];
    for (let number = from; number < to; number++) {
      const { messageKey, nextChainKey } = await Kdf.chain(chain);
      skipped.push({ number, messageKey });
      chain = nextChainKey;
    }
    return { skipped, chain };
  }

  /** The handshake's shared secret: HKDF-SHA256 over 32 0xFF bytes followed by the DH outputs, zero salt. */
  static async handshake(dhOutputs: readonly Uint8Array[]): Promise<Uint8Array> {
    const input = new Uint8Array(Kdf.keyLength * (dhOutputs.length + 1));
    input.fill(0xff, 0, Kdf.keyLength);
    dhOutputs.forEach((output, i) => input.set(output, Kdf.keyLength * (i + 1)));
    const secret = await hkdf(input, Kdf.keyLength, zeroSalt, Kdf.info.handshake);
    input.fill(0);
    return secret;
  }

  /** The AES-256 key, HMAC-SHA256 key and CBC IV of one message key: 80 bytes of HKDF-SHA256, zero salt. */
  static messageKeys(messageKey: Uint8Array): Promise<Uint8Array> {
    return hkdf(messageKey, 80, zeroSalt, Kdf.info.messageKeys);
  }
}
