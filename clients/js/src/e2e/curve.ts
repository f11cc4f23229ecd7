// NIST P-256 arithmetic on BigInt, for what WebCrypto does not offer: the public point of a stored private scalar
// (WebCrypto imports a private key only with its public point) and the on-curve check of a received public key.
// Not constant-time: it only ever runs on keys this device stored itself, never on a peer's secret.

const p = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
/** The order of the base point: valid private scalars are 1 to n - 1. */
export const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const b = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
const gx = 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n;
const gy = 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n;

/** A point in Jacobian coordinates (x = X/Z², y = Y/Z³); Z = 0 is the point at infinity. */
type Point = readonly [bigint, bigint, bigint];

const mod = (value: bigint): bigint => {
  const r = value % p;
  return r < 0n ? r + p : r;
};

const power = (base: bigint, exponent: bigint): bigint => {
  let result = 1n;
  for (let e = exponent, x = mod(base); e > 0n; e >>= 1n, x = (x * x) % p) {
    if (e & 1n) result = (result * x) % p;
  }
  return result;
};

const double = ([x, y, z]: Point): Point => {
  if (z === 0n || y === 0n) return [0n, 1n, 0n];
  // a = -3: M = 3(X - Z²)(X + Z²)
  const zz = (z * z) % p;
  const m = mod(3n * (x - zz) * (x + zz));
  const yy = (y * y) % p;
  const s = (4n * x * yy) % p;
  const x3 = mod(m * m - 2n * s);
  return [x3, mod(m * (s - x3) - 8n * yy * yy), (2n * y * z) % p];
};

const add = (P: Point, Q: Point): Point => {
  const [x1, y1, z1] = P;
  const [x2, y2, z2] = Q;
  if (z1 === 0n) return Q;
  if (z2 === 0n) return P;
  const z1z1 = (z1 * z1) % p;
  const z2z2 = (z2 * z2) % p;
  const u1 = (x1 * z2z2) % p;
  const u2 = (x2 * z1z1) % p;
  const s1 = (y1 * z2 * z2z2) % p;
  const s2 = (y2 * z1 * z1z1) % p;
  const h = mod(u2 - u1);
  const r = mod(s2 - s1);
  if (h === 0n) return r === 0n ? double(P) : [0n, 1n, 0n];
  const hh = (h * h) % p;
  const hhh = (h * hh) % p;
  const v = (u1 * hh) % p;
  const x3 = mod(r * r - hhh - 2n * v);
  return [x3, mod(r * (v - x3) - s1 * hhh), (z1 * z2 * h) % p];
};

let table: Point[] | undefined;

/** The affine coordinates of d·G, for 0 < d < n (4-bit fixed window over a table of 0·G to 15·G). */
export const multiplyBase = (d: bigint): [bigint, bigint] => {
  if (!table) {
    table = [[0n, 1n, 0n], [gx, gy, 1n]];
    for (let i = 2; i < 16; i++) table.push(add(table[i - 1]!, table[1]!));
  }
  let result: Point = [0n, 1n, 0n];
  for (let shift = 252n; shift >= 0n; shift -= 4n) {
    result = double(double(double(double(result))));
    result = add(result, table[Number((d >> shift) & 15n)]!);
  }
  const [x, y, z] = result;
  const zInverse = power(z, p - 2n);
  const zInverse2 = (zInverse * zInverse) % p;
  return [(x * zInverse2) % p, (y * zInverse2 * zInverse) % p];
};

/** Whether (x, y) is a point of P-256: both coordinates below p and y² = x³ - 3x + b. */
export const isOnCurve = (x: bigint, y: bigint): boolean => x < p && y < p && (y * y) % p === mod(x * x * x - 3n * x + b);

export const toBigInt = (bytes: Uint8Array): bigint => bytes.reduce((value, byte) => (value << 8n) | BigInt(byte), 0n);

export const toBytes32 = (value: bigint): Uint8Array => {
  const bytes = new Uint8Array(32);
  for (let i = 31, v = value; i >= 0; i--, v >>= 8n) bytes[i] = Number(v & 0xffn);
  return bytes;
};
