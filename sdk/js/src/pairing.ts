// The client side of pairing (docs/PROTOCOL.md §pairRequest, §pairResponse).
// The client makes two key pairs, one per direction, and sends their public
// keys with two personalization strings (action 2). The server answers with
// one "secret" per key and one nonce per direction (action 3), named from
// the server's side:
//   client encoder (c2s) ← decapsulate(encoder key, decoderSecret), decoderNonce, encoderPersonalization
//   client decoder (s2c) ← decapsulate(decoder key, encoderSecret), encoderNonce, decoderPersonalization

import { base64Decode, base64Encode, concat, hex, utf8, wipe, type Bytes } from './bytes.js';
import { Decoder, Encoder } from './codec.js';
import type { CryptoProvider } from './crypto.js';
import { CodecError, ServerAuthError } from './errors.js';
import { parseFields } from './json.js';
import { KexKey, keySeedSize, secretSize, strengthName, type Strength } from './kex.js';
import { chainKey0, computeEEID } from './keys.js';
import {
  SERVER_CONFIRM_SIZE, SERVER_ENCAPS_SEED_SIZE, constantTimeEqual, encapsulateToServer, serverConfirmSteps,
  type ServerPublicKey,
} from './serverkey.js';

/** Largest pairResponse payload accepted. */
export const MAX_PAIR_RESPONSE = 8 << 10;
/** Personalization length and alphabet, as the SocketX SDKs use. */
export const PERSONALIZATION_LEN = 64;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A source of random bytes: returns n fresh bytes. */
export type RandomSource = (n: number) => Uint8Array;

/** Explicit pairing material (vectors, tests). */
export interface InitiatorMaterial {
  encoderSeed: Uint8Array;
  encoderPersonalization: string;
  decoderSeed: Uint8Array;
  decoderPersonalization: string;
}

/**
 * Server authentication material (docs/PROTOCOL.md §6.1): the pinned key
 * and the 32-byte ML-KEM.Encaps message m (vectors, tests).
 */
export interface PinMaterial {
  key: ServerPublicKey;
  encapsSeed: Uint8Array;
}

/** A finished pairing: the client's encoder and strict decoder, and the EEID. */
export interface Pairing {
  encoder: Encoder;
  decoder: Decoder;
  /** 8 bytes; the proxy logs the same value as 16 hex digits. */
  eeid: Bytes;
  /** eeid as 16 lowercase hex digits. */
  eeidHex: string;
}

/** A parsed and checked pairResponse. */
export interface PairResponse {
  encoderSecret: Bytes;
  encoderNonce: bigint;
  decoderSecret: Bytes;
  decoderNonce: bigint;
  /** serverConfirm as sent (base64, unchecked), or undefined when absent. */
  serverConfirm: string | undefined;
}

function checkPersonalization(field: string, s: string): void {
  if (s.length < 1 || s.length > 256) throw new RangeError(`socketx: ${field} is ${s.length} bytes, want 1 to 256`);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) throw new RangeError(`socketx: ${field} has a non-printable-ASCII character at offset ${i}`);
  }
}

/**
 * 64 characters of [A-Za-z0-9] by rejection sampling: a byte b < 248 gives
 * ALPHABET[b % 62]. It reads rand in chunks of (64 − characters so far), the
 * same way the Go SDK reads its source, so a deterministic source yields the
 * same string in both.
 */
export function randomPersonalization(rand: RandomSource): string {
  let out = '';
  while (out.length < PERSONALIZATION_LEN) {
    const buf = rand(PERSONALIZATION_LEN - out.length);
    for (const b of buf) if (b < 248) out += ALPHABET[b % 62];
  }
  return out;
}

/** The client role of pairing: two key pairs and the pairRequest payload. */
export class Initiator {
  readonly strength: Strength;
  readonly encoderPersonalization: string;
  readonly decoderPersonalization: string;
  /** The pairRequest payload (action 2, without header). */
  readonly request: Bytes;
  readonly #enc: KexKey;
  readonly #dec: KexKey;
  /** The pinned key ID, when the initiator authenticates the server. */
  readonly serverKeyId: string | undefined;
  readonly #ssServer: Bytes | undefined;

