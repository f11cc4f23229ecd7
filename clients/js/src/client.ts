import { Connection, openSocket, PROTOCOL, redact, type WebSocketConstructor } from './connection.js';
import { Emitter } from './emitter.js';
import { ChatKitError, fromFrame } from './errors.js';
import { Positions } from './positions.js';
import type {
  HistoryPage,
  Member,
  MemberRole,
  Presence,
  ReceiptKind,
  ReceiptState,
  Requests,
  RequestType,
  RoomInfo,
  SendAck,
  ServerEvents,
  ServerFrame,
  User,
  Welcome,
} from './types.js';

export interface ChatClientOptions {
  /** The endpoint: a `ws://` or `wss://` URL such as `ws://localhost:5080/chat`. */
  url: string;
  /**
   * Returns the access token, sent as the `access_token` query parameter. Called before every connection attempt,
   * reconnections included, so it can return a refreshed token. Nothing is sent when it returns null or "".
   */
  token?: () => string | null | undefined | Promise<string | null | undefined>;
  /** The wait before the first reconnection attempt; each further attempt doubles it. Default 200 ms. */
  reconnectInitialDelayMs?: number;
  /** The longest wait between reconnection attempts. Default 10,000 ms. */
  reconnectMaxDelayMs?: number;
  /** The random share of each wait, 0 to 1: a wait `d` becomes a random value between `d × (1 − jitter)` and `d`. Default 0.5. */
  reconnectJitter?: number;
  /**
   * How long a request waits for a connection, and then for its reply; the handshake has the same limit. A late
   * reply means the connection is stuck (replies come in order), so the client drops it and reconnects. Default 30,000 ms.
   */
  requestTimeoutMs?: number;
  /** How many times `send` tries a message (always with the same cmid). Default 5. */
  maxSendAttempts?: number;
  /**
   * How often a `ping` request checks the connection while connected; a ping without a reply within
   * `requestTimeoutMs` drops the connection and the client reconnects. 0 turns it off. Default 15,000 ms.
   */
  keepAliveIntervalMs?: number;
  /** Resume positions to start from (a saved copy of `client.positions`): rooms left out start live. */
  resume?: Record<string, number>;
  /** The WebSocket constructor; default `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /**
   * Used after a handshake fails to ask `GET <endpoint>/rooms` whether the token was refused (HTTP 401), which a
   * WebSocket cannot tell. Default `globalThis.fetch`; `null` turns the check off.
   */
  fetch?: ((url: string, init?: { signal?: AbortSignal }) => Promise<{ status: number; body?: { cancel(): unknown } | null }>) | null;
}

/**
 * `idle`: never connected. `connecting`: `connect()` is opening the connection. `connected`: welcomed, requests go
 * out at once. `reconnecting`: the connection dropped and the client opens a new one with backoff; requests wait.
 * `closed`: `close()` was called, or connecting failed / the client gave up (then `error` says why and `connect()` may
 * be called again).
 */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface StateChange {
  state: ConnectionState;
  /** With `connected`: the server's welcome (after a reconnection, the fresh room list). */
  welcome?: Welcome;
  /** With `reconnecting`: why the connection dropped; with `closed`: why the client gave up. */
  error?: ChatKitError;
}

/** Everything `on` can listen to: the server's events plus `state` and `error` (server errors about no request). */
export interface ChatEvents extends ServerEvents {
  state: StateChange;
  error: ChatKitError;
}

/** Failures worth another connection attempt. */
const TRANSIENT = new Set(['connection_failed', 'connection_lost', 'timeout', 'unavailable', 'internal_error', 'rate_limited']);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const toError = (e: unknown): ChatKitError =>
  e instanceof ChatKitError ? e : new ChatKitError('connection_failed', e instanceof Error ? e.message : String(e), { cause: e });

const newCmid = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * A ChatKit connection speaking `chatkit.v1`: requests with replies, events, and automatic reconnection that resumes
 * every room where the client left it, so each message arrives once and in order.
 */
