// SocketX: the public client. It feels like the browser WebSocket it wraps:
// new SocketX(url) or await SocketX.connect(url), readyState, binaryType,
// send(), the typed events open / message / close / error (addEventListener
// or on… properties), close(code, reason); plus pairing details (eeid,
// strength), an AbortSignal for connecting, and an optional reconnect policy
// that re-pairs on every new socket and queues messages sent meanwhile.

import { backoffDelay, reconnectPolicy, type ReconnectOptions, type ReconnectPolicy } from './backoff.js';
import { copyBytes, utf8, type Bytes } from './bytes.js';
import { defaultCrypto, requireRandomSource, type CryptoProvider } from './crypto.js';
import {
  AbortError, InvalidStateError, NetworkError, QueueFullError, ServerAuthError, SocketXError, UpstreamError,
} from './errors.js';
import {
  SocketXCloseEvent, SocketXErrorEvent, SocketXMessageEvent, SocketXPairedEvent, SocketXReconnectedEvent,
  SocketXReconnectingEvent, type BinaryType, type MessageData, type SocketXEventMap,
} from './events.js';
import { MessageType } from './header.js';
import { strengthName, validStrength, type Strength } from './kex.js';
import { tenantSalt } from './keys.js';
import {
  Link, closeSocket, connectLink, isUnknownServerKey, type LinkConfig, type WebSocketConstructor,
} from './link.js';
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
  /** Initial binaryType: 'blob' (default, as WebSocket) or 'arraybuffer'. */
  binaryType?: BinaryType;
  /**
   * Cancels connecting: aborting it while readyState is CONNECTING closes the
   * socket being paired, connect() rejects with AbortError and 'error' then
   * 'close' (1006) follow; while reconnecting it ends the reconnect loop the
   * same way, and a drop after the abort is not retried. An open
   * connection is left open (close() it). For a connect timeout use
   * handshakeTimeout: AbortSignal.timeout() would also stop later reconnects.
   */
  signal?: AbortSignal;
}

/** Data accepted by send(). */
export type SendData = string | ArrayBuffer | ArrayBufferView;

/** Connection states; readyState is their WebSocket number ('reconnecting' is OPEN). */
export type SocketXState = 'connecting' | 'open' | 'reconnecting' | 'closing' | 'closed';

/** A listener for events of type E: a function or an object with handleEvent. */
export type SocketXListener<E extends Event> = ((this: SocketX, ev: E) => unknown) | { handleEvent(ev: E): unknown };

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

function validBinaryType(t: unknown): t is BinaryType {
  return t === 'blob' || t === 'arraybuffer';
}

function report(e: unknown): void {
  setTimeout(() => {
    throw e;
  }, 0);
}

const READY_STATE: Record<SocketXState, number> = { connecting: 0, open: 1, reconnecting: 1, closing: 2, closed: 3 };

/**
 * A SocketX connection. `new SocketX(url, options)` starts connecting at
 * once (readyState CONNECTING, through pairing and the upstream connect) and
 * fires 'open' when the proxy has connected the upstream, as a WebSocket
 * does; `await SocketX.connect(url, options)` resolves at that moment.
 */
