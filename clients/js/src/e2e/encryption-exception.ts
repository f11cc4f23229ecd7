import type { EncryptionErrorCode } from './encryption-error-codes.js';

/**
 * A key, signature or encrypted message ChatKit refuses, with a stable `code` from {@link EncryptionErrorCodes}.
 * When a decrypt throws it, the session or sender key it was called on is exactly as it was before the call.
 */
export class EncryptionException extends Error {
  override name = 'EncryptionException';
  /** The stable error code. */
  readonly code: EncryptionErrorCode;

  constructor(code: EncryptionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
