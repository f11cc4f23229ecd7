import type { RatchetSession } from './ratchet-session.js';

/**
 * A prekey message that decrypted (`RatchetSession.open`): the new session and the first plaintext. The device's keys
 * change only when {@link complete} is called.
 */
export class AcceptedHandshake {
  /** This side of the new session; its `peer` is the initiator, whose signature was checked. */
  readonly session: RatchetSession;
  /** The first message's plaintext. */
  readonly plaintext: Uint8Array;
  readonly #complete: () => void;
  #completed = false;

  /** Made by `RatchetSession.open`; `complete` is what {@link complete} runs, once. */
  constructor(session: RatchetSession, plaintext: Uint8Array, complete: () => void) {
    this.session = session;
    this.plaintext = plaintext;
    this.#complete = complete;
  }

  /** Deletes the one-time prekey the handshake used from the device's keys and remembers the handshake, so a replay is refused. Once only. */
  complete(): void {
    if (!this.#completed) {
      this.#complete();
      this.#completed = true;
    }
  }
}
