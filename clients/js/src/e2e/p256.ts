import { fromBase64Url, source, subtle } from './bytes.js';
import { isOnCurve, n, toBigInt } from './curve.js';
import { EcKeyPair } from './ec-key-pair.js';
import { EncryptionErrorCodes } from './encryption-error-codes.js';
import { EncryptionException } from './encryption-exception.js';

const ecdh = { name: 'ECDH', namedCurve: 'P-256' } as const;
const ecdsa = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const sha256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

/**
 * The NIST P-256 operations the protocol uses, on raw bytes: public keys as uncompressed SEC1 points (65 bytes,
 * 0x04 || X || Y), private keys as 32-byte scalars, signatures as IEEE P1363 (r || s, 64 bytes), ECDH results as the
 * shared point's X coordinate (32 bytes). Every public key is checked to be on the curve before use (`invalid_key`).
 */
export class P256 {
  static readonly publicKeyLength = 65;
  static readonly privateKeyLength = 32;
  static readonly signatureLength = 64;

  /** A fresh key pair; the WebCrypto key it was made as stays with it for the ECDH that usually follows. */
  static async generate(): Promise<EcKeyPair> {
    const { privateKey } = await subtle().generateKey(ecdh, true, ['deriveBits']);
    const jwk = await subtle().exportKey('jwk', privateKey);
    const [d, x, y] = [jwk.d, jwk.x, jwk.y].map((field) => (field === undefined ? undefined : fromBase64Url(field)));
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || d?.length !== 32 || x?.length !== 32 || y?.length !== 32) {
      throw new EncryptionException(EncryptionErrorCodes.InvalidKey, 'WebCrypto generated a key that is not a P-256 key pair.');
    }
    const publicKey = new Uint8Array(65);
    publicKey.set([4]);
    publicKey.set(x, 1);
    publicKey.set(y, 33);
    return new EcKeyPair(d, publicKey, privateKey);
  }

  /** The key pair of a private scalar (stored state, known-answer vectors); `invalid_key` unless it is in 1..n-1. */
  static fromPrivate(d: Uint8Array): EcKeyPair {
    if (d.length !== P256.privateKeyLength) {
      throw new EncryptionException(EncryptionErrorCodes.InvalidKey, `A P-256 private key is ${P256.privateKeyLength} bytes; got ${d.length}.`);
    }
    const scalar = toBigInt(d);
    if (scalar === 0n || scalar >= n) throw new EncryptionException(EncryptionErrorCodes.InvalidKey, 'The bytes are not a valid P-256 private key.');
    return new EcKeyPair(d.slice());
  }

  /** Checks that the bytes are an uncompressed point on the curve; throws `invalid_key` otherwise. */
  static validate(publicKey: Uint8Array): void {
    if (publicKey.length !== P256.publicKeyLength || publicKey[0] !== 0x04) {
      throw new EncryptionException(EncryptionErrorCodes.InvalidKey, `A P-256 public key is an uncompressed point of ${P256.publicKeyLength} bytes starting with 0x04.`);
    }
    if (!isOnCurve(toBigInt(publicKey.subarray(1, 33)), toBigInt(publicKey.subarray(33)))) {
      throw new EncryptionException(EncryptionErrorCodes.InvalidKey, 'The public key is not a point on P-256.');
    }
  }

  /** The ECDH shared secret (the X coordinate of the shared point) with a peer's public key. */
  static async agree(own: EcKeyPair, peerPublicKey: Uint8Array): Promise<Uint8Array> {
    const peer = await P256.#importPublic(peerPublicKey, ecdh, []);
    return new Uint8Array(await subtle().deriveBits({ name: 'ECDH', public: peer }, await own.agreement(), 256));
  }

  /** An ECDSA P-256 SHA-256 signature in P1363 form (randomized, so two signatures of the same data differ). */
  static async sign(own: EcKeyPair, data: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(await subtle().sign(sha256, await own.signer(), source(data)));
  }

  /** Whether the signature verifies; throws `invalid_key` when the public key is not a P-256 point. */
  static async verify(key: Uint8Array | CryptoKey, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
    const verifier = key instanceof Uint8Array ? await P256.importVerifier(key) : key;
    if (signature.length !== P256.signatureLength) return false;
    try {
      return await subtle().verify(sha256, verifier, source(signature), source(data));
    } catch {
      // Some engines throw rather than answer false for r or s out of range.
      return false;
    }
  }

  /** A public key as an ECDSA key for verifying, checked to be on the curve. */
  static importVerifier(publicKey: Uint8Array): Promise<CryptoKey> {
    return P256.#importPublic(publicKey, ecdsa, ['verify']);
  }

  /** Throws `bad_signature` (naming `what` was signed) unless the signature verifies. */
  static async verifyOrThrow(key: Uint8Array | CryptoKey, data: Uint8Array, signature: Uint8Array, what: string): Promise<void> {
    if (!(await P256.verify(key, data, signature))) {
      throw new EncryptionException(EncryptionErrorCodes.BadSignature, `The signature on the ${what} does not verify.`);
    }
  }

  static async #importPublic(publicKey: Uint8Array, algorithm: EcKeyImportParams, usages: KeyUsage[]): Promise<CryptoKey> {
    P256.validate(publicKey);
    try {
      return await subtle().importKey('raw', source(publicKey), algorithm, true, usages);
    } catch (error) {
      throw new EncryptionException(EncryptionErrorCodes.InvalidKey, 'The public key is not a point on P-256.', { cause: error });
    }
  }
}