export class SocketX extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;

  readonly url: string;
  readonly strength: Strength;
  onopen: Handler<Event> = null;
  onmessage: Handler<SocketXMessageEvent> = null;
  onclose: Handler<SocketXCloseEvent> = null;
  onerror: Handler<SocketXErrorEvent> = null;
  onpaired: Handler<SocketXPairedEvent> = null;
  onreconnecting: Handler<SocketXReconnectingEvent> = null;
  onreconnected: Handler<SocketXReconnectedEvent> = null;

  #cfg: LinkConfig | undefined;
  readonly #policy: ReconnectPolicy | undefined;
  readonly #queueLimit: number;
  readonly #signal: AbortSignal | undefined;
  // Aborts the connect attempt in flight (first connect or a reconnect).
  readonly #attempt = new AbortController();
  readonly #opened: Promise<SocketX>;
  #resolveOpen: (s: SocketX) => void = () => {};
  #rejectOpen: (e: unknown) => void = () => {};
  #binaryType: BinaryType;
  #link: Link | undefined;
  #state: SocketXState = 'connecting';
  #queue: Outgoing[] = [];
  #queuedBytes = 0;
  #discardedBytes = 0;
  #pumping = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #userClose: { code: number; reason: string } | undefined;
  #abortErr: SocketXError | undefined;
  #lastDrop = { code: 1006, reason: '' };
  #closeEmitted = false;
  readonly #onAbort = () => this.#abort(new AbortError('socketx: connect aborted', { cause: this.#signal!.reason }));

  /**
   * Starts connecting to the proxy at url (ws:// or wss://). Throws
   * RangeError / TypeError for invalid options, a runtime without WebSocket
   * (pass options.WebSocket) or without crypto.getRandomValues. Connecting
   * ends with 'paired' and 'open', or with 'error' (the typed error) and
   * 'close'; the first attempt is not retried.
   */
  constructor(url: string, options: ConnectOptions = {}) {
    super();
    const strength = options.kyberStrength ?? 512;
    if (!validStrength(strength)) throw new RangeError(`socketx: kyberStrength ${String(strength)} is not one of 0, 512, 768, 1024, 'xwing'`);
    const WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) throw new TypeError('socketx: no WebSocket in this runtime: pass options.WebSocket (e.g. the `ws` package)');
    const queueLimit = options.queueLimit ?? 1000;
    if (!(queueLimit >= 0)) throw new RangeError('socketx: queueLimit must be ≥ 0');
    const binaryType = options.binaryType ?? 'blob';
    if (!validBinaryType(binaryType)) throw new RangeError(`socketx: binaryType ${String(binaryType)} is not 'blob' or 'arraybuffer'`);
    requireRandomSource();
    const serverKeys = (options.serverKeys ?? []).map(parseServerKey);
    const pathname = options.pathname ?? defaultPathname(url);
    const policy = reconnectPolicy(options.reconnect);
    this.url = url;
    this.strength = strength;
    this.#policy = policy;
    this.#queueLimit = queueLimit;
    this.#binaryType = binaryType;
    this.#signal = options.signal;
    this.#opened = new Promise<SocketX>((resolve, reject) => {
      this.#resolveOpen = resolve;
      this.#rejectOpen = reject;
    });
    this.#opened.catch(() => {}); // reported through 'error' when nobody awaits connect()
    this.#signal?.addEventListener('abort', this.#onAbort);
    if (this.#signal?.aborted) this.#onAbort();
    void this.#start(options, WS, strength, serverKeys, pathname);
  }

  /**
   * Opens a SocketX and waits until the proxy has paired and connected the
   * upstream (the 'open' event). Rejects with NetworkError (socket could not
   * open, e.g. the proxy refused the Origin with 403), HandshakeError
   * (pairing failed or timed out), UpstreamError (the proxy could not reach
   * the upstream), AbortError (options.signal aborted); with serverKeys,
   * ServerAuthError (the server did not prove a pinned key; nothing was sent
   * to it after the pairRequest) or HandshakeError 1008 "mte: unknown server
   * key" (it holds none of them). The first attempt is not retried. Messages
   * that arrive right after pairing are delivered from a later task, so
   * handlers set after the await miss none.
   */
  static async connect(url: string, options: ConnectOptions = {}): Promise<SocketX> {
    return new SocketX(url, options).#opened;
  }

  async #start(options: ConnectOptions, WS: WebSocketConstructor, strength: Strength,
    serverKeys: LinkConfig['serverKeys'], pathname: string): Promise<void> {
    let link: Link;
    try {
      const crypto = options.crypto ?? defaultCrypto();
      this.#cfg = {
        url: this.url,
        protocols: options.protocols,
        strength,
        pathname,
        crypto,
        salt: await tenantSalt(crypto, options.company, options.license),
        WebSocket: WS,
        handshakeTimeout: options.handshakeTimeout ?? 15_000,
        serverKeys,
      };
      link = await connectLink(this.#cfg, this.#attempt.signal);
    } catch (e) {
      this.#connectFailed(e);
      return;
    }
    if (this.#state !== 'connecting') {
      closeSocket(link.ws, 1000, ''); // aborted as the attempt resolved
      this.#connectFailed(this.#abortErr);
      return;
    }
    this.#adopt(link, 0);
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

  /** 'connecting', 'open', 'reconnecting', 'closing' or 'closed'. */
  get state(): SocketXState {
    return this.#state;
  }

  /**
   * As WebSocket's: CONNECTING (0) until the first socket is paired and its
   * upstream connected, OPEN (1) — also while reconnecting (see
   * `reconnecting`), CLOSING (2), CLOSED (3).
   */
  get readyState(): number {
    return READY_STATE[this.#state];
  }

  /** Whether the socket dropped and the reconnect policy is opening a new one (readyState stays OPEN). */
  get reconnecting(): boolean {
    return this.#state === 'reconnecting';
  }

  /**
   * How binary messages are delivered: 'blob' (default, as WebSocket) or
   * 'arraybuffer'. Read when a message is dispatched; other values are
   * ignored, as WebSocket ignores them. Where the runtime has no Blob,
   * binary messages are ArrayBuffers whatever this says.
   */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  set binaryType(t: BinaryType) {
    if (validBinaryType(t)) this.#binaryType = t;
  }

  /**
   * Plaintext bytes queued and not yet handed to the socket, plus the
   * socket's own buffer, plus the bytes of every send() discarded after
   * close() (as a WebSocket counts them).
   */
  get bufferedAmount(): number {
    return this.#queuedBytes + (this.#link?.ws.bufferedAmount ?? 0) + this.#discardedBytes;
  }

  /**
   * Sends a text (string) or binary message. Messages go out in call order.
   * Throws InvalidStateError while CONNECTING, as WebSocket does. While
   * reconnecting they are queued (at most queueLimit, then QueueFullError).
   * While CLOSING or CLOSED the data is discarded without an error and
   * bufferedAmount grows by its size, as WebSocket does.
   */
  send(data: SendData): void {
    if (this.#state === 'connecting') {
      throw new InvalidStateError('socketx: send() while connecting: wait for the open event (or await SocketX.connect)');
    }
    const out = toOutgoing(data);
    if (this.#state === 'closing' || this.#state === 'closed') {
      this.#discardedBytes += out.data.length;
      return;
    }
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
   * passed to send() are written first. onclose follows. While CONNECTING
   * it abandons the connect as WebSocket does: 'error' (AbortError), then
   * 'close' with 1006.
   */
  close(code = 1000, reason = ''): void {
    if (code !== 1000 && (code < 3000 || code > 4999)) {
      throw new RangeError(`socketx: close code ${code} is not 1000 or 3000-4999`);
    }
    if (utf8(reason).length > 123) throw new RangeError('socketx: close reason is longer than 123 bytes');
    if (this.#state === 'closing' || this.#state === 'closed') return;
    if (this.#state === 'connecting') {
      this.#abort(new AbortError('socketx: close() before the connection was open'));
      return;
    }
    this.#userClose = { code, reason };
    const wasReconnecting = this.#state === 'reconnecting';
    this.#state = 'closing';
    clearTimeout(this.#timer);
    if (wasReconnecting || !this.#link) {
      this.#attempt.abort();
      this.#finish(code, reason, true);
      return;
    }
    if (!this.#pumping) closeSocket(this.#link.ws, code, reason);
    // else #pump closes the socket once the queue is written.
  }

  /** addEventListener typed by SocketXEventMap, as WebSocket's by WebSocketEventMap. */
  override addEventListener<K extends keyof SocketXEventMap>(type: K, listener: SocketXListener<SocketXEventMap[K]> | null,
    options?: boolean | AddEventListenerOptions): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  override removeEventListener<K extends keyof SocketXEventMap>(type: K, listener: SocketXListener<SocketXEventMap[K]> | null,
    options?: boolean | EventListenerOptions): void {
    super.removeEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  /**
   * Abandons connecting or reconnecting with err (signal aborted, or close()
   * while connecting). An open connection is left alone.
   */
  #abort(err: SocketXError): void {
    if (this.#state === 'connecting') {
      // The attempt in flight rejects with err; #connectFailed reports it.
      this.#abortErr = err;
      this.#state = 'closing';
      this.#attempt.abort(err);
    } else if (this.#state === 'reconnecting') {
      this.#state = 'closing';
      clearTimeout(this.#timer);
      this.#attempt.abort(err);
      this.#emit(new SocketXErrorEvent(err));
      this.#finish(this.#lastDrop.code, this.#lastDrop.reason, false);
    }
  }

  #connectFailed(e: unknown): void {
    if (this.#closeEmitted) return;
    const err = this.#abortErr ?? (e instanceof SocketXError ? e : new NetworkError(`socketx: connect failed: ${(e as Error).message}`, { cause: e }));
    this.#state = 'closed'; // as a WebSocket that failed to connect, CLOSED before 'error'
    this.#rejectOpen(err);
    this.#emit(new SocketXErrorEvent(err));
    this.#finish(err.code ?? 1006, err.reason ?? '', false);
  }

  #adopt(link: Link, attempt: number): void {
    const first = this.#state === 'connecting';
    this.#link = link;
    this.#state = 'open';
    // Messages that arrived with the upstream response wait for a later task:
    // a caller of `await connect()` sets its handlers first.
    setTimeout(() => link.attach({
      message: (data) => {
        if (this.#link === link) this.#emit(new SocketXMessageEvent(this.#binary(data)));
      },
      error: (err) => {
        if (this.#link === link) this.#emit(new SocketXErrorEvent(err));
      },
      close: (code, reason, wasClean) => this.#linkClosed(link, code, reason, wasClean),
    }), 0);
    this.#emit(new SocketXPairedEvent(attempt, link.eeid, this.keyExchange, link.serverKeyId));
    if (first) {
      this.#resolveOpen(this);
      this.#emit(new Event('open'));
    } else {
      this.#emit(new SocketXReconnectedEvent(attempt, link.eeid));
    }
    void this.#pump();
  }

  #binary(data: string | ArrayBuffer): MessageData {
    if (typeof data === 'string' || this.#binaryType === 'arraybuffer' || typeof Blob !== 'function') return data;
    return new Blob([data]);
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
    if (this.#signal?.aborted) {
      // Aborted while open: the drop is not retried.
      this.#state = 'closing';
      this.#emit(new SocketXErrorEvent(new AbortError('socketx: not reconnecting: the signal was aborted', { cause: this.#signal.reason })));
      this.#finish(code, reason, wasClean);
      return;
    }
    this.#state = 'reconnecting';
    this.#retry(1, code, reason, undefined);
  }

  #retry(attempt: number, code: number, reason: string, lastError: Error | undefined): void {
    const p = this.#policy!;
    this.#lastDrop = { code, reason };
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
    if (this.#state !== 'reconnecting') return; // a handler closed it
    this.#timer = setTimeout(() => {
      connectLink(this.#cfg!, this.#attempt.signal).then(
        (link) => {
          if (this.#state !== 'reconnecting') {
            closeSocket(link.ws, this.#userClose?.code ?? 1000, this.#userClose?.reason ?? '');
            return;
          }
          this.#adopt(link, attempt);
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
    this.#signal?.removeEventListener('abort', this.#onAbort);
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
