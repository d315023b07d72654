// Type-level tests of the public API, compiled by `npm test` (tsc -p
// test/tsconfig.json, no output) against the published declarations through
// the package's own "types" export. Each `@ts-expect-error` line is misuse
// the types must refuse: tsc fails if one compiles.
import {
  AbortError, SocketX, SocketXCloseEvent, type BinaryType, type MessageData, type SocketXEventMap, type SocketXState,
} from '@socketx/client';

declare const s: SocketX;

// addEventListener: the event type decides the listener's argument, as on a WebSocket.
s.addEventListener('open', (ev) => {
  const e: Event = ev;
  void e;
});
s.addEventListener('message', (ev) => {
  const d: string | ArrayBuffer | Blob = ev.data;
  if (typeof ev.data === 'string') ev.data.toUpperCase();
  else if (ev.data instanceof ArrayBuffer) void ev.data.byteLength;
  else void ev.data.size;
  void d;
});
s.addEventListener('close', (ev) => {
  const fields: [number, string, boolean, number] = [ev.code, ev.reason, ev.wasClean, ev.unsent];
  void fields;
});
s.addEventListener('error', (ev) => {
  const kind: string = (ev.error as AbortError).kind;
  const m: string = ev.message;
  void kind, m;
});
s.addEventListener('reconnecting', (ev) => {
  const fields: [number, number, number, string, Error | undefined] = [ev.attempt, ev.delay, ev.code, ev.reason, ev.lastError];
  void fields;
});
s.addEventListener('reconnected', (ev) => {
  const fields: [number, string] = [ev.attempt, ev.eeid];
  void fields;
});
s.addEventListener('paired', (ev) => {
  const fields: [number, string, string, string | undefined] = [ev.attempt, ev.eeid, ev.keyExchange, ev.serverKeyId];
  void fields;
});
// `this` is the SocketX; objects with handleEvent and listener options work too.
s.addEventListener('message', function (ev) {
  const r: number = this.readyState;
  void r, ev;
}, { once: true });
s.addEventListener('close', { handleEvent: (ev: SocketXCloseEvent) => void ev.code });
const onMessage = (ev: SocketXEventMap['message']) => void ev.data;
s.addEventListener('message', onMessage);
s.removeEventListener('message', onMessage);

// on… properties carry the same types.
s.onopen = (ev) => void ev.type;
s.onmessage = (ev) => void (ev.data satisfies MessageData);
s.onclose = (ev) => void (ev.code + ev.reason.length);
s.onerror = (ev) => void ev.error.message;
s.onpaired = (ev) => void ev.eeid;
s.onreconnecting = (ev) => void ev.attempt;
s.onreconnected = (ev) => void ev.eeid;
s.onmessage = null;

// WebSocket's constants and attributes.
const states: [number, number, number, number] = [SocketX.CONNECTING, SocketX.OPEN, s.CLOSING, s.CLOSED];
const rs: number = s.readyState;
const rec: boolean = s.reconnecting;
const st: SocketXState = s.state;
const bt: BinaryType = s.binaryType;
s.binaryType = 'arraybuffer';
const ba: number = s.bufferedAmount;
void states, rs, rec, st, bt, ba;

// Construction: the constructor and connect() take the same options.
const ac = new AbortController();
const s2 = new SocketX('ws://127.0.0.1:8080/', { binaryType: 'blob', signal: ac.signal });
const p: Promise<SocketX> = SocketX.connect('ws://127.0.0.1:8080/', { signal: AbortSignal.timeout(1000) });
void s2, p;

// Misuse the types refuse.
// @ts-expect-error: no such event ('message' misspelt)
s.addEventListener('mesage', () => {});
// @ts-expect-error: a message event has no close code
s.addEventListener('message', (ev) => ev.code);
// @ts-expect-error: a close event has no data
s.addEventListener('close', (ev) => ev.data);
// @ts-expect-error: the listener of 'close' gets a close event, not a message event
s.addEventListener('close', onMessage);
// @ts-expect-error: 'error' events carry `error`, not `code`
s.onerror = (ev) => ev.code;
// @ts-expect-error: message data is not always a string
s.onmessage = (ev) => ev.data.toUpperCase();
// @ts-expect-error: 'nodebuffer' is not a binaryType
s.binaryType = 'nodebuffer';
// @ts-expect-error: readyState is read-only
s.readyState = 1;
// @ts-expect-error: reconnecting is read-only
s.reconnecting = false;
// @ts-expect-error: the signal option is an AbortSignal
void new SocketX('ws://127.0.0.1:8080/', { signal: ac });
// @ts-expect-error: send() takes no numbers
s.send(42);
// @ts-expect-error: removeEventListener is typed as addEventListener
s.removeEventListener('opne', () => {});
