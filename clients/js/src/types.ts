// The chatkit.v1 wire protocol (docs/protocol.md): objects, requests with their replies, events.
// Times are ISO 8601 UTC strings; sequence numbers are JSON integers (exact up to 2^53 in JavaScript).

/** A room as the server describes it; `role` is the caller's (absent in `rooms.public`). */
export interface RoomInfo {
  id: string;
  kind: 'group' | 'direct';
  /** For a direct room, the other user's name. */
  name: string;
  visibility: 'public' | 'private';
  createdBy: string;
  createdAt: string;
  role?: MemberRole;
  /** Direct rooms: the other user's id. */
  peer?: string;
  latestSeq: number;
  readSeq: number;
  deliveredSeq: number;
  unread: number;
  /** `true` for an end-to-end encrypted room, absent otherwise. */
  encrypted?: boolean;
}

export type MemberRole = 'owner' | 'admin' | 'member';
export type ReceiptKind = 'delivered' | 'read';

/** One stored message; `seq` is its place in the room's order. */
export interface Message {
  room: string;
  seq: number;
  /** The sender's client message id. */
  cmid: string;
  sender: string;
  body: string;
  sentAt: string;
}

/** A room member; `readSeq` and `deliveredSeq` are present in `members.list`. */
export interface Member {
  user: string;
  name: string;
  role: MemberRole;
  joinedAt: string;
  readSeq?: number;
  deliveredSeq?: number;
}

/** Whether a user is online; `lastSeen` is absent while online or when never seen. */
export interface Presence {
  user: string;
  online: boolean;
  lastSeen?: string | null;
}

/** A user found by `users.search`. */
export interface User {
  user: string;
  name: string;
  online: boolean;
  lastSeen?: string | null;
}

/** The server's limits, announced in the welcome. */
export interface Limits {
  maxFrameBytes: number;
  maxMessageBytes: number;
  maxHistoryPage: number;
  typingTtlMs: number;
  ratePerSecond: number;
  rateBurst: number;
}

/** The reply to `hello`. */
export interface Welcome {
  protocol: number;
  /** The authenticated user's id. */
  user: string;
  /** The authenticated user's display name. */
  name: string;
  /** The server's id of this connection. */
  connection: string;
  /** Every room the user is a member of. */
  rooms: RoomInfo[];
  limits: Limits;
}

/** The reply to `send`: the message is stored. */
export interface SendAck {
  room: string;
  seq: number;
  cmid: string;
  sentAt: string;
  /** `true` when this cmid was already stored in the room: nothing new was stored. */
  duplicate: boolean;
}

/** The reply to `history`, in ascending sequence order. */
export interface HistoryPage {
  room: string;
  messages: Message[];
  /** Whether more messages lie in the paging direction. */
  hasMore: boolean;
}

/** The reply to `receipt`: the caller's positions in the room afterwards. */
export interface ReceiptState {
  room: string;
  readSeq: number;
  deliveredSeq: number;
  unread: number;
}

/** Every request: its fields and the fields of its reply (`type`, `id`, `re` not included). */
export interface Requests {
  hello: { request: { resume?: Record<string, number> }; reply: Welcome };
  send: { request: { room: string; cmid: string; body: string }; reply: SendAck };
  history: { request: { room: string; before?: number; after?: number; limit?: number }; reply: HistoryPage };
  'rooms.list': { request: Record<string, never>; reply: { rooms: RoomInfo[] } };
  'rooms.public': { request: { limit?: number }; reply: { rooms: RoomInfo[] } };
  'rooms.create': {
    request: { name: string; visibility?: 'public' | 'private'; members?: string[]; encrypted?: boolean };
    reply: { info: RoomInfo };
  };
  'rooms.direct': { request: { user: string; encrypted?: boolean }; reply: { info: RoomInfo } };
  'rooms.join': { request: { room: string }; reply: { info: RoomInfo } };
  'rooms.leave': { request: { room: string }; reply: Record<string, never> };
  'members.list': { request: { room: string }; reply: { room: string; members: Member[] } };
  'members.invite': { request: { room: string; user: string; role?: 'member' | 'admin' }; reply: { member: Member } };
  'members.remove': { request: { room: string; user: string }; reply: Record<string, never> };
  typing: { request: { room: string; active?: boolean }; reply: Record<string, never> };
  receipt: { request: { room: string; seq: number; kind: ReceiptKind }; reply: ReceiptState };
  presence: { request: { users: string[] }; reply: { presence: Presence[] } };
  'users.search': { request: { query?: string; limit?: number }; reply: { users: User[] } };
  ping: { request: Record<string, never>; reply: Record<string, never> };
}

export type RequestType = keyof Requests;

/** A frame the client sends. */
export type ClientFrame = { [K in RequestType]: { type: K; id: string } & Requests[K]['request'] }[RequestType];

/** A successful answer to the request with id `re`. */
export type ReplyFrame<K extends RequestType = RequestType> = { type: 'reply'; re: string } & Requests[K]['reply'];

/** A refused request (`re` is `null` when the server could not read the request's id). */
export interface ErrorFrame {
  type: 'error';
  re: string | null;
  code: string;
  message: string;
  retryAfterMs?: number;
}

export interface MessageEvent extends Message {
  type: 'message';
}
export interface RoomAddedEvent {
  type: 'room.added';
  info: RoomInfo;
}
export interface RoomRemovedEvent {
  type: 'room.removed';
  room: string;
  reason: 'left' | 'removed';
  /** Who removed the user, or the user who left. */
  by?: string;
}
export interface MemberJoinedEvent {
  type: 'member.joined';
  room: string;
  member: Member;
}
export interface MemberLeftEvent {
  type: 'member.left';
  room: string;
  user: string;
  reason: 'left' | 'removed';
  by?: string;
}
export interface TypingEvent {
  type: 'typing';
  room: string;
  user: string;
  active: boolean;
}
export interface ReceiptEvent {
  type: 'receipt';
  room: string;
  user: string;
  kind: ReceiptKind;
  seq: number;
}
export interface PresenceEvent extends Presence {
  type: 'presence';
}
export interface KeysLowEvent {
  type: 'keys.low';
  device: string;
  oneTimePreKeys: number;
}

/** The server's events, by `type`. */
export interface ServerEvents {
  message: MessageEvent;
  'room.added': RoomAddedEvent;
  'room.removed': RoomRemovedEvent;
  'member.joined': MemberJoinedEvent;
  'member.left': MemberLeftEvent;
  typing: TypingEvent;
  receipt: ReceiptEvent;
  presence: PresenceEvent;
  'keys.low': KeysLowEvent;
}

export type EventFrame = ServerEvents[keyof ServerEvents];

/** Any frame the server sends. */
export type ServerFrame = ReplyFrame | ErrorFrame | EventFrame;
