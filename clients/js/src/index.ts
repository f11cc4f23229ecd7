export { ChatClient } from './client.js';
export type { ChatClientOptions, ChatEvents, ConnectionState, StateChange } from './client.js';
export type { WebSocketConstructor, WebSocketLike } from './connection.js';
export { Emitter } from './emitter.js';
export type { Listener } from './emitter.js';
export { ChatKitError } from './errors.js';
export type { ClientErrorCode, ErrorCode, ServerErrorCode } from './errors.js';
export type * from './types.js';
