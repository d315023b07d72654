// One WebSocket to the proxy: the SocketX handshake (actions 0 → 5,
// docs/PROTOCOL.md §Handshake) and then the relay of proxyData in both
// directions. SocketX (socket.ts) owns a Link per connection attempt and
// makes a new one on every reconnect, so every socket pairs afresh.

import { utf8, utf8Decode, type Bytes } from './bytes.js';
import type { Decoder, Encoder } from './codec.js';
import type { CryptoProvider } from './crypto.js';
import { randomBytes } from './crypto.js';
import {
  AbortError, CodecError, HandshakeError, NetworkError, SERVER_NOT_AUTHENTICATED, ServerAuthError, SocketXError, UNKNOWN_SERVER_KEY,
  UpstreamError, type HandshakeState,
} from './errors.js';
import { Action, MessageType, handshakeMessage, headerValid, parseHeader } from './header.js';
import type { Strength } from './kex.js';
import { Initiator } from './pairing.js';
import type { ServerPublicKey } from './serverkey.js';

/** The subset of the browser WebSocket the SDK uses (also met by the `ws` package). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly protocol: string;
  readonly bufferedAmount: number;
  send(data: ArrayBufferView | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string; wasClean: boolean }) => void) | null;
  onerror: ((ev: any) => void) | null;
}

/** A WebSocket constructor: globalThis.WebSocket or the `ws` package's. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

const OPEN = 1;

/** What a Link reports once connected. */
export interface LinkEvents {
  message(data: string | ArrayBuffer): void;
  error(err: SocketXError): void;
  /** The socket ended (after every earlier message was delivered). */
  close(code: number, reason: string, wasClean: boolean): void;
}

export interface LinkConfig {
  url: string;
  protocols: string | string[] | undefined;
  strength: Strength;
  pathname: string;
  crypto: CryptoProvider;
  salt: Bytes;
  WebSocket: WebSocketConstructor;
  handshakeTimeout: number;
  /** Pinned server keys (docs/PROTOCOL.md §6.1), tried in order; empty: unauthenticated. */
  serverKeys: readonly ServerPublicKey[];
}

/** The error of an aborted connect: the signal's reason when it is a SocketXError, else an AbortError caused by it. */
export function abortError(signal: AbortSignal): SocketXError {
  return signal.reason instanceof SocketXError ? signal.reason : new AbortError('socketx: connect aborted', { cause: signal.reason });
}

/** Whether err is the proxy's 1008 "mte: unknown server key" close during the handshake. */
export function isUnknownServerKey(err: unknown): boolean {
  return err instanceof SocketXError && err.code === 1008 && err.reason === UNKNOWN_SERVER_KEY;
}

/**
 * Link.connect with the pins of cfg.serverKeys: the first pin, and on a
 * 1008 "mte: unknown server key" close the next one on a new socket (as
 * the Go SDK's Dial); with none left, that close's error. Without pins, one
 * unauthenticated attempt. Aborting signal closes the socket being
 * connected and rejects with AbortError.
 */
export async function connectLink(cfg: LinkConfig, signal?: AbortSignal): Promise<Link> {
  if (cfg.serverKeys.length === 0) return Link.connect(cfg, undefined, signal);
  for (let i = 0; ; i++) {
    try {
      return await Link.connect(cfg, cfg.serverKeys[i], signal);
    } catch (e) {
      if (i + 1 < cfg.serverKeys.length && isUnknownServerKey(e)) continue; // the proxy does not hold this key
      throw e;
    }
  }
}

/**
 * Closes ws with an RFC 6455 code. Browsers only let pages send 1000 and
 * 3000–4999; where the runtime refuses code, 4000 + (code − 1000) is sent
 * instead (e.g. 4008 for 1008), with the same reason.
 */
export function closeSocket(ws: WebSocketLike, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    try {
      ws.close(code >= 1000 && code < 2000 ? 3000 + code : 1000, reason);
    } catch {
      ws.close();
    }
  }
}

function truncateReason(s: string): string {
  let r = s;
  while (utf8(r).length > 123) r = r.slice(0, -1);
  return r;
}

/** A paired WebSocket. */
export class Link {
  readonly ws: WebSocketLike;
  readonly eeid: string;
  /** The pinned key the server proved it holds, or undefined when unauthenticated. */
  readonly serverKeyId: string | undefined;
  readonly #encoder: Encoder;
  readonly #decoder: Decoder;
  #events: LinkEvents | undefined;
  #attached: () => void = () => {};
  // Deliveries wait for attach(): the caller's `await connect()` must be able
  // to set its handlers before the first message is dispatched.
  #recv: Promise<void> = new Promise((r) => (this.#attached = r));
  #failed = false;

