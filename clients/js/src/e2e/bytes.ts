// Byte helpers shared by the e2e classes: concatenation, comparison, UTF-8, base64url and WebCrypto buffers.

const encoder = new TextEncoder();
// .NET's Encoding.UTF8.GetString keeps a leading byte order mark and replaces invalid sequences; so does this decoder.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The WebCrypto API: globalThis.crypto in browsers and Node >= 20. */
export const subtle = (): SubtleCrypto => globalThis.crypto.subtle;

/** `count` random bytes from the platform's CSPRNG. */
export const randomBytes = (count: number): Uint8Array => globalThis.crypto.getRandomValues(new Uint8Array(count));

/** The bytes as WebCrypto accepts them (a view of an ArrayBuffer, copied when it is shared memory). */
export const source = (bytes: Uint8Array): Uint8Array<ArrayBuffer> =>
  bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);

export const concat = (...parts: Uint8Array[]): Uint8Array => {
  const output = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let at = 0;
  for (const part of parts) {
    output.set(part, at);
    at += part.length;
  }
  return output;
};

export const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((value, i) => value === b[i]);

/** Compares without an early exit, so the time taken does not tell how many leading bytes matched (MACs). */
export const fixedTimeEqual = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
};

/** Bytewise order, a shorter prefix first (.NET's SequenceCompareTo). */
export const compare = (a: Uint8Array, b: Uint8Array): number => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
};

export const utf8 = (text: string): Uint8Array => encoder.encode(text);

export const fromUtf8 = (bytes: Uint8Array): string => decoder.decode(bytes);

export const toBase64Url = (bytes: Uint8Array): string => {
  let text = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const chunk = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let c = 0; c < chars; c++) text += alphabet[(chunk >> (18 - 6 * c)) & 63];
  }
  return text;
};

/**
 * Decodes base64url as .NET's Base64Url does: padding optional (at most two `=`), ASCII white space ignored; returns
 * undefined for anything else (a character outside the alphabet, or a length that leaves one character over).
 */
export const fromBase64Url = (text: string): Uint8Array | undefined => {
  const compact = text.replace(/[ \t\r\n]/g, '');
  const data = compact.replace(/={1,2}$/, '');
  if (data.length % 4 === 1 || (data.length !== compact.length && compact.length % 4 !== 0)) return undefined;
  const output = new Uint8Array(Math.floor((data.length * 6) / 8));
  let bits = 0;
  let buffer = 0;
  let at = 0;
  for (const char of data) {
    const value = alphabet.indexOf(char);
    if (value < 0) return undefined;
    buffer = ((buffer << 6) | value) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      output[at++] = (buffer >> bits) & 0xff;
    }
  }
  return output;
};
