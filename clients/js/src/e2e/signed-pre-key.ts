import { utf8 } from './bytes.js';
import type { DeviceIdentityKey } from './device-identity-key.js';
import { P256 } from './p256.js';
import { WireWriter } from './wire-writer.js';

const label = utf8('ChatKit_SignedPreKey_v1');

/** A medium-term ECDH P-256 prekey, signed by the device's signing key and replaced from time to time. */
export class SignedPreKey {
  /**
   * @param id the prekey's id, unique on its device.
   * @param publicKey the 65-byte uncompressed point.
   * @param signature the device signing key's P1363 signature over the id and the key.
   */
  constructor(
    readonly id: number,
    readonly publicKey: Uint8Array,
    readonly signature: Uint8Array,
  ) {}

  /** Checks the key and its signature by `identity`; rejects with `EncryptionException` when either is wrong. */
  async verify(identity: DeviceIdentityKey): Promise<void> {
    P256.validate(this.publicKey);
    await P256.verifyOrThrow(identity.signingKey, SignedPreKey.signedBytes(this.id, this.publicKey), this.signature, `signed prekey ${this.id} of device '${identity.deviceId}'`);
  }

  /** What the signing key signs: the label, the id (uint32) and the public key. */
  static signedBytes(id: number, publicKey: Uint8Array): Uint8Array {
    return new WireWriter().fixed(label).uint32(id).fixed(publicKey).toArray();
  }
}
