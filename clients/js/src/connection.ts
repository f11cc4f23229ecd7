import { ChatKitError } from './errors.js';
import type { ClientFrame, Limits, ServerFrame } from './types.js';

/** The part of the WHATWG WebSocket the client uses; the global `WebSocket` and the `ws` package both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export const PROTOCOL = 'chatkit.v1';

/** Opens a WebSocket offering `chatkit.v1`; rejects with `connection_failed` or `timeout`. */
export const openSocket = (WS: WebSocketConstructor, url: string, timeoutMs: number): Promise<WebSocketLike> =>
  new Promise((resolve, reject) => {
    const ws = new WS(url, PROTOCOL);
    // Browsers fire error then close; Node 20's WebSocket fires only error for a refused handshake.
    const fail = (error: ChatKitError) => {
      clearTimeout(timer);
      ws.onopen = ws.onclose = ws.onerror = null;
      try {
        ws.close();
      } catch {
        // never opened
      }
      reject(error);
    };
    const timer = setTimeout(() => fail(new ChatKitError('timeout', `The WebSocket to ${redact(url)} did not open within ${timeoutMs} ms.`)), timeoutMs);
    ws.onerror = () => fail(new ChatKitError('connection_failed', `Could not open a WebSocket to ${redact(url)}.`));
    ws.onclose = (e) => fail(new ChatKitError('connection_failed', `Could not open a WebSocket to ${redact(url)} (close code ${e.code}).`));
    ws.onopen = () => {
      clearTimeout(timer);
      ws.onopen = ws.onclose = ws.onerror = null;
      resolve(ws);
    };
  });

/** The URL without its access token, for messages. */
export const redact = (url: string): string => url.replace(/([?&]access_token=)[^&]*/, '$1…');

/** The error for a connection the server closed with `code`. */
const closedWith = (code: number, reason: string): ChatKitError =>
  code === 4002
    ? new ChatKitError('unsupported_protocol', `The server closed the connection with 4002 (unsupported_protocol): it does not speak ${PROTOCOL}.`)
    : new ChatKitError('connection_lost', `The connection closed (code ${code}${reason ? ' ' + reason : ''}) before the reply came.`);

interface Pending {
  resolve: (frame: ServerFrame) => void;
  reject: (error: ChatKitError) => void;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * One open WebSocket: sends request frames (paced to the server's announced rate), matches replies to requests, and
 * reports its end once. Never reused: a connection that fails is replaced.
 */
export class Connection {
  readonly #ws: WebSocketLike;
  readonly #pending = new Map<string, Pending>();
  readonly #onEnd: (error: ChatKitError) => void;
  #error: ChatKitError | undefined;
  // Token bucket like the server's, per millisecond, a tenth slower than announced; tokens may go negative (reserved).
  #rate = 0;
  #burst = 0;
  #tokens = 0;
  #last = 0;
  /** The id of this connection's `hello`. */
  helloId = '';

  constructor(ws: WebSocketLike, onFrame: (frame: Record<string, any>) => void, onEnd: (error: ChatKitError) => void) {
    this.#ws = ws;
    this.#onEnd = onEnd;
    ws.onmessage = (e) => {
      if (this.#error || typeof e.data !== 'string') return; // the protocol has text frames only
      let frame: unknown;
      try {
        frame = JSON.parse(e.data);
      } catch {
        return;
      }
      if (frame && typeof frame === 'object' && !Array.isArray(frame)) onFrame(frame as Record<string, any>);
    };
    ws.onclose = (e) => this.#end(closedWith(e.code, e.reason));
    // Browsers follow an error with a close event; not every runtime does.
    ws.onerror = () => this.drop(new ChatKitError('connection_lost', 'The WebSocket failed before the reply came.'));
  }

  /** Paces frames to the rate the welcome announced; the hello already counted. */
  pace(limits: Partial<Limits> | undefined): void {
    const rate = limits?.ratePerSecond ?? 0;
    const burst = limits?.rateBurst ?? 0;
    if (rate > 0 && burst > 0) {
      this.#rate = (rate * 0.9) / 1000;
      this.#tokens = (this.#burst = burst) - 1;
      this.#last = Date.now();
    }
  }

  /** Sends a request; resolves with its reply frame, rejects with its error or when the connection ends. */
  request(frame: ClientFrame, timeoutMs: number): Promise<ServerFrame> {
    return new Promise((resolve, reject) => {
      if (this.#error) return reject(this.#error);
      const pending: Pending = { resolve, reject };
      this.#pending.set(frame.id, pending);
      const go = () => {
        if (this.#error) return;
        try {
          this.#ws.send(JSON.stringify(frame));
        } catch (cause) {
          return this.drop(new ChatKitError('connection_lost', 'The connection failed while a request was being sent.', { cause }));
        }
        // Replies come in request order: one that is late means the connection is stuck.
        pending.timer = setTimeout(() => {
          this.#pending.delete(frame.id);
          reject(new ChatKitError('timeout', `The server did not answer '${frame.type}' within ${timeoutMs} ms; the client reconnects.`));
          this.drop(new ChatKitError('connection_lost', `The connection was dropped: a reply took longer than ${timeoutMs} ms.`));
        }, timeoutMs);
      };
      const wait = this.#delay();
      if (wait > 0) setTimeout(go, wait);
      else go();
    });
  }

  /** Hands a reply, or the error it stands for, to the request `re`. */
  settle(re: string, frame: ServerFrame, error?: ChatKitError): void {
    const pending = this.#pending.get(re);
    if (!pending) return;
    this.#pending.delete(re);
    clearTimeout(pending.timer);
    if (error) pending.reject(error);
    else pending.resolve(frame);
  }

  /** Gives up on the connection now, without waiting for a closing handshake that may never come. */
  drop(error: ChatKitError): void {
    if (this.#error) return;
    const ws = this.#ws;
    ws.onclose = ws.onmessage = ws.onerror = null;
    try {
      ws.close();
    } catch {
      // already closed
    }
    this.#end(error);
  }

  /** Closes normally (1000); resolves when the socket has closed, or after `timeoutMs`. */
  close(error: ChatKitError, timeoutMs: number): Promise<void> {
    this.#end(error);
    const ws = this.#ws;
    return new Promise((resolve) => {
      if (ws.readyState === 3) return resolve();
      const timer = setTimeout(resolve, timeoutMs);
      ws.onclose = () => {
        clearTimeout(timer);
        resolve();
      };
      try {
        ws.close(1000);
      } catch {
        resolve();
      }
    });
  }

  #end(error: ChatKitError): void {
    if (this.#error) return;
    this.#error = error;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.#onEnd(error);
  }

  /** How long the next frame must wait to stay within the server's rate; reserves its turn. */
  #delay(): number {
    if (!this.#rate) return 0;
    const now = Date.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#last) * this.#rate) - 1;
    this.#last = now;
    return this.#tokens < 0 ? -this.#tokens / this.#rate : 0;
  }
}
