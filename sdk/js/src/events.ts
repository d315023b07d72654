// Event classes dispatched by SocketX and the event map that types
// addEventListener and the on… properties. They are plain Event subclasses
// (not MessageEvent/CloseEvent, which Node 20 lacks as globals) with the same
// field names as the browser's, so handlers written for WebSocket work.

/** Data of a 'message' event: a string for text, an ArrayBuffer or a Blob (per binaryType) for binary. */
export type MessageData = string | ArrayBuffer | Blob;

/** What SocketX delivers binary messages as (WebSocket's binaryType). */
export type BinaryType = 'blob' | 'arraybuffer';

/** 'message': one decoded message from the upstream. */
export class SocketXMessageEvent extends Event {
  /** A string for a text message; for a binary one a Blob or an ArrayBuffer, as binaryType says. */
  readonly data: MessageData;
  constructor(data: MessageData) {
    super('message');
    this.data = data;
  }
}

/** 'close': the connection ended for good (after any reconnect attempts). */
export class SocketXCloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  /** Messages passed to send() that were never written to a socket. */
  readonly unsent: number;
  constructor(code: number, reason: string, wasClean: boolean, unsent: number) {
    super('close');
    this.code = code;
    this.reason = reason;
    this.wasClean = wasClean;
    this.unsent = unsent;
  }
}

/** 'error': a typed SocketXError (see errors.ts); a 'close' event follows unless a reconnect does. */
export class SocketXErrorEvent extends Event {
  readonly error: Error;
  constructor(error: Error) {
    super('error');
    this.error = error;
  }
  get message(): string {
    return this.error.message;
  }
}

/** 'paired': a socket is paired and its upstream connected (before 'open' or 'reconnected'). */
export class SocketXPairedEvent extends Event {
  /** 0 for the first connection, else the reconnect attempt that succeeded. */
  readonly attempt: number;
  /** The pairing identifier of the new socket (16 hex digits). */
  readonly eeid: string;
  /** The key exchange, e.g. "ML-KEM-512". */
  readonly keyExchange: string;
  /** The pinned server key the server proved, or undefined without serverKeys. */
  readonly serverKeyId: string | undefined;
  constructor(attempt: number, eeid: string, keyExchange: string, serverKeyId: string | undefined) {
    super('paired');
    this.attempt = attempt;
    this.eeid = eeid;
    this.keyExchange = keyExchange;
    this.serverKeyId = serverKeyId;
  }
}

/** 'reconnecting': the socket dropped; attempt `attempt` starts after `delay` ms. */
export class SocketXReconnectingEvent extends Event {
  readonly attempt: number;
  readonly delay: number;
  /** Close code and reason of the socket that dropped (first attempt) or the failed attempt's error. */
  readonly code: number;
  readonly reason: string;
  readonly lastError: Error | undefined;
  constructor(attempt: number, delay: number, code: number, reason: string, lastError?: Error) {
    super('reconnecting');
    this.attempt = attempt;
    this.delay = delay;
    this.code = code;
    this.reason = reason;
    this.lastError = lastError;
  }
}

/** 'reconnected': a new socket is paired (new eeid) and queued messages flow again. */
export class SocketXReconnectedEvent extends Event {
  readonly attempt: number;
  readonly eeid: string;
  constructor(attempt: number, eeid: string) {
    super('reconnected');
    this.attempt = attempt;
    this.eeid = eeid;
  }
}

/** The events of a SocketX by type, as WebSocketEventMap is for a WebSocket. */
export interface SocketXEventMap {
  /** The first socket is paired and its upstream connected: readyState is OPEN. */
  open: Event;
  message: SocketXMessageEvent;
  close: SocketXCloseEvent;
  error: SocketXErrorEvent;
  paired: SocketXPairedEvent;
  reconnecting: SocketXReconnectingEvent;
  reconnected: SocketXReconnectedEvent;
}
