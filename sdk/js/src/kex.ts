// The key exchange of one direction (docs/PROTOCOL.md §Key exchange). The
// client generates a key pair and decapsulates the server's "secret":
//   - ML-KEM-512/768/1024 (FIPS 203): the public key is the encapsulation
//     key from ML-KEM.KeyGen_internal(d, z) with seed = d || z (64 bytes);
//     the secret is a ciphertext, decapsulated with ML-KEM.Decaps (§7.3).
//   - Strength 0, X25519 (RFC 7748 §5): the private scalar is the 32-byte
//     seed; the secret is the server's ephemeral public key and the shared
//     secret X25519(seed, secret), refused when all-zero (§6.1).
//   - 'xwing', X-Wing (draft-connolly-cfrg-xwing-kem-10), the ML-KEM-768 +
//     X25519 hybrid: the 32-byte seed is the X-Wing private key, the public
//     key pk_M || pk_X (1216 bytes), the secret ct_M || ct_X (1120 bytes).
//     noble's ml_kem768_x25519 is X-Wing: test/vectors.test.js checks it
//     against the draft's vectors (mte/testdata/xwing-draft10.txt).
// ML-KEM and X-Wing come from @noble/post-quantum, X25519 from
// @noble/curves: audited pure-JS implementations that behave the same in
// every browser and Node.

import { ml_kem512, ml_kem768, ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { copyBytes, wipe, type Bytes } from './bytes.js';

/**
 * Key exchange: 0 = X25519, 512/768/1024 = ML-KEM-n (MTE_KYBER_STRENGTH),
 * 'xwing' = X-Wing (MTE_KEY_EXCHANGE=xwing; the Go SDK's mte.StrengthXWing).
 */
export type Strength = 0 | 512 | 768 | 1024 | 'xwing';

/** Whether s is one of 0, 512, 768, 1024, 'xwing'. */
export function validStrength(s: unknown): s is Strength {
  return s === 0 || s === 512 || s === 768 || s === 1024 || s === 'xwing';
}

/** Names the key exchange: "ML-KEM-512" …, "X25519" or "X-Wing". */
export function strengthName(s: Strength): string {
  return s === 0 ? 'X25519' : s === 'xwing' ? 'X-Wing' : `ML-KEM-${s}`;
}

/** Size in bytes of a client public key. */
export function publicKeySize(s: Strength): number {
  switch (s) {
    case 512: return 800;
    case 768: return 1184;
    case 1024: return 1568;
    case 'xwing': return 1216;
  }
  return 32;
}

/** Size in bytes of a server secret (ML-KEM or X-Wing ciphertext, or X25519 public key). */
export function secretSize(s: Strength): number {
  switch (s) {
    case 512: return 768;
    case 768: return 1088;
    case 1024: return 1568;
    case 'xwing': return 1120;
  }
  return 32;
}

/** Seed length a key pair is derived from: 64 (d || z) for ML-KEM, 32 for X25519 and X-Wing. */
export function keySeedSize(s: Strength): number {
  return s === 0 || s === 'xwing' ? 32 : 64;
}

function kem(s: 512 | 768 | 1024) {
  return s === 512 ? ml_kem512 : s === 768 ? ml_kem768 : ml_kem1024;
}

/** A client key pair for one direction. */
export class KexKey {
  readonly strength: Strength;
  readonly publicKey: Bytes;
  #secret: Bytes;

  private constructor(strength: Strength, publicKey: Bytes, secret: Bytes) {
    this.strength = strength;
    this.publicKey = publicKey;
    this.#secret = secret;
  }

  /** Derives a key pair deterministically from seed (keySeedSize bytes). */
  static fromSeed(s: Strength, seed: Uint8Array): KexKey {
    if (seed.length !== keySeedSize(s)) throw new RangeError(`socketx: key seed is ${seed.length} bytes, want ${keySeedSize(s)}`);
    if (s === 0) {
      const sk = copyBytes(seed);
      return new KexKey(s, copyBytes(x25519.getPublicKey(sk)), sk);
    }
    const { publicKey, secretKey } = s === 'xwing' ? ml_kem768_x25519.keygen(seed) : kem(s).keygen(seed);
    return new KexKey(s, copyBytes(publicKey), copyBytes(secretKey));
  }

  /**
   * Recovers the 32-byte shared secret from the server's secret, whose size
   * the caller checked. Returns undefined for an X25519 secret, or X-Wing's
   * ct_X, that is a low-order point (all-zero output): noble refuses it in
   * X-Wing too, which the draft does not require; a real server never
   * sends one (ct_X is X25519(ek_X, 9)).
   */
  decapsulate(secret: Uint8Array): Bytes | undefined {
    if (this.strength === 0) {
      try {
        const ss = copyBytes(x25519.getSharedSecret(this.#secret, secret));
        if (ss.every((b) => b === 0)) return undefined;
        return ss;
      } catch {
        return undefined;
      }
    }
    if (this.strength === 'xwing') {
      try {
        return copyBytes(ml_kem768_x25519.decapsulate(secret, this.#secret));
      } catch {
        return undefined;
      }
    }
    return copyBytes(kem(this.strength).decapsulate(secret, this.#secret));
  }

  /** Forgets the private key. */
  destroy(): void {
    wipe(this.#secret);
  }
}
