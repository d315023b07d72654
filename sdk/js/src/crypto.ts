// The symmetric primitives of the profile behind one small interface, with
// two implementations that produce identical bytes:
//   - webCrypto: crypto.subtle (native, fast), used whenever it exists;
//   - nobleCrypto: @noble/hashes + @noble/ciphers (audited pure JS), used only
//     where crypto.subtle is missing: pages served over plain http from a
//     host other than localhost (browsers expose WebCrypto to secure contexts
//     only), React Native / Hermes, older WebViews.
// Randomness always comes from crypto.getRandomValues; a runtime without it
// is refused with a TypeError (randomSource) before any socket opens.

import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { gcm } from '@noble/ciphers/aes.js';
import { copyBytes, type Bytes } from './bytes.js';

/** AES-256-GCM with one key (NIST SP 800-38D, 12-byte nonce, 16-byte tag). */
export interface Aead {
  /** Returns ciphertext || tag. */
  seal(nonce: Bytes, plaintext: Bytes, aad: Bytes): Promise<Bytes>;
  /** Returns the plaintext, or undefined when authentication fails. */
  open(nonce: Bytes, sealed: Bytes, aad: Bytes): Promise<Bytes | undefined>;
}

/** The primitives the key schedule and codec need. */
export interface CryptoProvider {
  readonly name: string;
  sha256(data: Bytes): Promise<Bytes>;
  hmacSha256(key: Bytes, data: Bytes): Promise<Bytes>;
  /** HKDF-SHA256 (RFC 5869) extract-then-expand, len ≤ 32. */
  hkdf(salt: Bytes, ikm: Bytes, info: Bytes, len: number): Promise<Bytes>;
  aead(key: Bytes): Promise<Aead>;
}

/** WebCrypto implementation; subtle defaults to globalThis.crypto.subtle. */
export function webCrypto(subtle: SubtleCrypto = globalThis.crypto.subtle): CryptoProvider {
  return {
    name: 'webcrypto',
    async sha256(data) {
      return new Uint8Array(await subtle.digest('SHA-256', data));
    },
    async hmacSha256(key, data) {
      const k = await subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      return new Uint8Array(await subtle.sign('HMAC', k, data));
    },
    async hkdf(salt, ikm, info, len) {
      const k = await subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
      return new Uint8Array(await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, k, len * 8));
    },
    async aead(key) {
      const k = await subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt', 'decrypt']);
      return {
        async seal(nonce, plaintext, aad) {
          return new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: 128 }, k, plaintext));
        },
        async open(nonce, sealed, aad) {
          try {
            return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: 128 }, k, sealed));
          } catch {
            return undefined; // OperationError: the tag did not verify
          }
        },
      };
    },
  };
}

/** Pure-JS implementation (@noble), for contexts without crypto.subtle. */
export function nobleCrypto(): CryptoProvider {
  const mac = (key: Uint8Array, data: Uint8Array) => copyBytes(hmac(sha256, key, data));
  return {
    name: 'noble',
    async sha256(data) {
      return copyBytes(sha256(data));
    },
    async hmacSha256(key, data) {
      return mac(key, data);
    },
    async hkdf(salt, ikm, info, len) {
      const prk = mac(salt, ikm);
      const t = new Uint8Array(info.length + 1);
      t.set(info);
      t[info.length] = 1;
      return mac(prk, t).slice(0, len);
    },
    async aead(key) {
      const k = copyBytes(key);
      return {
        async seal(nonce, plaintext, aad) {
          return copyBytes(gcm(k, nonce, aad).encrypt(plaintext));
        },
        async open(nonce, sealed, aad) {
          try {
            return copyBytes(gcm(k, nonce, aad).decrypt(sealed));
          } catch {
            return undefined;
          }
        },
      };
    },
  };
}

/** WebCrypto when available, else the pure-JS fallback. */
export function defaultCrypto(): CryptoProvider {
  return globalThis.crypto?.subtle ? webCrypto(globalThis.crypto.subtle) : nobleCrypto();
}

/**
 * Throws a TypeError naming the fix when the runtime has no
 * crypto.getRandomValues (React Native without a polyfill): nothing in the
 * SDK can pair without it.
 */
export function requireRandomSource(): void {
  if (typeof globalThis.crypto?.getRandomValues !== 'function') {
    throw new TypeError('socketx: no crypto.getRandomValues in this runtime: the SDK needs a secure random source ' +
      '(React Native: import react-native-get-random-values first)');
  }
}

/** n bytes from crypto.getRandomValues (in chunks of 65,536, its limit). */
export function randomBytes(n: number): Bytes {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) globalThis.crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}
