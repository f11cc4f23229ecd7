import type { DeviceIdentityKey } from './device-identity-key.js';
import type { OneTimePreKey } from './one-time-pre-key.js';
import { P256 } from './p256.js';
import type { SignedPreKey } from './signed-pre-key.js';

/** What a device needs to start a session with another device without it being online. */
export class PreKeyBundle {
  /**
   * @param identity the other device's identity.
   * @param signedPreKey its current signed prekey.
   * @param oneTimePreKey one of its one-time prekeys, or null when the directory has none left (the handshake then runs without one).
   */
  constructor(
    readonly identity: DeviceIdentityKey,
    readonly signedPreKey: SignedPreKey,
    readonly oneTimePreKey: OneTimePreKey | null,
  ) {}

  /** Checks every key and signature; rejects with `EncryptionException` when any is wrong. */
  async verify(): Promise<void> {
    await this.identity.verify();
    await this.signedPreKey.verify(this.identity);
    if (this.oneTimePreKey) P256.validate(this.oneTimePreKey.publicKey);
  }
}