  private constructor(strength: Strength, enc: KexKey, encPers: string, dec: KexKey, decPers: string, pin?: PinMaterial) {
    this.strength = strength;
    this.#enc = enc;
    this.#dec = dec;
    this.encoderPersonalization = encPers;
    this.decoderPersonalization = decPers;
    let auth = '';
    if (pin) {
      // serverKeyId and serverSecret after the four standard fields, as the Go SDK writes them.
      const { secret, shared } = encapsulateToServer(pin.key, pin.encapsSeed);
      this.serverKeyId = pin.key.keyId;
      this.#ssServer = shared;
      auth = `,"serverKeyId":"${pin.key.keyId}","serverSecret":"${base64Encode(secret)}"`;
    }
    this.request = utf8(
      `{"encoderPublicKey":"${base64Encode(enc.publicKey)}","encoderPersonalization":${JSON.stringify(encPers)},` +
      `"decoderPublicKey":"${base64Encode(dec.publicKey)}","decoderPersonalization":${JSON.stringify(decPers)}${auth}}`);
  }

  /**
   * Builds an initiator from explicit seeds and personalizations, pinned to
   * a server key when pin is given.
   */
  static fromMaterial(strength: Strength, m: InitiatorMaterial, pin?: PinMaterial): Initiator {
    checkPersonalization('encoderPersonalization', m.encoderPersonalization);
    checkPersonalization('decoderPersonalization', m.decoderPersonalization);
    if (pin && pin.encapsSeed.length !== SERVER_ENCAPS_SEED_SIZE) {
      throw new RangeError(`socketx: encapsulation seed is ${pin.encapsSeed.length} bytes, want ${SERVER_ENCAPS_SEED_SIZE}`);
    }
    return new Initiator(strength,
      KexKey.fromSeed(strength, m.encoderSeed), m.encoderPersonalization,
      KexKey.fromSeed(strength, m.decoderSeed), m.decoderPersonalization, pin);
  }

  /** Whether the initiator authenticates the server (a pinned pairRequest). */
  get pinned(): boolean {
    return this.#ssServer !== undefined;
  }

  /**
   * Generates fresh material from rand, reading in this order (as the Go
   * SDK does): encoder key seed, encoder personalization, decoder key seed,
   * decoder personalization; with a pin, then the 32-byte ML-KEM.Encaps
   * message m (as the Go SDK's NewPinnedInitiator does).
   */
  static generate(strength: Strength, rand: RandomSource, pin?: ServerPublicKey): Initiator {
    const encoderSeed = rand(keySeedSize(strength)).slice();
    const encoderPersonalization = randomPersonalization(rand);
    const decoderSeed = rand(keySeedSize(strength)).slice();
    const decoderPersonalization = randomPersonalization(rand);
    const encapsSeed = pin ? rand(SERVER_ENCAPS_SEED_SIZE).slice() : undefined;
    try {
      return Initiator.fromMaterial(strength, { encoderSeed, encoderPersonalization, decoderSeed, decoderPersonalization },
        pin && { key: pin, encapsSeed: encapsSeed! });
    } finally {
      wipe(encoderSeed);
      wipe(decoderSeed);
      wipe(encapsSeed);
    }
  }

  /** The client's encoder (c2s) public key. */
  get encoderPublicKey(): Bytes {
    return this.#enc.publicKey;
  }

  /** The client's decoder (s2c) public key. */
  get decoderPublicKey(): Bytes {
    return this.#dec.publicKey;
  }

