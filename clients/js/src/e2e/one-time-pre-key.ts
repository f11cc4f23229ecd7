/** A single-use ECDH P-256 prekey: the key directory hands each one out at most once. */
export class OneTimePreKey {
  /**
   * @param id the prekey's id, unique on its device (never 0).
   * @param publicKey the 65-byte uncompressed point.
   */
  constructor(
    readonly id: number,
    readonly publicKey: Uint8Array,
  ) {}
}
