/** What an `EncryptedEnvelope` carries (its first byte). */
export const EnvelopeKind = {
  /** The text, encrypted pairwise for each receiving device (direct conversations). */
  Direct: 1,
  /** The text, encrypted once under the sender's sender key (group rooms). */
  Group: 2,
  /** No text: the sender's sender key distribution, encrypted pairwise for devices that lack it. */
  Keys: 3,
} as const;

/** One of {@link EnvelopeKind}. */
export type EnvelopeKind = (typeof EnvelopeKind)[keyof typeof EnvelopeKind];
