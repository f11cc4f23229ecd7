import { subtle, toBase64Url } from './bytes.js';
import { multiplyBase, toBigInt, toBytes32 } from './curve.js';

/**
 * A P-256 key pair as bytes (the 32-byte private scalar and the 65-byte uncompressed public point), with the WebCrypto
 * keys made from them on first use and kept: a pair is used several times (an identity in every handshake, a signing
 * key for every group message). The public point of a pair read from stored state is computed when first asked for,
 * so a device with a thousand one-time prekeys imports quickly.
 */
export class EcKeyPair {
  /** The 32-byte big-endian private scalar (checked to be in 1..n-1 by whoever made the pair). */
  readonly privateKey: Uint8Array;
  #publicKey: Uint8Array | undefined;
  #agreement: Promise<CryptoKey> | undefined;
  #signer: Promise<CryptoKey> | undefined;

  constructor(privateKey: Uint8Array, publicKey?: Uint8Array, agreement?: CryptoKey) {
    this.privateKey = privateKey;
    this.#publicKey = publicKey;
    if (agreement) this.#agreement = Promise.resolve(agreement);
  }

  /** The 65-byte uncompressed public point. */
  get publicKey(): Uint8Array {
    if (!this.#publicKey) {
      const [x, y] = multiplyBase(toBigInt(this.privateKey));
      this.#publicKey = new Uint8Array(65);
      this.#publicKey.set([4]);
      this.#publicKey.set(toBytes32(x), 1);
      this.#publicKey.set(toBytes32(y), 33);
    }
    return this.#publicKey;
  }

  /** The pair as a WebCrypto ECDH private key (imported once). */
  agreement(): Promise<CryptoKey> {
    return (this.#agreement ??= subtle().importKey('jwk', this.#jwk(), { name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']));
  }

  /** The pair as a WebCrypto ECDSA private key (imported once). */
  signer(): Promise<CryptoKey> {
    return (this.#signer ??= subtle().importKey('jwk', this.#jwk(), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']));
  }

  #jwk(): JsonWebKey {
    const publicKey = this.publicKey;
    return {
      kty: 'EC',
      crv: 'P-256',
      x: toBase64Url(publicKey.subarray(1, 33)),
      y: toBase64Url(publicKey.subarray(33)),
      d: toBase64Url(this.privateKey),
    };
  }
}
