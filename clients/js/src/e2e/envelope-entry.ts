/** One pairwise message of an `EncryptedEnvelope`. */
export class EnvelopeEntry {
  /**
   * @param user the receiving user.
   * @param device the receiving device.
   * @param message the ratchet (or prekey) message for that device.
   */
  constructor(
    readonly user: string,
    readonly device: string,
    readonly message: Uint8Array,
  ) {}
}
