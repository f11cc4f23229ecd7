/**
 * Resume positions: for each room, the highest sequence number the client has seen. Sent in `hello.resume` so a new
 * connection receives exactly the messages missed, and used to drop messages already seen.
 */
export class Positions {
  readonly #seen = new Map<string, number>();

  constructor(initial?: Record<string, number>) {
    for (const [room, seq] of Object.entries(initial ?? {})) if (room && seq >= 0) this.#seen.set(room, seq);
  }

  /** Raises a room's position to `seq` (a message or history page was seen). */
  raise(room: string, seq: number): void {
    if (!(seq <= (this.#seen.get(room) ?? -1))) this.#seen.set(room, seq);
  }

  /**
   * Sets a room's position to the server's latest sequence when it has none, or a higher one (a store that lost
   * data): messages after `latest` are sent live.
   */
  lower(room: string, latest: number): void {
    if (!(latest >= (this.#seen.get(room) ?? Infinity))) this.#seen.set(room, latest);
  }

  /** Records a message; `false` when its room's position says it was seen already. */
  accept(room: string, seq: number): boolean {
    if (seq <= (this.#seen.get(room) ?? -1)) return false;
    this.#seen.set(room, seq);
    return true;
  }

  delete(room: string): void {
    this.#seen.delete(room);
  }

  /** Forgets rooms the user is no longer in. */
  retain(rooms: Set<string>): void {
    for (const room of this.#seen.keys()) if (!rooms.has(room)) this.#seen.delete(room);
  }

  get size(): number {
    return this.#seen.size;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.#seen);
  }
}
