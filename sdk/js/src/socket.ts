// SocketX: the public client. It feels like the browser WebSocket it wraps:
// send(), onmessage / addEventListener('message'), close(code, reason),
// onclose, onerror; plus pairing details (eeid, strength) and an optional
// reconnect policy that re-pairs on every new socket and queues messages
// sent while disconnected.

import { backoffDelay, reconnectPolicy, type ReconnectOptions, type ReconnectPolicy } from './backoff.js';
import { copyBytes, utf8, type Bytes } from './bytes.js';
import { defaultCrypto, type CryptoProvider } from './crypto.js';
import { InvalidStateError, NetworkError, QueueFullError, ServerAuthError, UpstreamError, type SocketXError } from './errors.js';
import {
  SocketXCloseEvent, SocketXErrorEvent, SocketXMessageEvent, SocketXReconnectedEvent, SocketXReconnectingEvent,
} from './events.js';
import { MessageType } from './header.js';
import { strengthName, validStrength, type Strength } from './kex.js';
import { tenantSalt } from './keys.js';
import { Link, closeSocket, connectLink, isUnknownServerKey, type WebSocketConstructor } from './link.js';
import { parseServerKey, type ServerKeyPin } from './serverkey.js';

/** Options of SocketX.connect. */
export interface ConnectOptions {
  /** WebSocket subprotocols offered to the upstream, by preference. */
  protocols?: string | string[];
  /**
   * The key exchange; must match the proxy's MTE_KYBER_STRENGTH / MTE_KEY_EXCHANGE: 512 (default),
   * 768, 1024 (ML-KEM), 'xwing' (X-Wing, ML-KEM-768 + X25519 hybrid), or 0 (X25519, not post-quantum).
   */
  kyberStrength?: Strength;
  /** Optional tenant secret; must equal the proxy's MTE_COMPANY_NAME / MTE_LICENSE_KEY. */
  company?: string;
  license?: string;
  /** WebSocket constructor; default globalThis.WebSocket (in Node 20 pass the `ws` package's). */
  WebSocket?: WebSocketConstructor;
  /** Reconnect on unexpected closes (true for the defaults). Off by default. */
  reconnect?: boolean | ReconnectOptions;
  /** Messages kept while reconnecting; send() then throws QueueFullError (default 1000). */
  queueLimit?: number;
  /** Pathname sent to the proxy (action 4); default the URL's path and query. */
  pathname?: string;
  /** Time allowed to open the socket, pair and connect the upstream, in ms (default 15,000). */
  handshakeTimeout?: number;
  /** Symmetric crypto implementation (default: WebCrypto, else pure JS). */
  crypto?: CryptoProvider;
  /**
   * Pins the proxy (server authentication, docs/PROTOCOL.md §6.1): the
   * public keys `socketx keygen` printed for the proxy's MTE_SERVER_KEYS /
   * MTE_SERVER_KEY_FILES, each the base64 public key, the two-line keygen
   * output, or `{ publicKey, keyId? }`. When set, the SDK pairs only with a
   * server holding the private key of one of them; otherwise it closes with
   * 1008 "mte: server not authenticated" before the pathname or any message
   * is sent, and connect() rejects (or a reconnecting socket ends) with a
   * ServerAuthError. The first key is used; when the proxy closes with 1008
   * "mte: unknown server key" the next is tried on a new socket. During a
   * rotation list the new key first. Empty (default): the proxy is not
   * authenticated: anyone who terminates TLS can pair as the proxy.
   */
  serverKeys?: readonly ServerKeyPin[];
}

/** Data accepted by send(). */
export type SendData = string | ArrayBuffer | ArrayBufferView;

/** Connection states. */
export type SocketXState = 'open' | 'reconnecting' | 'closing' | 'closed';

interface Outgoing {
  type: number;
  data: Bytes;
}

type Handler<E extends Event> = ((this: SocketX, ev: E) => unknown) | null;

/** Default action 4 pathname: the URL's path ("/" when empty) and query, as sent. */
export function defaultPathname(url: string): string {
  const u = new URL(url);
  return (u.pathname || '/') + u.search;
}

function toOutgoing(data: SendData): Outgoing {
  if (typeof data === 'string') return { type: MessageType.Text, data: utf8(data) };
  if (data instanceof ArrayBuffer) return { type: MessageType.Binary, data: copyBytes(new Uint8Array(data)) };
  if (ArrayBuffer.isView(data)) {
    return { type: MessageType.Binary, data: copyBytes(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) };
  }
  throw new TypeError('socketx: send() takes a string, an ArrayBuffer or an ArrayBufferView');
}

function report(e: unknown): void {
  setTimeout(() => {
    throw e;
  }, 0);
}

/**
 * A paired SocketX connection. Create it with SocketX.connect; it resolves
 * once the proxy has paired and connected the upstream.
 */
export class SocketX extends EventTarget {
  readonly url: string;
  readonly strength: Strength;
  onmessage: Handler<SocketXMessageEvent> = null;
  onclose: Handler<SocketXCloseEvent> = null;
  onerror: Handler<SocketXErrorEvent> = null;
  onreconnecting: Handler<SocketXReconnectingEvent> = null;
  onreconnected: Handler<SocketXReconnectedEvent> = null;