  private constructor(ws: WebSocketLike, encoder: Encoder, decoder: Decoder, eeid: string, serverKeyId: string | undefined) {
    this.ws = ws;
    this.serverKeyId = serverKeyId;
    this.#encoder = encoder;
    this.#decoder = decoder;
    this.eeid = eeid;
  }

  /** Whether the socket is open and this side has not failed it. */
  get open(): boolean {
    return !this.#failed && this.ws.readyState === OPEN;
  }

  /**
   * Opens a socket and runs the handshake. Resolves once the proxy answered
   * action 5 (the upstream is connected). Messages that arrive after that
   * are held until attach() and then delivered in order. With pin, the
   * server must prove it holds the pinned key (docs/PROTOCOL.md §6.1):
   * otherwise it rejects with ServerAuthError after closing with 1008
   * "mte: server not authenticated", before sending action 4. Aborting
   * signal before it resolves closes the socket (1000) and rejects with
   * AbortError.
   */
  static connect(cfg: LinkConfig, pin?: ServerPublicKey, signal?: AbortSignal): Promise<Link> {
    return new Promise<Link>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError(signal));
        return;
      }
      let state: HandshakeState | 'connecting' = 'connecting';
      let link: Link | undefined;
      let settled = false;
      let connected = false; // action 5 arrived: later data belongs to the link
      let lastError = '';
      let chain: Promise<void> = Promise.resolve();
      let initiator: Initiator | undefined;
      let ws: WebSocketLike;
      try {
        ws = new cfg.WebSocket(cfg.url, cfg.protocols);
      } catch (e) {
        reject(new NetworkError(`socketx: cannot open ${cfg.url}: ${(e as Error).message}`, { cause: e }));
        return;
      }
      ws.binaryType = 'arraybuffer';

      const onAbort = () => fail(abortError(signal!), 1000, '');
      signal?.addEventListener('abort', onAbort);
      const settle = () => {
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const fail = (err: SocketXError, code: number, reason = truncateReason(err.message)) => {
        if (settled) return;
        settle();
        reject(err);
        closeSocket(ws, code, reason);
      };
      const timer = setTimeout(() => {
        if (state === 'connecting') {
          fail(new NetworkError(`socketx: timed out opening ${cfg.url}`), 1000);
        } else {
          fail(new HandshakeError(state, `socketx: handshake timed out in state ${state}`), 1000);
        }
      }, cfg.handshakeTimeout);

      const handle = async (data: unknown) => {
        if (settled) {
          if (connected) link!.#deliver(data);
          return;
        }
        const st = state as HandshakeState;
        if (typeof data === 'string') {
          fail(new HandshakeError(st, 'socketx: text message during the handshake', { cause: new CodecError('text', 'socketx: text message from the proxy') }), 1003);
          return;
        }
        const msg = new Uint8Array(data as ArrayBuffer);
        let h;
        try {
          h = parseHeader(msg);
        } catch (e) {
          fail(new HandshakeError(st, `socketx: bad handshake message: ${(e as Error).message}`, { cause: e }), 1002);
          return;
        }
        const want = st === 'sentHello' ? Action.Response : st === 'sentPairRequest' ? Action.PairResponse : Action.UpstreamResponse;
        if (h.header.action !== want) {
          fail(new HandshakeError(st, `socketx: unexpected handshake message: state=${st}, action=${h.header.action}`,
            { action: h.header.action }), 1002);
          return;
        }
        if (!headerValid(h.header)) {
          fail(new HandshakeError(st, 'socketx: invalid action/messageType combination',
            { action: h.header.action, cause: new CodecError('messageType', 'socketx: invalid action/messageType combination') }), 1002);
          return;
        }
        try {
          switch (want) {
            case Action.Response: {
              initiator = Initiator.generate(cfg.strength, randomBytes, pin);
              state = 'sentPairRequest';
              ws.send(handshakeMessage(Action.PairRequest, initiator.request));
              return;
            }
            case Action.PairResponse: {
              const p = await initiator!.finish(h.payload, cfg.crypto, cfg.salt);
              initiator = undefined;
              const body = utf8(JSON.stringify({ pathname: cfg.pathname }));
              const sealed = await p.encoder.seal(Action.UpstreamRequest, MessageType.Handshake, body);
              if (settled) return;
              link = new Link(ws, p.encoder, p.decoder, p.eeidHex, pin?.keyId);
              state = 'sentUpstreamRequest';
              ws.send(sealed);
              return;
            }
            default:
              settle();
              connected = true;
              resolve(link!);
          }
        } catch (e) {
          if (e instanceof ServerAuthError) {
            // Refuse before action 4: neither the pathname nor data reaches this server.
            fail(e, 1008, SERVER_NOT_AUTHENTICATED);
            return;
          }
          const code = e instanceof CodecError ? e.closeCode : 1011;
          fail(new HandshakeError(st, `socketx: pairing failed: ${(e as Error).message}`, { cause: e }), code);
        }
      };

      ws.onopen = () => {
        state = 'sentHello';
        ws.send(handshakeMessage(Action.Request));
      };
      ws.onmessage = (ev) => {
        const data = ev.data;
        chain = chain.then(() => handle(data));
      };
      ws.onerror = (ev) => {
        lastError = ev?.message ?? ev?.error?.message ?? '';
      };
      ws.onclose = (ev) => {
        const code = ev.code, reason = ev.reason, clean = ev.wasClean;
        chain = chain.then(() => {
          if (settled) {
            if (connected) link!.#closed(code, reason, clean);
            return;
          }
          settle();
          const st = state;
          if (st === 'connecting') {
            reject(new NetworkError(`socketx: WebSocket to ${cfg.url} failed${lastError ? ': ' + lastError : ''} (code ${code})`, { code, reason }));
          } else if (code === 1014 || (code === 1011 && st === 'sentUpstreamRequest')) {
            reject(new UpstreamError(`socketx: proxy could not connect the upstream: ${code} ${reason}`, { code, reason }));
          } else if (code === 1006 || code === 1005) {
            reject(new NetworkError(`socketx: connection lost during the handshake (state ${st}, code ${code})`, { code, reason }));
          } else {
            reject(new HandshakeError(st, `socketx: proxy closed during the handshake (state ${st}): ${code}${reason ? ' ' + reason : ''}`, { code, reason }));
          }
        });
      };
    });
  }

  /** Starts delivering events (messages held since connect first). */
  attach(events: LinkEvents): void {
    this.#events = events;
    this.#attached();
  }

  /** Queues raw data arriving after pairing for in-order decoding. */
  #deliver(data: unknown): void {
    if (this.#failed) return;
    if (typeof data === 'string') {
      this.#fail(new CodecError('text', 'socketx: text message from the proxy'));
      return;
    }
    const msg = new Uint8Array(data as ArrayBuffer);
    let h;
    try {
      h = parseHeader(msg).header;
    } catch (e) {
      this.#fail(e as CodecError);
      return;
    }
    if (h.action !== Action.ProxyData) {
      this.#fail(new CodecError('messageType', `socketx: unexpected message after pairing: action=${h.action}`));
      return;
    }
    const decoded = this.#decoder.open(msg);
    decoded.catch(() => {}); // handled below; avoids an unhandled rejection once failed
    this.#recv = this.#recv.then(async () => {
      if (this.#failed) return;
      let out: string | ArrayBuffer;
      try {
        const d = await decoded;
        if (d.header.type === MessageType.Text) {
          try {
            out = utf8Decode(d.plaintext);
          } catch {
            throw new CodecError('text', 'socketx: text message is not valid UTF-8');
          }
        } else {
          out = d.plaintext.buffer;
        }
      } catch (e) {
        this.#fail(e as CodecError);
        return;
      }
      this.#events!.message(out);
    });
  }

  #closed(code: number, reason: string, wasClean: boolean): void {
    this.#recv = this.#recv.then(async () => {
      this.#events!.close(code, reason, wasClean);
    });
  }

  /** A local decoding failure: report it, close with its code. */
  #fail(err: SocketXError): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#recv = this.#recv.then(async () => {
      this.#events!.error(err);
    });
    const code = err instanceof CodecError ? err.closeCode : 1011;
    closeSocket(this.ws, code, truncateReason(err.message));
  }

  /** Whether this side failed the link (no reconnect then). */
  get failed(): boolean {
    return this.#failed;
  }

  /** Seals one proxyData message; seals complete in call order. */
  seal(type: number, data: Uint8Array): Promise<Bytes> {
    return this.#encoder.seal(Action.ProxyData, type, data);
  }
}
