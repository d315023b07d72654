// Message protection (docs/PROTOCOL.md §Encoding):
//
//   header(7) || seq (8, big-endian) || AES-256-GCM(K_epoch, IV_epoch ^ seq, plaintext, AAD = header || seq)
//
// epoch = seq >> 16; the key ratchets every 65,536 messages. The client's
// decoder is strict: message n must carry seq n (no window), as in every
// SocketX client.
//
// WebCrypto is asynchronous, so each Encoder and Decoder runs its operations
// on its own promise chain: results come out in exactly the order the calls
// were made, whatever the timing of the underlying crypto.

import { type Bytes } from './bytes.js';
import type { Aead, CryptoProvider } from './crypto.js';
import { CodecError } from './errors.js';
import { Action, HEADER_LEN, headerValid, parseHeader, putHeader, type Header } from './header.js';
import { EPOCH_BITS, OVERHEAD, SEQ_SIZE, gcmNonce, ratchet } from './keys.js';

const MAX_SEQ = 0xffff_ffff_ffff_ffffn;

function encodedAction(a: number): boolean {
  return a === Action.UpstreamRequest || a === Action.ProxyData;
}

/** Runs async operations one after another, in call order. */
class Serial {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T>): Promise<T> {
    const p = this.#tail.then(op);
    this.#tail = p.catch(() => undefined);
    return p;
  }
}

interface EpochState {
  aead: Aead;
  iv: Bytes;
  epoch: bigint;
  ck: Bytes; // CK_{epoch+1}
}

async function epochState(c: CryptoProvider, ck: Bytes, epoch: bigint): Promise<EpochState> {
  const ek = await ratchet(c, ck);
  const aead = await c.aead(ek.key);
  ek.key.fill(0);
  return { aead, iv: ek.iv, epoch, ck: ek.next };
}

/** Seals the messages of the client→server direction. */
export class Encoder {
  readonly #c: CryptoProvider;
  #st: EpochState;
  #seq = 0n;
  readonly #serial = new Serial();

  private constructor(c: CryptoProvider, st: EpochState) {
    this.#c = c;
    this.#st = st;
  }

  /** Builds an encoder from CK_0. */
  static async create(c: CryptoProvider, ck0: Bytes): Promise<Encoder> {
    return new Encoder(c, await epochState(c, ck0, 0n));
  }

  /** Sequence number the next seal will use (once queued seals finish). */
  get seq(): bigint {
    return this.#seq;
  }

  /**
   * Returns the complete SocketX message for plaintext. action must be
   * UpstreamRequest (type Handshake) or ProxyData (Text or Binary), else
   * CodecError "messageType". Seals run in call order and number messages
   * in that order; the caller must send them in the order the calls were
   * made (awaiting each in turn, or chaining).
   */
  seal(action: number, type: number, plaintext: Uint8Array): Promise<Bytes> {
    return this.#serial.run(() => this.#seal(action, type, plaintext));
  }

  async #seal(action: number, type: number, plaintext: Uint8Array): Promise<Bytes> {
    if (!encodedAction(action) || !headerValid({ action, type })) {
      throw new CodecError('messageType', 'socketx: invalid action/messageType combination');
    }
    const seq = this.#seq;
    if (seq === MAX_SEQ) throw new CodecError('seqExhausted', 'socketx: sequence numbers exhausted');
    while (seq >> EPOCH_BITS !== this.#st.epoch) {
      const ck = this.#st.ck;
      this.#st = await epochState(this.#c, ck, this.#st.epoch + 1n);
      ck.fill(0);
    }
    const aad = new Uint8Array(HEADER_LEN + SEQ_SIZE);
    putHeader(aad, 0, action, type);
    new DataView(aad.buffer).setBigUint64(HEADER_LEN, seq, false);
    const pt = plaintext instanceof Uint8Array && plaintext.buffer instanceof ArrayBuffer
      ? (plaintext as Bytes) : new Uint8Array(plaintext);
    const ct = await this.#st.aead.seal(gcmNonce(this.#st.iv, seq), pt, aad);
    const out = new Uint8Array(aad.length + ct.length);
    out.set(aad);
    out.set(ct, aad.length);
    this.#seq = seq + 1n;
    return out;
  }

  /** Advances to sequence number seq, ratcheting as needed (tests, vectors). */
  skipTo(seq: bigint): Promise<void> {
    return this.#serial.run(async () => {
      while (seq >> EPOCH_BITS > this.#st.epoch) {
        this.#st = await epochState(this.#c, this.#st.ck, this.#st.epoch + 1n);
      }
      this.#seq = seq;
    });
  }
}

