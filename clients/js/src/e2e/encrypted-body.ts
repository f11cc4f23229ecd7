/**
 * The text form of an end-to-end encrypted message body: {@link prefix} followed by the base64url of the binary
 * envelope (docs/encryption.md). The server checks only the prefix: in an encrypted room it refuses any other body, so
 * a client that forgets to encrypt cannot leak plaintext into the room's history.
 */
export class EncryptedBody {
  /** The start of every encrypted body (envelope format version 1). */
  static readonly prefix = 'e2e1:';
}
