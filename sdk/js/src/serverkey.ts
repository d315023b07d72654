// Server authentication (docs/PROTOCOL.md §6.1): a pinned client
// encapsulates to the proxy's long-term ML-KEM-768 server key; only the
// holder of its private key recovers ss_server, which enters both
// directions' key schedule and the serverConfirm MAC of the pairResponse.
//
//   key ID        = first 8 bytes of SHA-256(public key), 16 lowercase hex
//   IKM_dir       = ss_dir || ss_server               (replaces ss_dir in §6)
//   PRK_confirm   = HKDF-Extract(salt, ss_server || ss_c2s || ss_s2c)
//   CK_confirm    = HKDF-Expand(PRK_confirm, "socketx-mte-v1 server confirm", 32)
//   TH            = SHA-256("socketx-mte-v1 server auth" || 0x00 || BE32(len(pairRequest)) || pairRequest ||
//                           encoderSecret || LE64(encoderNonce) || decoderSecret || LE64(decoderNonce))
//   serverConfirm = HMAC-SHA256(CK_confirm, TH)

import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64Decode, concat, copyBytes, hex, u64le, utf8, wipe, type Bytes } from './bytes.js';
import type { CryptoProvider } from './crypto.js';
import { hkdfExpand } from './keys.js';

/** Sizes of a server key (ML-KEM-768) and its pieces. */
export const SERVER_PUBLIC_KEY_SIZE = 1184;
export const SERVER_SECRET_SIZE = 1088;
export const SERVER_CONFIRM_SIZE = 32;
/** Bytes of the ML-KEM.Encaps message m read from the random source. */
export const SERVER_ENCAPS_SEED_SIZE = 32;

const SERVER_AUTH_LABEL = 'socketx-mte-v1 server auth';
const SERVER_CONFIRM_LABEL = 'socketx-mte-v1 server confirm';

/**
 * A pin as ConnectOptions.serverKeys takes it: the base64 public key that
 * `socketx keygen` prints (`public key: …`), the whole two-line output of
 * `socketx keygen` (`key id: …` and `public key: …`), or an object with the
 * public key (base64 or bytes) and optionally its key ID, which must then
 * match the key.
 */
export type ServerKeyPin = string | { publicKey: string | Uint8Array; keyId?: string };

/** A parsed pin: a server's ML-KEM-768 public key and its key ID. */
export interface ServerPublicKey {
  /** 16 lowercase hex digits: the first 8 bytes of SHA-256(publicKey). */
  readonly keyId: string;
  /** The 1,184-byte encapsulation key. */
  readonly publicKey: Bytes;
}

/** The key ID of a server public key. */
export function serverKeyId(publicKey: Uint8Array): string {
  return hex(sha256(publicKey).subarray(0, 8));
}

const KEYGEN_OUTPUT = /^\s*key id:\s*(\S+)\s*\r?\n\s*public key:\s*(\S+)\s*$/;

/**
 * Parses a pin (the Go SDK's client.ParseServerKey, extended to the
 * keygen output and an object). Throws RangeError for anything that is not
 * the standard padded base64 of a 1,184-byte ML-KEM-768 public key passing
 * the FIPS 203 §7.2 modulus check, or whose stated key ID differs.
 */
export function parseServerKey(pin: ServerKeyPin): ServerPublicKey {
  let pub: string | Uint8Array;
  let statedId: string | undefined;
  if (typeof pin === 'string') {
    const m = KEYGEN_OUTPUT.exec(pin);
    if (m) {
      statedId = m[1];
      pub = m[2]!;
    } else {
      pub = pin.trim();
    }
  } else if (pin !== null && typeof pin === 'object') {
    pub = pin.publicKey;
    statedId = pin.keyId;
  } else {
    throw new RangeError('socketx: a server key pin is a string or { publicKey, keyId? }');
  }
  const raw = typeof pub === 'string' ? base64Decode(pub) : pub instanceof Uint8Array ? copyBytes(pub) : undefined;
  if (!raw || raw.length !== SERVER_PUBLIC_KEY_SIZE) {
    throw new RangeError(`socketx: a server public key is the base64 of ${SERVER_PUBLIC_KEY_SIZE} bytes`);
  }
  try {
    // noble applies the FIPS 203 §7.2 modulus check in encapsulate.
    ml_kem768.encapsulate(raw, new Uint8Array(SERVER_ENCAPS_SEED_SIZE));
  } catch {
    throw new RangeError('socketx: server public key fails the FIPS 203 modulus check');
  }
  const keyId = serverKeyId(raw);
  if (statedId !== undefined && statedId !== keyId) {
    throw new RangeError(`socketx: server key id ${JSON.stringify(statedId)} does not match its public key (${keyId})`);
  }
  return { keyId, publicKey: raw };
}

/** ML-KEM-768.Encaps(ek, m): the serverSecret ciphertext and ss_server. */
export function encapsulateToServer(key: ServerPublicKey, m: Uint8Array): { secret: Bytes; shared: Bytes } {
  const { cipherText, sharedSecret } = ml_kem768.encapsulate(key.publicKey, m);
  return { secret: copyBytes(cipherText), shared: copyBytes(sharedSecret) };
}

/** The intermediate values of serverConfirm (test vectors compare each). */
export interface ServerConfirmSteps {
  prk: Bytes;
  key: Bytes;
  transcriptHash: Bytes;
  confirm: Bytes;
}

/** The pairResponse fields the transcript binds. */
export interface TranscriptResponse {
  encoderSecret: Uint8Array;
  encoderNonce: bigint;
  decoderSecret: Uint8Array;
  decoderNonce: bigint;
}

/** TH: the transcript hash of a pairRequest payload and the pairResponse fields. */
export async function transcriptHash(c: CryptoProvider, pairRequest: Uint8Array, r: TranscriptResponse): Promise<Bytes> {
  const head = new Uint8Array(SERVER_AUTH_LABEL.length + 1 + 4);
  head.set(utf8(SERVER_AUTH_LABEL));
  new DataView(head.buffer).setUint32(SERVER_AUTH_LABEL.length + 1, pairRequest.length, false);
  return c.sha256(concat(head, pairRequest, r.encoderSecret, u64le(r.encoderNonce), r.decoderSecret, u64le(r.decoderNonce)));
}

/** Computes serverConfirm and its intermediate values. */
export async function serverConfirmSteps(c: CryptoProvider, salt: Bytes, ssServer: Uint8Array, ssC2S: Uint8Array,
  ssS2C: Uint8Array, pairRequest: Uint8Array, r: TranscriptResponse): Promise<ServerConfirmSteps> {
  const ikm = concat(ssServer, ssC2S, ssS2C);
  const prk = await c.hmacSha256(salt, ikm); // HKDF-Extract
  wipe(ikm);
  const key = await hkdfExpand(c, prk, SERVER_CONFIRM_LABEL, 32);
  const th = await transcriptHash(c, pairRequest, r);
  const confirm = await c.hmacSha256(key, th);
  return { prk, key, transcriptHash: th, confirm };
}

/** Compares two byte strings in time that depends only on their lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
