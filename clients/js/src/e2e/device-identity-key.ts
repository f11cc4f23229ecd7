import { equal, utf8 } from './bytes.js';
import { P256 } from './p256.js';
import type { WireReader } from './wire-reader.js';
import { WireWriter } from './wire-writer.js';

const label = utf8('ChatKit_DeviceIdentity_v1');

/**
 * The public identity of one device of one user, as the key directory hands it out: an ECDSA P-256 signing key that
 * certifies the device's ECDH P-256 identity key together with the user and device ids. Anyone can check it with
 * {@link verify}; the directory is not trusted to vouch for it.
 */
export class DeviceIdentityKey {
  /**
   * @param userId the user the device belongs to.
   * @param deviceId the device's id, chosen by the device, unique for its user.
   * @param signingKey the ECDSA P-256 public key (65-byte uncompressed point): the device's long-term identity, the key safety numbers are made from.
   * @param identityKey the ECDH P-256 public key (65-byte uncompressed point) used in handshakes.
   * @param signature the signing key's P1363 signature over the ids and the identity key.
   */
  constructor(
    readonly userId: string,
    readonly deviceId: string,
    readonly signingKey: Uint8Array,
    readonly identityKey: Uint8Array,
    readonly signature: Uint8Array,
  ) {}

  /** Checks both keys and the signature; rejects with `EncryptionException` (`invalid_key`, `bad_signature`) when any is wrong. */
  async verify(): Promise<void> {
    P256.validate(this.signingKey);
    P256.validate(this.identityKey);
    await P256.verifyOrThrow(
      this.signingKey,
      DeviceIdentityKey.signedBytes(this.userId, this.deviceId, this.identityKey),
      this.signature,
      `identity key of device '${this.deviceId}' of user '${this.userId}'`,
    );
  }

  /** Whether this is the same device with the same keys as `other` (the signature is not compared). */
  sameKeysAs(other: DeviceIdentityKey): boolean {
    return this.userId === other.userId && this.deviceId === other.deviceId && equal(this.signingKey, other.signingKey) && equal(this.identityKey, other.identityKey);
  }

  /** What the signing key signs: the label, the user and device ids (16-bit length and UTF-8) and the identity key. */
  static signedBytes(userId: string, deviceId: string, identityKey: Uint8Array): Uint8Array {
    return new WireWriter().fixed(label).text(userId).text(deviceId).fixed(identityKey).toArray();
  }

  /** Writes the identity as prekey messages and stored state carry it. */
  writeTo(writer: WireWriter): void {
    writer.text(this.userId).text(this.deviceId).fixed(this.signingKey).fixed(this.identityKey).fixed(this.signature);
  }

  /** Reads what {@link writeTo} wrote (the keys are not checked). */
  static readFrom(reader: WireReader): DeviceIdentityKey {
    return new DeviceIdentityKey(reader.text(), reader.text(), reader.fixed(P256.publicKeyLength), reader.fixed(P256.publicKeyLength), reader.fixed(P256.signatureLength));
  }
}
