// Key schedule (docs/PROTOCOL.md §Key schedule), HKDF-SHA256 per RFC 5869:
//
//   salt   = "socketx-mte-v1", or with a tenant license
//            HMAC-SHA256(license, "socketx-mte-v1 tenant" || 0x00 || company)
//   CK_0   = HKDF(salt, shared secret, "socketx-mte-v1 " || dir || 0x00 || nonce LE64 || personalization, 32)
//   K_e    = HKDF-Expand(CK_e, "key", 32)
//   IV_e   = HKDF-Expand(CK_e, "iv", 12)
//   CK_e+1 = HKDF-Expand(CK_e, "chain", 32), after which CK_e is forgotten.
//
// HKDF-Expand with L ≤ 32 is one HMAC: T(1) = HMAC(PRK, info || 0x01)
// (RFC 5869 §2.3), which is how it is computed here (WebCrypto's HKDF always
// extracts first).

import { concat, utf8, u64le, wipe, type Bytes } from './bytes.js';
import type { CryptoProvider } from './crypto.js';

export const PROFILE_LABEL = 'socketx-mte-v1';
const TENANT_LABEL = 'socketx-mte-v1 tenant';
const EEID_LABEL = 'socketx-mte-v1 eeid';

/** Direction labels: c2s = client encoder, s2c = client decoder. */
export type Direction = 'c2s' | 's2c';

/** Messages per key epoch: 2^16. */
export const EPOCH_BITS = 16n;
export const KEY_SIZE = 32;
export const IV_SIZE = 12;
export const TAG_SIZE = 16;
export const SEQ_SIZE = 8;
/** Bytes an encoded payload adds after the header: seq + tag. */
export const OVERHEAD = SEQ_SIZE + TAG_SIZE;

/** The HKDF salt for an optional tenant (company is ignored without a license). */
export async function tenantSalt(c: CryptoProvider, company = '', license = ''): Promise<Bytes> {
  if (license === '') return utf8(PROFILE_LABEL);
  return c.hmacSha256(utf8(license), concat(utf8(TENANT_LABEL), new Uint8Array([0]), utf8(company)));
}

/** HKDF-Expand-SHA256 for out lengths ≤ 32. */
export async function hkdfExpand(c: CryptoProvider, prk: Bytes, info: string, len: number): Promise<Bytes> {
  const t = await c.hmacSha256(prk, concat(utf8(info), new Uint8Array([1])));
  const out = t.slice(0, len);
  wipe(t);
  return out;
}

/** CK_0 of one direction. nonce is the pairResponse nonce of that direction. */
export async function chainKey0(c: CryptoProvider, salt: Bytes, secret: Bytes, dir: Direction,
  nonce: bigint, personalization: string): Promise<Bytes> {
  const info = concat(utf8(`${PROFILE_LABEL} ${dir}`), new Uint8Array([0]), u64le(nonce), utf8(personalization));
  return c.hkdf(salt, secret, info, KEY_SIZE);
}

/** Key and IV of one epoch, and the next chain key. */
export interface EpochKeys {
  key: Bytes;
  iv: Bytes;
  next: Bytes;
}

/** Derives the epoch keys from chain key ck (which the caller then forgets). */
export async function ratchet(c: CryptoProvider, ck: Bytes): Promise<EpochKeys> {
  const [key, iv, next] = await Promise.all([
    hkdfExpand(c, ck, 'key', KEY_SIZE),
    hkdfExpand(c, ck, 'iv', IV_SIZE),
    hkdfExpand(c, ck, 'chain', KEY_SIZE),
  ]);
  return { key, iv, next };
}

/** The GCM nonce of message seq: IV XOR (0^32 || seq big-endian 64). */
export function gcmNonce(iv: Bytes, seq: bigint): Bytes {
  const n = iv.slice();
  const v = new DataView(n.buffer);
  v.setBigUint64(4, v.getBigUint64(4, false) ^ seq, false);
  return n;
}

/** The pairing identifier: first 8 bytes of SHA-256("socketx-mte-v1 eeid" || pairResponse payload). */
export async function computeEEID(c: CryptoProvider, pairResponse: Uint8Array): Promise<Bytes> {
  return (await c.sha256(concat(utf8(EEID_LABEL), pairResponse))).slice(0, 8);
}