  readonly #cfg: Parameters<typeof Link.connect>[0];
  readonly #policy: ReconnectPolicy | undefined;
  readonly #queueLimit: number;
  #link: Link | undefined;
  #state: SocketXState = 'reconnecting';
  #queue: Outgoing[] = [];
  #queuedBytes = 0;
  #pumping = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #userClose: { code: number; reason: string } | undefined;
  #closeEmitted = false;

  private constructor(url: string, cfg: Parameters<typeof Link.connect>[0], policy: ReconnectPolicy | undefined, queueLimit: number) {
    super();
    this.url = url;
    this.strength = cfg.strength;
    this.#cfg = cfg;
    this.#policy = policy;
    this.#queueLimit = queueLimit;
  }

  /**
   * Opens a WebSocket to the proxy at url (ws:// or wss://), pairs and waits
   * until the proxy has connected the upstream. Rejects with NetworkError
   * (socket could not open, e.g. the proxy refused the Origin with 403),
   * HandshakeError (pairing failed or timed out) or UpstreamError (the
   * proxy could not reach the upstream); with serverKeys, ServerAuthError
   * (the server did not prove a pinned key; nothing was sent to it after
   * the pairRequest) or HandshakeError 1008 "mte: unknown server key" (it
   * holds none of them). The first attempt is not retried.
   */
  static async connect(url: string, options: ConnectOptions = {}): Promise<SocketX> {
    const strength = options.kyberStrength ?? 512;
    if (!validStrength(strength)) throw new RangeError(`socketx: kyberStrength ${String(strength)} is not one of 0, 512, 768, 1024, 'xwing'`);
    const WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) throw new TypeError('socketx: no WebSocket in this runtime: pass options.WebSocket (e.g. the `ws` package)');
    const queueLimit = options.queueLimit ?? 1000;
    if (!(queueLimit >= 0)) throw new RangeError('socketx: queueLimit must be ≥ 0');
    const serverKeys = (options.serverKeys ?? []).map(parseServerKey);
    const crypto = options.crypto ?? defaultCrypto();
    const cfg = {
      url,
      protocols: options.protocols,
      strength,
      pathname: options.pathname ?? defaultPathname(url),
      crypto,
      salt: await tenantSalt(crypto, options.company, options.license),
      WebSocket: WS,
      handshakeTimeout: options.handshakeTimeout ?? 15_000,
      serverKeys,
    };
    const s = new SocketX(url, cfg, reconnectPolicy(options.reconnect), queueLimit);
    s.#adopt(await connectLink(cfg));
    return s;
  }

  /** The pairing identifier of the current socket (16 hex digits; the proxy logs the same). */
  get eeid(): string {
    return this.#link?.eeid ?? '';
  }

  /** The key ID of the pinned server key the current socket's server proved, or undefined without serverKeys. */
  get serverKeyId(): string | undefined {
    return this.#link?.serverKeyId;
  }

  /** The key exchange in use, e.g. "ML-KEM-512" or "X-Wing". */
  get keyExchange(): string {
    return strengthName(this.strength);
  }

  /** The subprotocol the upstream selected, or "". */
  get protocol(): string {
    return this.#link?.ws.protocol ?? '';
  }

  /** 'open', 'reconnecting', 'closing' or 'closed'. */
  get state(): SocketXState {
    return this.#state;
  }

  /** WebSocket-style readyState: 0 reconnecting, 1 open, 2 closing, 3 closed. */
  get readyState(): number {
    return { reconnecting: 0, open: 1, closing: 2, closed: 3 }[this.#state];
  }

  /** Plaintext bytes queued and not yet handed to the socket, plus the socket's own buffer. */
  get bufferedAmount(): number {
    return this.#queuedBytes + (this.#link?.ws.bufferedAmount ?? 0);
  }

  /**
   * Sends a text (string) or binary message. Messages go out in call order.
   * While reconnecting they are queued (at most queueLimit, then
   * QueueFullError); after close() InvalidStateError.
   */
  send(data: SendData): void {
    if (this.#state === 'closing' || this.#state === 'closed') {
      throw new InvalidStateError(`socketx: send() on a ${this.#state} connection`);
    }
    const out = toOutgoing(data);
    if (this.#state === 'reconnecting' && this.#queue.length >= this.#queueLimit) {
      throw new QueueFullError(this.#queueLimit);
    }
    this.#queue.push(out);
    this.#queuedBytes += out.data.length;
    void this.#pump();
  }

  /**
   * Closes the connection with code (1000 or 3000–4999) and reason (≤ 123
   * UTF-8 bytes); the proxy forwards them to the upstream. Messages already
   * passed to send() are written first. onclose follows.
   */
  close(code = 1000, reason = ''): void {
    if (code !== 1000 && (code < 3000 || code > 4999)) {
      throw new RangeError(`socketx: close code ${code} is not 1000 or 3000-4999`);
    }
    if (utf8(reason).length > 123) throw new RangeError('socketx: close reason is longer than 123 bytes');
    if (this.#state === 'closing' || this.#state === 'closed') return;
    this.#userClose = { code, reason };
    const wasReconnecting = this.#state === 'reconnecting';
    this.#state = 'closing';
    clearTimeout(this.#timer);
    if (wasReconnecting || !this.#link) {
      this.#finish(code, reason, true);
      return;
    }
    if (!this.#pumping) closeSocket(this.#link.ws, code, reason);
    // else #pump closes the socket once the queue is written.
  }

  #adopt(link: Link): void {
    this.#link = link;
    this.#state = 'open';
    link.attach({
      message: (data) => {
        if (this.#link === link) this.#emit(new SocketXMessageEvent(data));
      },
      error: (err) => {
        if (this.#link === link) this.#emit(new SocketXErrorEvent(err));
      },
      close: (code, reason, wasClean) => this.#linkClosed(link, code, reason, wasClean),
    });
  }

  #linkClosed(link: Link, code: number, reason: string, wasClean: boolean): void {
    if (this.#link !== link) return;
    this.#link = undefined;
    if (this.#state === 'closing' || this.#state === 'closed') {
      this.#finish(code, reason, wasClean);
      return;
    }
    const p = this.#policy;
    if (!p || link.failed || !p.shouldReconnect(code, reason)) {
      this.#state = 'closing';
      if (code === 1014) {
        this.#emit(new SocketXErrorEvent(new UpstreamError(`socketx: upstream failed: ${code} ${reason}`, { code, reason })));
      } else if (code === 1006) {
        this.#emit(new SocketXErrorEvent(new NetworkError('socketx: connection lost', { code, reason })));
      }
      this.#finish(code, reason, wasClean);
      return;
    }
    this.#state = 'reconnecting';
    this.#retry(1, code, reason, undefined);
  }

  #retry(attempt: number, code: number, reason: string, lastError: Error | undefined): void {
    const p = this.#policy!;
    if (attempt > p.maxAttempts) {
      this.#state = 'closing';
      this.#emit(new SocketXErrorEvent(new NetworkError(
        `socketx: gave up reconnecting after ${p.maxAttempts} attempts${lastError ? ': ' + lastError.message : ''}`,
        { code, reason, cause: lastError })));
      this.#finish(code, reason, false);
      return;
    }
    const delay = backoffDelay(p, attempt);
    this.#emit(new SocketXReconnectingEvent(attempt, delay, code, reason, lastError));
    this.#timer = setTimeout(() => {
      connectLink(this.#cfg).then(
        (link) => {
          if (this.#state !== 'reconnecting') {
            closeSocket(link.ws, this.#userClose?.code ?? 1000, this.#userClose?.reason ?? '');
            return;
          }
          this.#adopt(link);
          this.#emit(new SocketXReconnectedEvent(attempt, link.eeid));
          void this.#pump();
        },
        (err: SocketXError) => {
          if (this.#state !== 'reconnecting') return;
          if (err instanceof ServerAuthError || isUnknownServerKey(err)) {
            // The server is not the pinned one (or holds none of the pins): never retried.
            this.#state = 'closing';
            this.#emit(new SocketXErrorEvent(err));
            this.#finish(err.code!, err.reason!, false);
            return;
          }
          this.#retry(attempt + 1, err.code ?? code, err.reason ?? reason, err);
        });
    }, delay);
  }

  /**
   * Writes queued messages in order. Seals are started for up to 64 queued
   * messages at once (they complete in order on the encoder's chain) and
   * written in order; a message leaves the queue only once written to an
   * open socket, so a drop mid-way keeps the rest for the next socket.
   */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0) {
        const link = this.#link;
        if (!link || !link.open) break;
        const batch = this.#queue.slice(0, 64);
        const sealed = batch.map((m) => link.seal(m.type, m.data));
        for (const p of sealed) p.catch(() => {});
        for (let i = 0; i < batch.length; i++) {
          let msg: Bytes;
          try {
            msg = await sealed[i]!;
          } catch (e) {
            // Only exhaustion of 2^64 sequence numbers can get here.
            this.#emit(new SocketXErrorEvent(e as SocketXError));
            closeSocket(link.ws, 1011, 'socketx: encode failed');
            return;
          }
          if (this.#link !== link || !link.open) break;
          link.ws.send(msg);
          this.#queue.shift();
          this.#queuedBytes -= batch[i]!.data.length;
        }
      }
    } finally {
      this.#pumping = false;
      if (this.#state === 'closing' && this.#link && this.#userClose) {
        closeSocket(this.#link.ws, this.#userClose.code, this.#userClose.reason);
      }
    }
  }

  #finish(code: number, reason: string, wasClean: boolean): void {
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    this.#state = 'closed';
    const unsent = this.#queue.length;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#emit(new SocketXCloseEvent(code, reason, wasClean, unsent));
  }

  #emit(ev: Event): void {
    const h = (this as unknown as Record<string, Handler<Event>>)['on' + ev.type];
    if (typeof h === 'function') {
      try {
        h.call(this, ev);
      } catch (e) {
        report(e);
      }
    }
    this.dispatchEvent(ev);
  }
}
