/** Codes the server sends in `error` frames (docs/protocol.md, "Error codes"). */
export type ServerErrorCode =
  | 'malformed_frame'
  | 'unknown_type'
  | 'missing_field'
  | 'invalid_field'
  | 'frame_too_large'
  | 'message_too_large'
  | 'hello_required'
  | 'unauthenticated'
  | 'already_connected'
  | 'not_found'
  | 'forbidden'
  | 'direct_room'
  | 'invalid_sequence'
  | 'rate_limited'
  | 'unavailable'
  | 'internal_error'
  | 'not_encrypted'
  | 'invalid_key'
  | 'too_many_keys';

/**
 * Codes of failures the client detects itself:
 * - `connection_failed`: the WebSocket could not be opened, or closed before the welcome;
 * - `connection_lost`: the connection dropped before the reply came (the server may have handled the request);
 * - `timeout`: no connection, or no reply, within `requestTimeoutMs`;
 * - `not_connected`: the client is not connected (never connected, gave up, or closed);
 * - `unsupported_protocol`: the server does not speak `chatkit.v1`.
 */
export type ClientErrorCode = 'connection_failed' | 'connection_lost' | 'timeout' | 'not_connected' | 'unsupported_protocol';

/** A code of either kind; a newer server may send codes this list does not know yet. */
export type ErrorCode = ServerErrorCode | ClientErrorCode | (string & {});

/** A failed request or connection. `code` is the server's code unchanged, or a client code. */
export class ChatKitError extends Error {
  override name = 'ChatKitError';
  /** The stable error code, for example `forbidden` or `connection_lost`. */
  readonly code: ErrorCode;
  /** With `rate_limited`: how long to wait before sending again. */
  readonly retryAfterMs?: number;

  constructor(code: ErrorCode, message: string, options?: { retryAfterMs?: number | undefined; cause?: unknown }) {
    super(message, options && 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    if (options?.retryAfterMs != null) this.retryAfterMs = options.retryAfterMs;
  }
}

/** The error an `error` frame stands for. */
export const fromFrame = (f: { code?: unknown; message?: unknown; retryAfterMs?: unknown }): ChatKitError => {
  const code = typeof f.code === 'string' && f.code ? f.code : 'internal_error';
  return new ChatKitError(code, typeof f.message === 'string' && f.message ? f.message : `The server answered with error '${code}'.`, {
    retryAfterMs: typeof f.retryAfterMs === 'number' ? f.retryAfterMs : undefined,
  });
};