/** A decoded message: its header and plaintext. */
export interface Decoded {
  header: Header;
  plaintext: Bytes;
}

/** Decodes the messages of the server→client direction, strictly in order. */
export class Decoder {
  readonly #c: CryptoProvider;
  #st: EpochState;
  #next = 0n;
  readonly #serial = new Serial();

  private constructor(c: CryptoProvider, st: EpochState) {
    this.#c = c;
    this.#st = st;
  }

  /** Builds a strict decoder from CK_0. */
  static async create(c: CryptoProvider, ck0: Bytes): Promise<Decoder> {
    return new Decoder(c, await epochState(c, ck0, 0n));
  }

  /** The sequence number the next message must carry. */
  get next(): bigint {
    return this.#next;
  }

  /**
   * Authenticates and decrypts a complete SocketX message. Decodes run in
   * call order. Throws CodecError: "short", "magic", "version",
   * "messageType" (not action 4/6 or a bad type), "replay" (seq below the
   * expected one), "outsideWindow" (seq above it) or "auth". The decoder's
   * state changes only when the message authenticates.
   */
  open(msg: Uint8Array): Promise<Decoded> {
    return this.#serial.run(() => this.#open(msg));
  }

  async #open(msg: Uint8Array): Promise<Decoded> {
    const { header, payload } = parseHeader(msg);
    if (!encodedAction(header.action) || !headerValid(header)) {
      throw new CodecError('messageType', 'socketx: invalid action/messageType combination');
    }
    if (payload.length < OVERHEAD) throw new CodecError('short', 'socketx: message too short');
    const seq = new DataView(payload.buffer, payload.byteOffset, SEQ_SIZE).getBigUint64(0, false);
    if (seq === MAX_SEQ || seq > this.#next) throw new CodecError('outsideWindow', 'socketx: sequence number outside window');
    if (seq < this.#next) throw new CodecError('replay', 'socketx: replayed message');
    const aad = msg.slice(0, HEADER_LEN + SEQ_SIZE);
    const body = msg.slice(HEADER_LEN + SEQ_SIZE);
    const epoch = seq >> EPOCH_BITS;
    let st = this.#st;
    if (epoch === st.epoch + 1n) {
      st = await epochState(this.#c, st.ck, epoch); // committed only if it authenticates
    } else if (epoch !== st.epoch) {
      throw new CodecError('outsideWindow', 'socketx: sequence number outside window');
    }
    const pt = await st.aead.open(gcmNonce(st.iv, seq), body, aad);
    if (pt === undefined) throw new CodecError('auth', 'socketx: message authentication failed');
    if (st !== this.#st) {
      this.#st.ck.fill(0);
      this.#st = st;
    }
    this.#next = seq + 1n;
    return { header, plaintext: pt };
  }

  /** Advances the expected sequence number to seq (tests, vectors). */
  skipTo(seq: bigint): Promise<void> {
    return this.#serial.run(async () => {
      while (seq >> EPOCH_BITS > this.#st.epoch) {
        this.#st = await epochState(this.#c, this.#st.ck, this.#st.epoch + 1n);
      }
      this.#next = seq;
    });
  }
}
