import { compare, concat, source, subtle, utf8 } from './bytes.js';
import { P256 } from './p256.js';

const formatVersion = 0;

/**
 * The number two users compare (read aloud, or side by side) to know that no one sits between them: 60 digits made
 * from both users' ids and the signing keys of all their devices. Both sides compute the same number; it changes when
 * either user adds, removes or re-keys a device.
 */
export class SafetyNumber {
  /** How many times each user's fingerprint is hashed: makes a search for a colliding key costly. */
  static readonly iterations = 5200;

  /** The safety number of two users, as 60 digits (show it in 12 groups of 5); the same in either argument order. */
  static async compute(userA: string, signingKeysA: Iterable<Uint8Array>, userB: string, signingKeysB: Iterable<Uint8Array>): Promise<string> {
    const a = await SafetyNumber.fingerprint(userA, signingKeysA);
    const b = await SafetyNumber.fingerprint(userB, signingKeysB);
    return a <= b ? a + b : b + a;
  }

  /** One user's half: 30 digits from the user id and the signing keys of all the user's devices; `invalid_key` for a key that is not a P-256 point. */
  static async fingerprint(userId: string, signingKeys: Iterable<Uint8Array>): Promise<string> {
    if (!userId) throw new RangeError('userId is required.');
    const keys = [...signingKeys];
    if (keys.length === 0) throw new RangeError('A user needs at least one device key for a safety number.');
    keys.forEach((key) => P256.validate(key));
    const combined = concat(...keys.sort(compare));
    let hash = new Uint8Array(await subtle().digest('SHA-512', source(concat(new Uint8Array([formatVersion >> 8, formatVersion & 0xff]), combined, utf8(userId)))));
    const input = new Uint8Array(hash.length + combined.length);
    input.set(combined, hash.length);
    for (let i = 0; i < SafetyNumber.iterations; i++) {
      input.set(hash);
      hash = new Uint8Array(await subtle().digest('SHA-512', input));
    }
    let digits = '';
    for (let chunk = 0; chunk < 6; chunk++) {
      // 5 bytes are at most 2^40: exact in a double.
      const value = hash.subarray(chunk * 5, chunk * 5 + 5).reduce((total, byte) => total * 256 + byte, 0);
      digits += String(value % 100000).padStart(5, '0');
    }
    return digits;
  }
}
