// Event classes dispatched by SocketX. They are plain Event subclasses (not
// MessageEvent/CloseEvent, which Node 20 lacks as globals) with the same
// field names as the browser's, so handlers written for WebSocket work.

/** 'message': one decoded message from the upstream. */
export class SocketXMessageEvent extends Event {
  /** A string for a text message, an ArrayBuffer for a binary one. */
  readonly data: string | ArrayBuffer;
  constructor(data: string | ArrayBuffer) {
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

/** 'error': a typed SocketXError (see errors.ts); a 'close' event follows. */
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
