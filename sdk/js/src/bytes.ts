// Byte helpers: strict base64, UTF-8, hex and small integer codecs. Nothing
// here depends on Node's Buffer, so the same code runs in browsers.

/** A Uint8Array backed by a plain ArrayBuffer (what WebCrypto accepts). */
export type Bytes = Uint8Array<ArrayBuffer>;

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = (() => {
  const t = new Int16Array(256).fill(-1);
  for (let i = 0; i < B64.length; i++) t[B64.charCodeAt(i)] = i;
  return t;
})();

/** Standard padded base64 (RFC 4648 §4). */
export function base64Encode(b: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    s += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = b.length - i;
  if (rest === 1) {
    const n = b[i]! << 16;
    s += B64[n >> 18]! + B64[(n >> 12) & 63]! + '==';
  } else if (rest === 2) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8);
    s += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + '=';
  }
  return s;
}

/**
 * Decodes canonical standard padded base64: length a multiple of 4, no
 * whitespace, padding only at the end, unused bits zero. Returns undefined
 * for anything else (the Go side insists on the same canonical form).
 */
export function base64Decode(s: string): Bytes | undefined {
  if (s.length % 4 !== 0) return undefined;
  let pad = 0;
  if (s.endsWith('==')) pad = 2;
  else if (s.endsWith('=')) pad = 1;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const last = i + 4 === s.length;
    const c0 = B64_INDEX[s.charCodeAt(i) & 0xff]!;
    const c1 = B64_INDEX[s.charCodeAt(i + 1) & 0xff]!;
    const p2 = last && pad === 2;
    const p3 = last && pad >= 1;
    const c2 = p2 ? 0 : B64_INDEX[s.charCodeAt(i + 2) & 0xff]!;
    const c3 = p3 ? 0 : B64_INDEX[s.charCodeAt(i + 3) & 0xff]!;
    for (let k = 0; k < 4; k++) if (s.charCodeAt(i + k) > 0x7f) return undefined;
    if (c0 < 0 || c1 < 0 || c2 < 0 || c3 < 0) return undefined;
    const n = (c0 << 18) | (c1 << 12) | (c2 << 6) | c3;
    out[o++] = n >> 16;
    if (p2) {
      if ((n & 0xffff) !== 0) return undefined; // non-canonical trailing bits
      break;
    }
    out[o++] = (n >> 8) & 0xff;
    if (p3) {
      if ((n & 0xff) !== 0) return undefined;
      break;
    }
    out[o++] = n & 0xff;
  }
  return out;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 encoding of s (lone surrogates become U+FFFD, like WebSocket.send). */
export function utf8(s: string): Bytes {
  return encoder.encode(s) as Bytes;
}

/** Strict UTF-8 decoding; throws TypeError on invalid input. */
export function utf8Decode(b: Uint8Array): string {
  return strictDecoder.decode(b);
}

/** Lowercase hex. */
export function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** Parses hex (tests and vectors); throws on malformed input. */
export function fromHex(s: string): Bytes {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new TypeError('socketx: bad hex');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Concatenates byte arrays into a new ArrayBuffer-backed array. */
export function concat(...parts: Uint8Array[]): Bytes {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Copies b into a fresh ArrayBuffer-backed array. */
export function copyBytes(b: Uint8Array): Bytes {
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}

/** The 8-byte little-endian encoding of n (0 ≤ n < 2^64). */
export function u64le(n: bigint): Bytes {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, true);
  return out;
}

/** Overwrites b with zeros (best effort: JS cannot guarantee erasure). */
export function wipe(b: Uint8Array | undefined): void {
  if (b) b.fill(0);
}
