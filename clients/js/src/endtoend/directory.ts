import { ChatKitError } from '../index.js';

/** An identity as the key directory's JSON carries it (keys and signature as unpadded base64url). */
export interface IdentityKeyInfo {
  user: string;
  device: string;
  signingKey: string;
  identityKey: string;
  signature: string;
}

/** A signed prekey in JSON. */
export interface SignedPreKeyInfo {
  id: number;
  publicKey: string;
  signature: string;
}

/** A one-time prekey in JSON. */
export interface OneTimePreKeyInfo {
  id: number;
  publicKey: string;
}

/** What the directory holds for one of the caller's devices. */
export interface DeviceKeyStatus {
  device: string;
  oneTimePreKeys: number;
  low: boolean;
}

/** A device's keys for starting a session with it. */
export interface PreKeyBundleInfo {
  identity: IdentityKeyInfo;
  signedPreKey: SignedPreKeyInfo;
  oneTimePreKey?: OneTimePreKeyInfo | null;
}

/** The body of a publish (`identity` and `signedPreKey`) or a top-up (`oneTimePreKeys` only). */
export interface DeviceKeysUpload {
  identity?: IdentityKeyInfo;
  signedPreKey?: SignedPreKeyInfo;
  oneTimePreKeys: OneTimePreKeyInfo[];
}

/** The fetch function the directory calls are made with (the browser's, by default). */
export type Fetch = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<{
  ok: boolean;
  status: number;
  statusText: string;
  json(): Promise<unknown>;
}>;

/** How long a key directory call may take before it fails with `connection_failed`. */
const REQUEST_TIMEOUT_MS = 15_000;

/** The key directory's HTTP endpoints under the server's ChatKit path (docs/protocol.md, "HTTP endpoints"). */
export class KeyDirectoryClient {
  readonly #base: string;
  readonly #token: () => Promise<string | undefined>;
  readonly #fetch: Fetch;

  /** @param endpoint the client's WebSocket URL (`ws://host/chat`); the directory is under `http://host/chat/keys`. */
  constructor(endpoint: string, token: () => Promise<string | undefined>, fetcher: Fetch) {
    const url = new URL(endpoint);
    url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
    url.search = '';
    url.hash = '';
    this.#base = url.href.replace(/\/?$/, '/keys/');
    this.#token = token;
    this.#fetch = fetcher;
  }

  publish(device: string, upload: DeviceKeysUpload): Promise<DeviceKeyStatus> {
    return this.#send('PUT', `devices/${encodeURIComponent(device)}`, upload);
  }

  addPreKeys(device: string, upload: DeviceKeysUpload): Promise<DeviceKeyStatus> {
    return this.#send('POST', `devices/${encodeURIComponent(device)}/prekeys`, upload);
  }

  status(device: string): Promise<DeviceKeyStatus> {
    return this.#send('GET', `devices/${encodeURIComponent(device)}`);
  }

  remove(device: string): Promise<void> {
    return this.#send('DELETE', `devices/${encodeURIComponent(device)}`);
  }

  devices(user: string): Promise<{ user: string; devices: IdentityKeyInfo[] }> {
    return this.#send('GET', `users/${encodeURIComponent(user)}`);
  }

  claimBundle(user: string, device: string): Promise<PreKeyBundleInfo> {
    return this.#send('POST', `users/${encodeURIComponent(user)}/devices/${encodeURIComponent(device)}/bundle`);
  }

  async #send<T>(method: string, path: string, body?: DeviceKeysUpload): Promise<T> {
    const headers: Record<string, string> = {};
    const token = await this.#token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body) headers['content-type'] = 'application/json';
    let response;
    try {
      const init = { method, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
      response = await this.#fetch(this.#base + path, body ? { ...init, body: JSON.stringify(body) } : init);
    } catch (e) {
      throw new ChatKitError('connection_failed', `The key directory at ${this.#base} did not answer: ${(e as Error)?.message ?? e}`, { cause: e });
    }
    if (response.status === 204) return undefined as T;
    const json = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (!response.ok) {
      const code = typeof json?.code === 'string' ? json.code : response.status === 401 ? 'unauthenticated' : 'internal_error';
      const message = typeof json?.message === 'string' ? json.message : response.statusText;
      throw new ChatKitError(code, `The key directory refused ${method} ${path}: ${message}`);
    }
    if (json === undefined) throw new ChatKitError('internal_error', `The key directory answered ${method} ${path} without a body.`);
    return json as T;
  }
}
