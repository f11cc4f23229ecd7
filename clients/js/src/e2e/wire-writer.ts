import { utf8 } from './bytes.js';

/** Writes the protocol's binary layouts: big-endian integers, fixed-length keys, length-prefixed strings and blobs. */
export class WireWriter {
  #buffer = new Uint8Array(256);
  #length = 0;

  byte(value: number): this {
    this.#reserve(1)[0] = value;
    return this;
  }

  uint32(value: number): this {
    const at = this.#reserve(4);
    new DataView(at.buffer, at.byteOffset, 4).setUint32(0, value);
    return this;
  }

  int64(value: bigint): this {
    const at = this.#reserve(8);
    new DataView(at.buffer, at.byteOffset, 8).setBigInt64(0, value);
    return this;
  }

  /** Bytes as they are, for fields of fixed length. */
  fixed(value: Uint8Array): this {
    this.#reserve(value.length).set(value);
    return this;
  }

  /** A 32-bit big-endian length, then the bytes. */
  blob(value: Uint8Array): this {
    return this.uint32(value.length).fixed(value);
  }

  /** A 16-bit big-endian length, then the UTF-8 bytes; throws a RangeError over 65,535 bytes. */
  text(value: string): this {
    const bytes = utf8(value);
    if (bytes.length > 0xffff) throw new RangeError('The text is longer than 65,535 UTF-8 bytes.');
    this.#reserve(2).set([bytes.length >> 8, bytes.length & 0xff]);
    return this.fixed(bytes);
  }

  toArray(): Uint8Array {
    return this.#buffer.slice(0, this.#length);
  }

  /** The next `count` bytes of the buffer (grown when needed), counted as written. */
  #reserve(count: number): Uint8Array {
    if (this.#length + count > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(this.#buffer.length * 2, this.#length + count));
      grown.set(this.#buffer.subarray(0, this.#length));
      this.#buffer = grown;
    }
    this.#length += count;
    return this.#buffer.subarray(this.#length - count, this.#length);
  }
}