export class ChatClient extends Emitter<ChatEvents> {
  readonly #o: Required<Omit<ChatClientOptions, 'token' | 'resume' | 'fetch'>> & Pick<ChatClientOptions, 'token' | 'fetch'>;
  readonly #positions: Positions;
  #state: ConnectionState = 'idle';
  #welcome: Welcome | undefined;
  #conn: Connection | undefined; // the welcomed connection
  #opening: Connection | undefined; // a connection still in its handshake
  #closed = false; // by close(): final
  #nextId = 0;
  #waiters = new Set<{ resolve: (c: Connection) => void; reject: (e: ChatKitError) => void }>();
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;

  constructor(options: ChatClientOptions) {
    super();
    if (!/^wss?:$/.test(new URL(options.url).protocol)) throw new TypeError(`url must be a ws:// or wss:// URL; it is '${options.url}'.`);
    const WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) throw new TypeError('No WebSocket: pass options.WebSocket (Node 20 needs --experimental-websocket).');
    this.#o = {
      reconnectInitialDelayMs: 200,
      reconnectMaxDelayMs: 10_000,
      reconnectJitter: 0.5,
      requestTimeoutMs: 30_000,
      maxSendAttempts: 5,
      keepAliveIntervalMs: 15_000,
      ...options,
      WebSocket: WS,
    };
    this.#positions = new Positions(options.resume);
  }

  /** The connection's state; `on('state')` reports each change. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The endpoint the client connects to (`options.url`). */
  get url(): string {
    return this.#o.url;
  }

  /** The access token `options.token` returns now, for the app's own calls to the same server (the key directory, say). */
  async accessToken(): Promise<string | undefined> {
    return (await this.#o.token?.()) || undefined;
  }

  /** The latest connection's welcome. */
  get welcome(): Welcome | undefined {
    return this.#welcome;
  }

  /**
   * A copy of the resume positions: per room, the highest sequence number seen (messages, history pages, and the
   * room's latest sequence when the client learnt of it). Save it to pass as `resume` after a restart.
   */
  get positions(): Record<string, number> {
    return this.#positions.toJSON();
  }

  /**
   * Opens the connection, says hello with the resume positions and resolves with the welcome. One attempt: on
   * failure it rejects with a ChatKitError (`unauthenticated`, `unsupported_protocol`, `connection_failed`, `timeout`
   * or the server's code for the hello) and may be called again. Once connected, the client reconnects by itself.
   */
  async connect(): Promise<Welcome> {
    if (this.#closed) throw new ChatKitError('not_connected', 'The client was closed.');
    if (this.#state === 'connected') return this.#welcome!;
    if (this.#state === 'connecting' || this.#state === 'reconnecting') {
      await this.#ready();
      return this.#welcome!;
    }
    this.#setState('connecting');
    try {
      return await this.#open();
    } catch (e) {
      const error = toError(e);
      if (!this.#closed) this.#giveUp(error);
      throw error;
    }
  }

  /** Closes the connection normally and stops reconnecting; waiting requests fail with `not_connected`. Final. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#keepAlive);
    this.#wake?.();
    const error = new ChatKitError('not_connected', 'The client was closed.');
    this.#rejectWaiters(error);
    const conn = this.#conn;
    this.#conn = undefined;
    this.#opening?.drop(error);
    if (this.#state !== 'closed') this.#setState('closed');
    await conn?.close(error, this.#o.requestTimeoutMs);
  }

  /**
   * Sends a message; resolves once the server has stored it. After a lost connection, a timeout, `rate_limited`
   * (waiting `retryAfterMs`) or `unavailable` it sends again with the same cmid, which the server stores only once,
   * up to `maxSendAttempts` in all.
   * @param cmid the message's own id (1 to 64 of `A-Z a-z 0-9 - _ . :`); a random one when omitted.
   */
  async send(room: string, body: string, cmid: string = newCmid()): Promise<SendAck> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.request('send', { room, cmid, body });
      } catch (e) {
        const error = toError(e);
        const code = error.code;
        const wait =
          code === 'connection_lost' || code === 'timeout'
            ? 0 // the next attempt waits for the new connection itself
            : code === 'rate_limited'
              ? (error.retryAfterMs ?? this.#o.reconnectInitialDelayMs)
              : code === 'unavailable'
                ? this.#backoff(attempt)
                : -1;
        if (wait < 0 || attempt >= this.#o.maxSendAttempts) throw error;
        if (wait) await sleep(wait);
      }
    }
  }

  /**
   * A page of a room's messages in ascending order: `before: n` scrolls back (the newest messages below n),
   * `after: n` catches up (the oldest above n), neither gives the newest page. The page raises the room's position,
   * so its messages are not delivered again as events.
   */
  history(room: string, page: { before?: number; after?: number; limit?: number } = {}): Promise<HistoryPage> {
    return this.request('history', { room, ...page });
  }

  /** The user's rooms with role and read state. */
  async listRooms(): Promise<RoomInfo[]> {
    return (await this.request('rooms.list', {})).rooms;
  }

  /** Public group rooms anyone may join, newest first. */
  async publicRooms(limit?: number): Promise<RoomInfo[]> {
    return (await this.request('rooms.public', { limit })).rooms;
  }

  /** Creates a group room owned by the user; each of `members` (at most 100) is added. Encrypted rooms must be private. */
  async createRoom(
    name: string,
    options: { visibility?: 'public' | 'private'; members?: string[]; encrypted?: boolean } = {},
  ): Promise<RoomInfo> {
    return (await this.request('rooms.create', { name, ...options })).info;
  }

  /** Opens the direct conversation with `user` (or its end-to-end encrypted twin), or returns the existing one. */
  async openDirect(user: string, options: { encrypted?: boolean } = {}): Promise<RoomInfo> {
    return (await this.request('rooms.direct', { user, ...options })).info;
  }

  /** Joins a public room; harmless when already a member. */
  async joinRoom(room: string): Promise<RoomInfo> {
    return (await this.request('rooms.join', { room })).info;
  }

  /** Leaves a room (not as its owner, not a direct room). */
  async leaveRoom(room: string): Promise<void> {
    await this.request('rooms.leave', { room });
  }

  /** A room's members with their read and delivered positions. */
  async listMembers(room: string): Promise<Member[]> {
    return (await this.request('members.list', { room })).members;
  }

  /** Adds a user to a room at once (owners and admins; only the owner invites an admin). */
  async invite(room: string, user: string, role?: Exclude<MemberRole, 'owner'>): Promise<Member> {
    return (await this.request('members.invite', { room, user, role })).member;
  }

  /** Removes a member (owners and admins; only the owner removes an admin). */
  async removeMember(room: string, user: string): Promise<void> {
    await this.request('members.remove', { room, user });
  }

  /** Shows (or with `false` hides) the typing indicator; repeat within `limits.typingTtlMs` while typing. */
  async typing(room: string, active = true): Promise<void> {
    await this.request('typing', { room, active });
  }

  /** Moves the user's read (or delivered) position in a room forward to `seq`. */
  receipt(room: string, seq: number, kind: ReceiptKind = 'read'): Promise<ReceiptState> {
    return this.request('receipt', { room, seq, kind });
  }

  /** Whether users (at most 100) are online, and when they were last seen. */
  async presence(users: string[]): Promise<Presence[]> {
    return (await this.request('presence', { users })).presence;
  }

  /** Users whose id or name starts with `query` (users who have connected at least once). */
  async searchUsers(query?: string, limit?: number): Promise<User[]> {
    return (await this.request('users.search', { query, limit })).users;
  }

  /** Checks that the server answers; resolves with the round trip in milliseconds. */
  async ping(): Promise<number> {
    const started = Date.now();
    await this.request('ping', {});
    return Date.now() - started;
  }

  /**
   * Sends any request of docs/protocol.md and resolves with its reply's fields. Waits for a connection while
   * (re)connecting, then `requestTimeoutMs` for the reply; rejects with ChatKitError.
   */
  async request<K extends Exclude<RequestType, 'hello'>>(type: K, fields: Requests[K]['request']): Promise<Requests[K]['reply']> {
    const conn = await this.#ready();
    const { type: _type, re: _re, ...reply } = (await conn.request({ ...fields, type, id: this.#id() } as never, this.#o.requestTimeoutMs)) as Record<string, unknown>;
    return reply as Requests[K]['reply'];
  }

  // ---- connections ----

  /** Opens a socket, says hello and resolves with the welcome (published by #frame as soon as it arrives). */
  async #open(): Promise<Welcome> {
    const o = this.#o;
    let token: string | null | undefined;
    try {
      token = await o.token?.();
    } catch (cause) {
      throw new ChatKitError('connection_failed', `The token provider failed: ${toError(cause).message}`, { cause });
    }
    const url = new URL(o.url);
    if (token) url.searchParams.set('access_token', token);
    let ws;
    try {
      ws = await openSocket(o.WebSocket, url.href, o.requestTimeoutMs);
    } catch (e) {
      throw (await this.#refused(token)) ?? toError(e);
    }
    const closed = new ChatKitError('not_connected', 'The client was closed.');
    if (this.#closed) {
      ws.close(1000);
      throw closed;
    }
    if (ws.protocol !== PROTOCOL) {
      ws.close(1000);
      throw new ChatKitError('unsupported_protocol', `The server at ${redact(url.href)} did not accept the subprotocol ${PROTOCOL}.`);
    }
    const conn: Connection = new Connection(
      ws,
      (frame) => this.#frame(conn, frame),
      (error) => this.#ended(conn, error),
    );
    this.#opening = conn;
    conn.helloId = this.#id();
    const resume = this.#positions.size ? this.#positions.toJSON() : undefined;
    try {
      const { type: _type, re: _re, ...welcome } = (await conn.request({ type: 'hello', id: conn.helloId, resume }, o.requestTimeoutMs)) as Record<string, unknown>;
      return welcome as unknown as Welcome;
    } catch (e) {
      const error = toError(e);
      conn.drop(error);
      throw error.code === 'connection_lost' ? new ChatKitError('connection_failed', `The connection closed before the welcome: ${error.message}`) : error;
    } finally {
      if (this.#opening === conn) this.#opening = undefined;
    }
  }

  /** After a failed handshake: `unauthenticated` when the endpoint answers HTTP 401 to the same token. */
  async #refused(token: string | null | undefined): Promise<ChatKitError | undefined> {
    const fetcher = this.#o.fetch === undefined ? globalThis.fetch : this.#o.fetch;
    if (!fetcher) return;
    const url = new URL(this.#o.url);
    url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
    url.pathname = url.pathname.replace(/\/?$/, '/rooms');
    if (token) url.searchParams.set('access_token', token);
    try {
      const res = await fetcher(url.href, { signal: AbortSignal.timeout(this.#o.requestTimeoutMs) });
      void res.body?.cancel();
      if (res.status === 401)
        return new ChatKitError(
          'unauthenticated',
          `The server refused the connection with HTTP 401: ${token ? 'the access token is missing, expired or not accepted' : 'no access token was sent (set options.token)'}.`,
        );
    } catch {
      // unreachable too: an ordinary connection failure
    }
    return undefined;
  }

  /** Handles one frame of `conn`: replies to their requests, events to listeners, each message once. */
  #frame(conn: Connection, f: Record<string, any>): void {
    if (f.type === 'reply' || f.type === 'error') {
      if (typeof f.re !== 'string') {
        if (f.type === 'error') this.emit('error', fromFrame(f));
        return;
      }
      let error = f.type === 'error' ? fromFrame(f) : undefined;
      if (!error && f.re === conn.helloId) error = this.#welcomed(conn, f as Welcome);
      // A page counts as seen before any later frame is handled, so no event repeats a message it returned.
      else if (!error && typeof f.room === 'string' && Array.isArray(f.messages))
        for (const m of f.messages) if (typeof m?.seq === 'number') this.#positions.raise(f.room, m.seq);
      conn.settle(f.re, f as ServerFrame, error);
      return;
    }
    if (conn !== this.#conn) return;
    switch (f.type) {
      case 'message':
        if (typeof f.room !== 'string' || typeof f.seq !== 'number' || !this.#positions.accept(f.room, f.seq)) return;
        break;
      case 'room.added':
        if (typeof f.info?.id !== 'string') return;
        this.#positions.lower(f.info.id, f.info.latestSeq ?? 0);
        break;
      case 'room.removed':
        this.#positions.delete(f.room);
        break;
      case 'member.joined':
      case 'member.left':
      case 'typing':
      case 'receipt':
      case 'presence':
      case 'keys.low':
        break;
      default:
        return; // an event this client does not know (a newer server)
    }
    this.emit(f.type as keyof ServerEvents, f as never);
  }

  /** Accepts a welcome: positions follow its room list, then the connection is published. */
  #welcomed(conn: Connection, w: Welcome): ChatKitError | undefined {
    if (w.protocol !== 1)
      return new ChatKitError('unsupported_protocol', `The server speaks protocol version ${w.protocol}; this client speaks 1.`);
    if (this.#closed) return new ChatKitError('not_connected', 'The client was closed.');
    const rooms = Array.isArray(w.rooms) ? w.rooms : [];
    // A room without a position starts live at its latest message; positions of rooms the user left are stale.
    this.#positions.retain(new Set(rooms.map((r) => r.id)));
    for (const r of rooms) this.#positions.lower(r.id, r.latestSeq);
    conn.pace(w.limits);
    const { type: _type, re: _re, ...welcome } = w as Welcome & { type?: string; re?: string };
    this.#welcome = welcome;
    this.#conn = conn;
    this.#setState('connected', { welcome });
    for (const waiter of this.#waiters) waiter.resolve(conn);
    this.#waiters.clear();
    clearInterval(this.#keepAlive);
    if (this.#o.keepAliveIntervalMs > 0)
      this.#keepAlive = setInterval(() => this.ping().catch(() => {}), this.#o.keepAliveIntervalMs);
    return undefined;
  }

  /** A connection ended: when it was the current one, reconnect (or give up on 4002). */
  #ended(conn: Connection, error: ChatKitError): void {
    if (conn !== this.#conn) return; // a handshake's failure is reported by #open
    this.#conn = undefined;
    clearInterval(this.#keepAlive);
    if (this.#closed) return;
    if (error.code === 'unsupported_protocol') return this.#giveUp(error);
    this.#setState('reconnecting', { error });
    void this.#reconnect();
  }

  async #reconnect(): Promise<void> {
    for (let attempt = 1; !this.#closed; attempt++) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, this.#backoff(attempt));
      });
      if (this.#closed) return;
      try {
        await this.#open();
        return;
      } catch (e) {
        const error = toError(e);
        if (this.#closed) return;
        if (!TRANSIENT.has(error.code)) return this.#giveUp(error);
      }
    }
  }

  /** Exponential backoff from the initial delay up to the maximum, with jitter. */
  #backoff(attempt: number): number {
    const o = this.#o;
    const capped = Math.min(o.reconnectInitialDelayMs * 2 ** Math.min(attempt - 1, 30), o.reconnectMaxDelayMs);
    return capped * (1 - o.reconnectJitter * Math.random());
  }

  #giveUp(error: ChatKitError): void {
    this.#setState('closed', { error });
    this.#rejectWaiters(new ChatKitError('not_connected', `The client is disconnected: ${error.message}`, { cause: error }));
  }

  /** The welcomed connection, waiting for it while (re)connecting. */
  #ready(): Promise<Connection> {
    if (this.#conn) return Promise.resolve(this.#conn);
    if (this.#closed || this.#state === 'idle' || this.#state === 'closed')
      return Promise.reject(new ChatKitError('not_connected', this.#closed ? 'The client was closed.' : 'The client is not connected; call connect() first.'));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (c: Connection) => {
          clearTimeout(timer);
          resolve(c);
        },
        reject: (e: ChatKitError) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new ChatKitError('timeout', `No connection to the server within ${this.#o.requestTimeoutMs} ms.`));
      }, this.#o.requestTimeoutMs);
      this.#waiters.add(waiter);
    });
  }

  #rejectWaiters(error: ChatKitError): void {
    for (const waiter of this.#waiters) waiter.reject(error);
    this.#waiters.clear();
  }

  #setState(state: ConnectionState, change: Omit<StateChange, 'state'> = {}): void {
    this.#state = state;
    this.emit('state', { state, ...change });
  }

  #id(): string {
    return String(++this.#nextId);
  }
}
