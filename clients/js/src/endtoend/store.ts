/**
 * Where `EndToEndEncryption` keeps its device keys, sessions, sender keys and the texts it decrypted between runs.
 * Entries are secret (they hold private keys): keep them where only the app can read them. Calls for one device are
 * made one at a time.
 */
export interface EncryptionStateStore {
  /** The entry saved under `name`, or undefined. */
  load(name: string): Promise<Uint8Array | undefined>;
  /** Saves (replaces) an entry; after a crash it must hold the old bytes or the new ones, never a mix. */
  save(name: string, state: Uint8Array): Promise<void>;
}

/** Entries in memory only: everything is gone with the page (tests, or a device that must not keep keys). */
export class MemoryStateStore implements EncryptionStateStore {
  readonly #entries = new Map<string, Uint8Array>();

  load(name: string): Promise<Uint8Array | undefined> {
    const saved = this.#entries.get(name);
    return Promise.resolve(saved && saved.slice());
  }

  save(name: string, state: Uint8Array): Promise<void> {
    this.#entries.set(name, state.slice());
    return Promise.resolve();
  }
}

/**
 * Entries in the browser's IndexedDB, one database per device (`name`), readable by every page of the site's
 * origin. Each save is one IndexedDB transaction, so it is whole or absent.
 */
export class IndexedDbStateStore implements EncryptionStateStore {
  static readonly #objects = 'entries';
  readonly #db: IDBDatabase;

  private constructor(db: IDBDatabase) {
    this.#db = db;
  }

  /** Opens (or creates) the database `name`, e.g. `chatkit-e2e/alice/browser-1`. */
  static open(name: string, indexedDB: IDBFactory = globalThis.indexedDB): Promise<IndexedDbStateStore> {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(IndexedDbStateStore.#objects);
      request.onsuccess = () => {
        // Another tab deleting the database (a sign-out) must not wait for this one to close it.
        request.result.onversionchange = () => request.result.close();
        resolve(new IndexedDbStateStore(request.result));
      };
      request.onerror = () => reject(request.error ?? new Error(`IndexedDB database ${name} could not be opened.`));
    });
  }

  load(name: string): Promise<Uint8Array | undefined> {
    return this.#run('readonly', (objects) => objects.get(name)).then((value) => (value instanceof Uint8Array ? value : undefined));
  }

  save(name: string, state: Uint8Array): Promise<void> {
    return this.#run('readwrite', (objects) => objects.put(state.slice(), name)).then(() => undefined);
  }

  /** Closes the database. */
  close(): void {
    this.#db.close();
  }

  #run(mode: IDBTransactionMode, action: (objects: IDBObjectStore) => IDBRequest): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const transaction = this.#db.transaction(IndexedDbStateStore.#objects, mode);
      const request = action(transaction.objectStore(IndexedDbStateStore.#objects));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = transaction.onabort = () => reject(transaction.error ?? new Error('The IndexedDB transaction failed.'));
    });
  }
}

/**
 * The names of the entries. Each part is written with its length, so ids that contain the separator cannot make two
 * entries share a name (the same names as the .NET client's, so a state can be moved between the two).
 */
export const entries = {
  device: 'device',
  sessions: (user: string, device: string) => entryName('session', user, device),
  senderKey: (room: string) => entryName('sender', room),
  sentTo: (room: string) => entryName('sent-to', room),
  receiver: (room: string, user: string, device: string) => entryName('receiver', room, user, device),
  seen: (user: string) => entryName('seen', user),
  text: (room: string, seq: number, sender: string, cmid: string) => entryName('text', room, String(seq), sender, cmid),
};

const entryName = (kind: string, ...parts: string[]): string => kind + parts.map((p) => `/${p.length}:${p}`).join('');
