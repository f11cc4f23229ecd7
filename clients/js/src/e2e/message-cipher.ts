import { concat, fixedTimeEqual, source, subtle } from './bytes.js';
import { EncryptionErrorCodes } from './encryption-error-codes.js';
import { EncryptionException } from './encryption-exception.js';
import { Kdf } from './kdf.js';

const mac = async (key: Uint8Array, associatedData: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> => {
  const hmac = await subtle().importKey('raw', source(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await subtle().sign('HMAC', hmac, source(concat(associatedData, ciphertext))));
};

const aes = (key: Uint8Array, usage: 'encrypt' | 'decrypt'): Promise<CryptoKey> =>
  subtle().importKey('raw', source(key), 'AES-CBC', false, [usage]);

/**
 * The Signal specification's recommended message encryption: AES-256-CBC with PKCS#7 padding, then HMAC-SHA256 over
 * the associated data and the ciphertext, appended in full (32 bytes). The MAC is checked in constant time before
 * anything is decrypted.
 */
export class MessageCipher {
  static readonly macLength = 32;

  static async encrypt(messageKey: Uint8Array, plaintext: Uint8Array, associatedData: Uint8Array): Promise<Uint8Array> {
    const keys = await Kdf.messageKeys(messageKey);
    try {
      const iv = keys.slice(64, 80);
      const ciphertext = new Uint8Array(await subtle().encrypt({ name: 'AES-CBC', iv }, await aes(keys.subarray(0, 32), 'encrypt'), source(plaintext)));
      return concat(ciphertext, await mac(keys.subarray(32, 64), associatedData, ciphertext));
    } finally {
      keys.fill(0);
    }
  }

  /** Throws `malformed` (not whole AES blocks and a MAC, or bad padding) or `not_authentic` (the MAC does not verify). */
  static async decrypt(messageKey: Uint8Array, ciphertextAndMac: Uint8Array, associatedData: Uint8Array): Promise<Uint8Array> {
    if (ciphertextAndMac.length < 16 + MessageCipher.macLength || (ciphertextAndMac.length - MessageCipher.macLength) % 16 !== 0) {
      throw new EncryptionException(EncryptionErrorCodes.Malformed, 'The ciphertext is not a whole number of AES blocks followed by a 32-byte MAC.');
    }
    const keys = await Kdf.messageKeys(messageKey);
    try {
      const ciphertext = ciphertextAndMac.subarray(0, ciphertextAndMac.length - MessageCipher.macLength);
      const expected = await mac(keys.subarray(32, 64), associatedData, ciphertext);
      if (!fixedTimeEqual(expected, ciphertextAndMac.subarray(ciphertext.length))) {
        throw new EncryptionException(EncryptionErrorCodes.NotAuthentic, "The message's MAC does not verify: it was altered, or encrypted under other keys or associated data.");
      }
      const key = await aes(keys.subarray(0, 32), 'decrypt');
      try {
        return new Uint8Array(await subtle().decrypt({ name: 'AES-CBC', iv: keys.slice(64, 80) }, key, source(ciphertext)));
      } catch (error) {
        throw new EncryptionException(EncryptionErrorCodes.Malformed, "The message's padding is invalid.", { cause: error });
      }
    } finally {
      keys.fill(0);
    }
  }
}
