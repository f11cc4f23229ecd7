/**
 * Runs async calls on one object one at a time, in call order. The .NET classes are synchronous, so a call there
 * never sees another's half-done work; here every call awaits WebCrypto, and two overlapping encrypts would otherwise
 * use the same message key, two overlapping decrypts overwrite each other's state.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `work` once every call queued before it has settled; resolves or rejects as `work` does. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(work);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