  /**
   * Completes pairing from the pairResponse payload (action 3, without
   * header) with the HKDF salt of the profile (keys.tenantSalt). Throws
   * CodecError "pairResponse" or "keySize" for a malformed response (also
   * for a serverConfirm an unpinned initiator did not ask for). A pinned
   * initiator throws ServerAuthError when serverConfirm is absent
   * ('unsupported'), or malformed or wrong ('mismatch', compared in
   * constant time), and keys both directions with ss_dir || ss_server
   * (docs/PROTOCOL.md §6.1). The key pairs are forgotten afterwards,
   * whatever the outcome.
   */
  async finish(payload: Uint8Array, c: CryptoProvider, salt: Bytes): Promise<Pairing> {
    try {
      const r = parsePairResponse(payload, this.strength);
      const encShared = this.#enc.decapsulate(r.decoderSecret);
      if (!encShared) throw new CodecError('pairResponse', 'socketx: decoderSecret has a low-order X25519 point');
      const decShared = this.#dec.decapsulate(r.encoderSecret);
      if (!decShared) throw new CodecError('pairResponse', 'socketx: encoderSecret has a low-order X25519 point');
      let encIKM = encShared, decIKM = decShared;
      const ssServer = this.#ssServer;
      if (ssServer) {
        if (r.serverConfirm === undefined) throw new ServerAuthError('unsupported', this.serverKeyId!);
        const got = base64Decode(r.serverConfirm);
        const { confirm } = await serverConfirmSteps(c, salt, ssServer, encShared, decShared, this.request, r);
        // A malformed confirmation is one that does not verify.
        const ok = got !== undefined && got.length === SERVER_CONFIRM_SIZE && constantTimeEqual(got, confirm);
        wipe(confirm);
        if (!ok) throw new ServerAuthError('mismatch', this.serverKeyId!);
        encIKM = concat(encShared, ssServer);
        decIKM = concat(decShared, ssServer);
      } else if (r.serverConfirm !== undefined) {
        throw new CodecError('pairResponse', 'socketx: pairResponse has serverConfirm but the pairRequest named no server key');
      }
      const [encCK, decCK, eeid] = await Promise.all([
        chainKey0(c, salt, encIKM, 'c2s', r.decoderNonce, this.encoderPersonalization),
        chainKey0(c, salt, decIKM, 's2c', r.encoderNonce, this.decoderPersonalization),
        computeEEID(c, payload),
      ]);
      wipe(encShared);
      wipe(decShared);
      wipe(encIKM);
      wipe(decIKM);
      const [encoder, decoder] = await Promise.all([Encoder.create(c, encCK), Decoder.create(c, decCK)]);
      wipe(encCK);
      wipe(decCK);
      return { encoder, decoder, eeid, eeidHex: hex(eeid) };
    } finally {
      this.#enc.destroy();
      this.#dec.destroy();
      wipe(this.#ssServer);
    }
  }
}

function decodeKey(field: string, b64: string, st: Strength): Bytes {
  const b = base64Decode(b64);
  if (!b) throw new CodecError('pairResponse', `socketx: ${field} is not standard padded base64`);
  const want = secretSize(st);
  if (b.length !== want) {
    throw new CodecError('keySize', `socketx: ${field} is ${b.length} bytes, want ${want} for ${strengthName(st)}`);
  }
  return b;
}

function parseNonce(field: string, s: string): bigint {
  if (/^[0-9]{1,20}$/.test(s)) {
    const n = BigInt(s);
    if (n <= 0xffff_ffff_ffff_ffffn) return n;
  }
  throw new CodecError('pairResponse', `socketx: ${field} is not a decimal uint64 string`);
}

const RESPONSE_FIELDS = ['encoderSecret', 'encoderNonce', 'decoderSecret', 'decoderNonce'] as const;

/** Parses and checks a pairResponse payload for strength st. */
export function parsePairResponse(payload: Uint8Array, st: Strength): PairResponse {
  if (payload.length > MAX_PAIR_RESPONSE) {
    throw new CodecError('pairResponse', `socketx: pairResponse is ${payload.length} bytes, limit ${MAX_PAIR_RESPONSE}`);
  }
  const v = parseFields(new TextDecoder().decode(payload), 'pairResponse', RESPONSE_FIELDS, ['serverConfirm']);
  if (typeof v === 'string') throw new CodecError('pairResponse', `socketx: ${v}`);
  return {
    encoderSecret: decodeKey('encoderSecret', v[0]!, st),
    encoderNonce: parseNonce('encoderNonce', v[1]!),
    decoderSecret: decodeKey('decoderSecret', v[2]!, st),
    decoderNonce: parseNonce('decoderNonce', v[3]!),
    serverConfirm: v[4],
  };
}
