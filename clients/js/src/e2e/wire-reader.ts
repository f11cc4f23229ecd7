import { fromUtf8 } from './bytes.js';
import { EncryptionErrorCodes } from './encryption-error-codes.js';
import { EncryptionException } from './encryption-exception.js';

/** Reads what {@link WireWriter} writes; any shortfall or excess is `malformed`. */
export class WireReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #what: string;
  #position = 0;

  /** @param what what the bytes should be, for the error message ("ratchet message"). */
  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#what = what;
  }

  byte(): number {
    return this.#view.getUint8(this.#take(1));
  }

  uint32(): number {
    return this.#view.getUint32(this.#take(4));
  }

  int64(): bigint {
    return this.#view.getBigInt64(this.#take(8));
  }

  /** A copy of the next `length` bytes. */
  fixed(length: number): Uint8Array {
    const at = this.#take(length);
    return this.#bytes.slice(at, at + length);
  }

  blob(): Uint8Array {
    const length = this.uint32();
    if (length > this.#bytes.length - this.#position) throw this.malformed();
    return this.fixed(length);
  }

  text(): string {
    const at = this.#take(2);
    const length = this.#view.getUint16(at);
    const start = this.#take(length);
    return fromUtf8(this.#bytes.subarray(start, start + length));
  }

  /** Everything not read yet (a view, not a copy). */
  rest(): Uint8Array {
    const rest = this.#bytes.subarray(this.#position);
    this.#position = this.#bytes.length;
    return rest;
  }

  /** Throws `malformed` unless every byte was read. */
  end(): void {
    if (this.#position !== this.#bytes.length) throw this.malformed();
  }

  malformed(): EncryptionException {
    return new EncryptionException(EncryptionErrorCodes.Malformed, `The bytes are not a valid ${this.#what}.`);
  }

  /** The offset of the next `count` bytes, which are then read. */
  #take(count: number): number {
    if (count > this.#bytes.length - this.#position) throw this.malformed();
    this.#position += count;
    return this.#position - count;
  }
}
