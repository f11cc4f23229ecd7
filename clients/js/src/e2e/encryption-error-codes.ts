/** The codes of {@link EncryptionException}, the same as the .NET client's; docs/encryption.md lists what each means. */
export const EncryptionErrorCodes = {
  /** A public key is not a valid uncompressed P-256 point, or a private key is not a valid scalar. */
  InvalidKey: 'invalid_key',
  /** A signature (device identity, signed prekey, sender key message) does not verify. */
  BadSignature: 'bad_signature',
  /** The bytes are not a ChatKit encrypted message, key or state of a known kind and version. */
  Malformed: 'malformed',
  /** The message's authentication code does not verify: it was altered, or sent under other keys or associated data. */
  NotAuthentic: 'not_authentic',
  /** The message's key was already used or dropped: a replay, or a message older than the skipped-key store keeps. */
  Replayed: 'replayed',
  /** The message is further ahead of its chain than `RatchetSession.maxSkip` allows. */
  TooFarAhead: 'too_far_ahead',
  /** The message needs a one-time or signed prekey this device no longer has. */
  UnknownPreKey: 'unknown_prekey',
  /** A handshake comes from a device the key directory does not list for its user with those keys. */
  UnknownDevice: 'unknown_device',
  /** A group message uses a sender key this device has not received. */
  UnknownSenderKey: 'unknown_sender_key',
} as const;

/** One of {@link EncryptionErrorCodes}. */
export type EncryptionErrorCode = (typeof EncryptionErrorCodes)[keyof typeof EncryptionErrorCodes];
