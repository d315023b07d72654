// Typed errors. Every error the SDK throws, rejects with or reports through
// onerror is a SocketXError whose `kind` says which class it is; callers
// branch on `kind` (or instanceof) and never on message text.

/** Category of a SocketXError. */
export type ErrorKind = 'network' | 'handshake' | 'codec' | 'upstream' | 'queue' | 'state' | 'abort' | 'server-not-authenticated';

/** Base class of every SocketX error. */
export class SocketXError extends Error {
  readonly kind: ErrorKind;
  /** WebSocket close code involved, when there is one (sent or received). */
  readonly code: number | undefined;
  /** WebSocket close reason involved, when there is one. */
  readonly reason: string | undefined;

  constructor(kind: ErrorKind, message: string, opts?: { code?: number; reason?: string; cause?: unknown }) {
    super(message, opts?.cause === undefined ? undefined : { cause: opts.cause });
    this.kind = kind;
    this.code = opts?.code;
    this.reason = opts?.reason;
  }

  // Names are set explicitly: minified bundles rename classes.
  override name = 'SocketXError';
}

/**
 * The WebSocket could not be opened or broke: DNS/TCP/TLS failures, an
 * upgrade the proxy refused (e.g. 403 for an Origin that DOMAIN_MAP does not
 * allow: browsers do not expose the HTTP status, so it appears as a failed
 * open with close code 1006), or a connection lost without a close frame.
 */
export class NetworkError extends SocketXError {
  constructor(message: string, opts?: { code?: number; reason?: string; cause?: unknown }) {
    super('network', message, opts);
    this.name = 'NetworkError';
  }
}

/** Handshake states, named as in the SocketX client SDKs. */
export type HandshakeState = 'open' | 'sentHello' | 'sentPairRequest' | 'sentUpstreamRequest';

/**
 * Pairing failed: the proxy closed the socket during actions 0–3 (e.g. 1002
 * for a key size that does not match MTE_KYBER_STRENGTH), sent a message out
 * of order, sent a pairResponse that does not verify, or the handshake timed
 * out.
 */
export class HandshakeError extends SocketXError {
  /** Handshake state when it failed. */
  readonly state: HandshakeState;
  /** Action of the unexpected message, when that was the failure. */
  readonly action: number | undefined;

  constructor(state: HandshakeState, message: string,
    opts?: { action?: number; code?: number; reason?: string; cause?: unknown }) {
    super('handshake', message, opts);
    this.name = 'HandshakeError';
    this.state = state;
    this.action = opts?.action;
  }
}

/** What went wrong in a CodecError. */
export type CodecDetail =
  | 'short' | 'magic' | 'version' | 'messageType' | 'notPaired' | 'auth' | 'replay' | 'outsideWindow'
  | 'pairResponse' | 'keySize' | 'seqExhausted' | 'text' | 'tooBig';

/**
 * A message could not be encoded or decoded: bad header, authentication
 * failure (tampering, wrong tenant license), replay or gap in the strict
 * sequence, a malformed pairResponse. `closeCode` is the WebSocket close
 * code the SDK sends for it, as the Go mte.CloseCode does.
 */
export class CodecError extends SocketXError {
  readonly detail: CodecDetail;

  constructor(detail: CodecDetail, message: string, opts?: { cause?: unknown }) {
    super('codec', message, opts);
    this.name = 'CodecError';
    this.detail = detail;
  }

  /** 1008 for authentication, replay and window failures; 1009 too big; 1003 text; else 1002. */
  get closeCode(): number {
    switch (this.detail) {
      case 'auth': case 'replay': case 'outsideWindow': return 1008;
      case 'tooBig': return 1009;
      case 'text': return 1003;
    }
    return 1002;
  }
}

/**
 * The proxy could not reach or keep the upstream: close 1014 (bad gateway,
 * e.g. "upstream connect timeout") at any time, or 1011 while the proxy was
 * connecting the upstream.
 */
export class UpstreamError extends SocketXError {
  constructor(message: string, opts: { code: number; reason: string }) {
    super('upstream', message, opts);
    this.name = 'UpstreamError';
  }
}

/** send() while disconnected with queueLimit messages already queued. */
export class QueueFullError extends SocketXError {
  constructor(limit: number) {
    super('queue', `socketx: send queue full (${limit} messages) while reconnecting`);
    this.name = 'QueueFullError';
  }
}

/** send() while readyState is CONNECTING (before 'open'), as the browser's WebSocket throws. */
export class InvalidStateError extends SocketXError {
  constructor(message: string) {
    super('state', message);
    this.name = 'InvalidStateError';
  }
}

/**
 * The connection was abandoned before it was open, or while reconnecting: the
 * ConnectOptions.signal was aborted (`cause` is the signal's reason), or
 * close() was called while connecting. Its name is 'AbortError', as the
 * DOMException fetch() rejects with.
 */
export class AbortError extends SocketXError {
  constructor(message: string, opts?: { cause?: unknown }) {
    super('abort', message, opts);
    this.name = 'AbortError';
  }
}

/** The close reason of a pinned client that refuses the server (docs/PROTOCOL.md §6.1). */
export const SERVER_NOT_AUTHENTICATED = 'mte: server not authenticated';
/** The proxy's close reason (1008) for a serverKeyId it does not hold. */
export const UNKNOWN_SERVER_KEY = 'mte: unknown server key';

/** Why a pinned client refused the server. */
export type ServerAuthDetail = 'unsupported' | 'mismatch';

/**
 * A client with ConnectOptions.serverKeys refused the server during pairing
 * (docs/PROTOCOL.md §6.1; the Go SDK's *client.ServerAuthError). The SDK
 * closed the WebSocket with 1008 "mte: server not authenticated" before
 * sending action 4, so neither the pathname nor any message left the
 * client. Never retried: a reconnecting SocketX stops with it.
 *
 * detail 'unsupported' (unsupported = true): the pairResponse has no
 * serverConfirm: the proxy has no server keys, is older, or something in
 * between stripped the field. 'mismatch': serverConfirm is present but
 * malformed or wrong: the server does not hold the pinned key (a wrong
 * server or a man in the middle).
 */
export class ServerAuthError extends SocketXError {
  readonly detail: ServerAuthDetail;
  /** The pinned key ID the client used (16 hex digits). */
  readonly keyId: string;

  constructor(detail: ServerAuthDetail, keyId: string) {
    super('server-not-authenticated', detail === 'unsupported'
      ? `socketx: server not authenticated: it does not support server authentication (pinned key ${keyId})`
      : `socketx: server not authenticated: wrong server, its confirmation does not verify for pinned key ${keyId}`,
    { code: 1008, reason: SERVER_NOT_AUTHENTICATED });
    this.name = 'ServerAuthError';
    this.detail = detail;
    this.keyId = keyId;
  }

  /** Whether the server does not support authentication (detail 'unsupported'). */
  get unsupported(): boolean {
    return this.detail === 'unsupported';
  }
}
