// SocketX against a fake proxy (test/fakeproxy.js): the handshake state
// machine and its typed errors, in-order delivery, codec failures, the
// reconnect policy with its queue, and the WebSocket-like surface
// (readyState, binaryType, send() per state, events, AbortSignal).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { AbortError, InvalidStateError, SocketX } from '../dist/lib/index.js';
import { handshakeMessage } from '../dist/lib/header.js';
import { startFakeProxy } from './fakeproxy.js';

const opts = (o = {}) => ({ WebSocket, handshakeTimeout: 5000, ...o });

/** Collects events of type from s; next() resolves with the next one. */
function events(s, type) {
  const got = [];
  let wake;
  s.addEventListener(type, (ev) => {
    got.push(ev);
    wake?.();
  });
  return {
    got,
    async next() {
      while (got.length === 0) await new Promise((r) => (wake = r));
      return got.shift();
    },
  };
}

test('pairs, sends the pathname, echoes text and binary in order', async (t) => {
  const proxy = await startFakeProxy();
  t.after(() => proxy.close());
  const s = await SocketX.connect(`${proxy.url}/chat?room=1`, opts({ binaryType: 'arraybuffer' }));
  assert.match(s.eeid, /^[0-9a-f]{16}$/);
  assert.equal(s.strength, 512);
  assert.equal(s.keyExchange, 'ML-KEM-512');
  assert.equal(s.state, 'open');
  assert.equal(s.readyState, 1);
  const conn = await proxy.connection(0);
  assert.equal(conn.path, '/chat?room=1');
  const msgs = events(s, 'message');
  const viaProperty = [];
  s.onmessage = (ev) => viaProperty.push(ev.data);
  const sent = ['a', new Uint8Array([1, 2]), 'é', new Uint16Array([0x0102]), new ArrayBuffer(3), ''];
  for (const m of sent) s.send(m);
  const got = [];
  for (let i = 0; i < sent.length; i++) got.push((await msgs.next()).data);
  assert.deepEqual(got.map((d) => (typeof d === 'string' ? d : [...new Uint8Array(d)])),
    ['a', [1, 2], 'é', [2, 1], [0, 0, 0], '']);
  assert.equal(viaProperty.length, sent.length);
  const closes = events(s, 'close');
  s.close(4000, 'bye');
  const ev = await closes.next();
  assert.deepEqual([ev.code, ev.reason, ev.wasClean, ev.unsent], [4000, 'bye', true, 0]);
  assert.deepEqual(await conn.closed, { code: 4000, reason: 'bye' });
  assert.throws(() => s.close(1002), RangeError);
});

test("kyberStrength 'xwing' pairs with X-Wing and echoes", async (t) => {
  const proxy = await startFakeProxy();
  t.after(() => proxy.close());
  const s = await SocketX.connect(`${proxy.url}/x`, opts({ kyberStrength: 'xwing' }));
  assert.equal(s.strength, 'xwing');
  assert.equal(s.keyExchange, 'X-Wing');
  const msgs = events(s, 'message');
  s.send('hybrid');
  assert.equal((await msgs.next()).data, 'hybrid');
  s.close(1000);
  await assert.rejects(SocketX.connect(proxy.url, opts({ kyberStrength: 'x-wing' })),
    (e) => e instanceof RangeError && e.message === "socketx: kyberStrength x-wing is not one of 0, 512, 768, 1024, 'xwing'");
});

test('messages the upstream sends right after pairing are not lost', async (t) => {
  const proxy = await startFakeProxy({
    async onUpstream(conn) {
      conn.ws.send(handshakeMessage(5));
      await conn.send(0, new TextEncoder().encode('welcome'));
      return false;
    },
  });
  t.after(() => proxy.close());
  const s = await SocketX.connect(proxy.url, opts());
  const first = await new Promise((r) => (s.onmessage = (ev) => r(ev.data)));
  assert.equal(first, 'welcome');
  s.close();
});

test('handshake errors are typed', async (t) => {
  const cases = [
    {
      name: 'out-of-order message',
      hooks: { onHello: (c) => (c.ws.send(handshakeMessage(3, new Uint8Array())), false) },
      check: (e) => e.kind === 'handshake' && e.name === 'HandshakeError' && e.state === 'sentHello' && e.action === 3 &&
        e.message === 'socketx: unexpected handshake message: state=sentHello, action=3',
      serverSees: 1002,
    },
    {
      name: 'proxy closes with 1002 (strength mismatch)',
      hooks: { onPair: (c) => (c.ws.close(1002, 'mte: encoderPublicKey is 800 bytes, want 1184 for ML-KEM-768'), false) },
      check: (e) => e.kind === 'handshake' && e.state === 'sentPairRequest' && e.code === 1002 &&
        e.reason === 'mte: encoderPublicKey is 800 bytes, want 1184 for ML-KEM-768',
    },
    {
      name: 'pairResponse with a wrong key size',
      hooks: { onPair: (c) => (c.ws.send(handshakeMessage(3, new TextEncoder().encode(
        '{"encoderSecret":"AAAA","encoderNonce":"1","decoderSecret":"AAAA","decoderNonce":"2"}'))), false) },
      check: (e) => e.kind === 'handshake' && e.state === 'sentPairRequest' && e.cause?.detail === 'keySize' &&
        e.message === 'socketx: pairing failed: socketx: encoderSecret is 3 bytes, want 768 for ML-KEM-512',
      serverSees: 1002,
    },
    {
      name: 'upstream unreachable (1014)',
      hooks: { onUpstream: (c) => (c.ws.close(1014, 'upstream connect timeout'), false) },
      check: (e) => e.kind === 'upstream' && e.name === 'UpstreamError' && e.code === 1014 && e.reason === 'upstream connect timeout',
    },
    {
      name: 'text frame during the handshake',
      hooks: { onHello: (c) => (c.ws.send('hi'), false) },
      check: (e) => e.kind === 'handshake' && e.cause?.detail === 'text',
      serverSees: 1003,
    },
    {
      name: 'bad magic',
      hooks: { onHello: (c) => (c.ws.send(new Uint8Array([0x4d, 0x54, 0x45, 0x03, 1, 1, 254])), false) },
      check: (e) => e.kind === 'handshake' && e.cause?.detail === 'magic',
      serverSees: 1002,
    },
    {
      name: 'handshake timeout',
      hooks: { onHello: () => false },
      opts: { handshakeTimeout: 200 },
      check: (e) => e.kind === 'handshake' && e.state === 'sentHello' && e.message === 'socketx: handshake timed out in state sentHello',
      serverSees: 1000,
    },
  ];
  for (const tc of cases) {
    await t.test(tc.name, async () => {
      const proxy = await startFakeProxy(tc.hooks);
      try {
        await assert.rejects(SocketX.connect(proxy.url, opts(tc.opts)), tc.check);
        if (tc.serverSees) assert.equal((await (await proxy.connection(0)).closed).code, tc.serverSees);
      } finally {
        await proxy.close();
      }
    });
  }
});

test('connection refused is a NetworkError', async () => {
  const proxy = await startFakeProxy();
  const url = proxy.url;
  await proxy.close();
  await assert.rejects(SocketX.connect(url, opts()), (e) => e.kind === 'network' && e.name === 'NetworkError' && e.code === 1006);
});

test('a tampered message is a CodecError; the SDK closes with 1008 and does not reconnect', async (t) => {
  const proxy = await startFakeProxy({
    async onData(conn, m) {
      const sealed = await conn.enc.seal(6, m.type, m.data);
      sealed[sealed.length - 1] ^= 0x80;
      conn.ws.send(sealed);
    },
  });
  t.after(() => proxy.close());
  const s = await SocketX.connect(proxy.url, opts({ reconnect: { baseDelay: 1, maxDelay: 2 } }));
  const errors = events(s, 'error');
  const closes = events(s, 'close');
  const reconnecting = events(s, 'reconnecting');
  s.send('x');
  const err = (await errors.next()).error;
  assert.equal(err.kind, 'codec');
  assert.equal(err.detail, 'auth');
  assert.equal(err.closeCode, 1008);
  const ev = await closes.next();
  assert.equal(ev.code, 1008);
  assert.equal(ev.reason, 'socketx: message authentication failed');
  assert.deepEqual(await (await proxy.connection(0)).closed, { code: 1008, reason: 'socketx: message authentication failed' });
  assert.equal(reconnecting.got.length, 0);
  assert.equal(s.state, 'closed');
});

test('reconnect: re-pairs, keeps order, queues while disconnected, then flushes', async (t) => {
  const proxy = await startFakeProxy();
  t.after(() => proxy.close());
  const s = await SocketX.connect(proxy.url, opts({ reconnect: { baseDelay: 5, maxDelay: 20, random: () => 0.5 }, queueLimit: 3 }));
  s.binaryType = 'arraybuffer';
  const eeid1 = s.eeid;
  const msgs = events(s, 'message');
  const reconnecting = events(s, 'reconnecting');
  const reconnected = events(s, 'reconnected');
  const paired = events(s, 'paired');
  const order = [];
  for (const type of ['paired', 'reconnected']) s.addEventListener(type, () => order.push(type));
  s.send('before');
  assert.equal((await msgs.next()).data, 'before');
  (await proxy.connection(0)).ws.terminate(); // the replica vanishes: 1006
  const r = await reconnecting.next();
  assert.deepEqual([r.attempt, r.delay, r.code], [1, 2, 1006]);
  assert.equal(s.state, 'reconnecting');
  assert.equal(s.readyState, SocketX.OPEN);
  assert.equal(s.reconnecting, true);
  s.send('q1');
  s.send(new Uint8Array([7]));
  s.send('q3');
  assert.throws(() => s.send('q4'), (e) => e.kind === 'queue' && e.name === 'QueueFullError' &&
    e.message === 'socketx: send queue full (3 messages) while reconnecting');
  assert.equal(s.bufferedAmount, 5);
  const rd = await reconnected.next();
  assert.equal(rd.attempt, 1);
  assert.notEqual(s.eeid, eeid1);
  assert.equal(rd.eeid, s.eeid);
  const pd = await paired.next();
  assert.deepEqual([pd.attempt, pd.eeid, pd.keyExchange, pd.serverKeyId], [1, s.eeid, 'ML-KEM-512', undefined]);
  assert.deepEqual(order, ['paired', 'reconnected']);
  assert.equal(s.reconnecting, false);
  assert.equal(s.readyState, SocketX.OPEN);
  const got = [];
  for (let i = 0; i < 3; i++) got.push((await msgs.next()).data);
  assert.deepEqual(got.map((d) => (typeof d === 'string' ? d : [...new Uint8Array(d)])), ['q1', [7], 'q3']);
  const conn2 = await proxy.connection(1);
  assert.deepEqual(conn2.received.map((m) => m.type), [0, 1, 0]); // seqs 0..2 on the new pairing
  s.close();
});

test('reconnect gives up after maxAttempts and reports unsent messages', async (t) => {
  let n = 0;
  const proxy = await startFakeProxy({
    onHello: (c) => (n++ > 0 ? (c.ws.close(1013, 'try again later'), false) : true),
  });
  t.after(() => proxy.close());
  const s = await SocketX.connect(proxy.url, opts({ reconnect: { baseDelay: 1, maxDelay: 4, maxAttempts: 3 } }));
  const reconnecting = events(s, 'reconnecting');
  const errors = events(s, 'error');
  const closes = events(s, 'close');
  (await proxy.connection(0)).ws.close(1012, 'service restart');
  s.send('kept');
  const ev = await closes.next();
  assert.deepEqual(reconnecting.got.map((r) => [r.attempt, r.code]), [[1, 1012], [2, 1013], [3, 1013]]);
  assert.equal(reconnecting.got[1].lastError.kind, 'handshake');
  const err = (await errors.next()).error;
  assert.equal(err.kind, 'network');
  assert.match(err.message, /^socketx: gave up reconnecting after 3 attempts: socketx: proxy closed during the handshake \(state sentHello\): 1013 try again later$/);
  assert.deepEqual([ev.code, ev.reason, ev.wasClean, ev.unsent], [1013, 'try again later', false, 1]);
});

test('no reconnect on a normal close; close() while reconnecting ends at once', async (t) => {
  const proxy = await startFakeProxy();
  t.after(() => proxy.close());
  const s = await SocketX.connect(proxy.url, opts({ reconnect: true }));
  const closes = events(s, 'close');
  (await proxy.connection(0)).ws.close(1000, 'upstream done');
  const ev = await closes.next();
  assert.deepEqual([ev.code, ev.reason], [1000, 'upstream done']);

  const s2 = await SocketX.connect(proxy.url, opts({ reconnect: { baseDelay: 60_000, maxDelay: 60_000, random: () => 0.99 } }));
  const rec = events(s2, 'reconnecting');
  const closes2 = events(s2, 'close');
  (await proxy.connection(1)).ws.terminate();
  await rec.next();
  s2.send('never sent');
  s2.close(4000, 'user gave up');
  const ev2 = await closes2.next();
  assert.deepEqual([ev2.code, ev2.reason, ev2.wasClean, ev2.unsent], [4000, 'user gave up', true, 1]);
  assert.equal(proxy.conns.length, 2);
});

test('new SocketX: CONNECTING (also while pairing), send() throws InvalidStateError, then paired and open', async (t) => {
  let s;
  const seen = {};
  const proxy = await startFakeProxy({
    onPair: () => {
      seen.whilePairing = [s.readyState, s.state, s.reconnecting];
      return true;
    },
  });
  t.after(() => proxy.close());
  s = new SocketX(`${proxy.url}/ctor`, opts());
  assert.deepEqual([s.readyState, s.state, s.reconnecting, s.eeid, s.binaryType], [0, 'connecting', false, '', 'blob']);
  assert.deepEqual([s.CONNECTING, s.OPEN, s.CLOSING, s.CLOSED], [0, 1, 2, 3]);
  assert.deepEqual([SocketX.CONNECTING, SocketX.OPEN, SocketX.CLOSING, SocketX.CLOSED], [0, 1, 2, 3]);
  assert.throws(() => s.send('early'), (e) => e instanceof InvalidStateError && e.kind === 'state' &&
    e.message === 'socketx: send() while connecting: wait for the open event (or await SocketX.connect)');
  const order = [];
  let pairedEv;
  s.onpaired = (ev) => {
    pairedEv = ev;
    order.push(`paired ${s.readyState}`);
  };
  const opened = new Promise((resolve) => {
    s.onopen = (ev) => {
      order.push(`open ${s.readyState} ${ev.type}`);
      resolve();
    };
  });
  await opened;
  assert.deepEqual(seen.whilePairing, [0, 'connecting', false]);
  assert.deepEqual(order, ['paired 1', 'open 1 open']);
  assert.deepEqual([pairedEv.attempt, pairedEv.eeid, pairedEv.keyExchange, pairedEv.serverKeyId], [0, s.eeid, 'ML-KEM-512', undefined]);
  assert.equal((await proxy.connection(0)).path, '/ctor');
  const msgs = events(s, 'message');
  s.send('now');
  assert.equal((await msgs.next()).data, 'now');
  s.close();
});

test('binaryType: Blob by default, ArrayBuffer when set or without Blob; invalid values are ignored (option: RangeError)', async (t) => {
  const proxy = await startFakeProxy();
  t.after(() => proxy.close());
  const s = await SocketX.connect(proxy.url, opts());
  assert.equal(s.binaryType, 'blob');
  const msgs = events(s, 'message');
  s.send(new Uint8Array([9, 8, 7]));
  const blob = (await msgs.next()).data;
  assert.ok(blob instanceof Blob);
  assert.equal(blob.size, 3);
  assert.deepEqual([...new Uint8Array(await blob.arrayBuffer())], [9, 8, 7]);
  s.send('text stays a string');
  assert.equal((await msgs.next()).data, 'text stays a string');
  s.binaryType = 'arraybuffer';
  s.binaryType = 'nodebuffer';
  assert.equal(s.binaryType, 'arraybuffer');
  s.send(new Uint8Array([1, 2]));
  const ab = (await msgs.next()).data;
  assert.ok(ab instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(ab)], [1, 2]);
  // A runtime without Blob delivers ArrayBuffers whatever binaryType says.
  s.binaryType = 'blob';
  const savedBlob = globalThis.Blob;
  delete globalThis.Blob;
  try {
    s.send(new Uint8Array([5]));
    const noBlob = (await msgs.next()).data;
    assert.ok(noBlob instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(noBlob)], [5]);
  } finally {
    globalThis.Blob = savedBlob;
  }
  assert.equal(s.binaryType, 'blob');
  s.close();
  assert.throws(() => new SocketX(proxy.url, opts({ binaryType: 'nodebuffer' })),
    (e) => e instanceof RangeError && e.message === "socketx: binaryType nodebuffer is not 'blob' or 'arraybuffer'");
});

test('send() while CLOSING and CLOSED discards the data without throwing; bufferedAmount grows by its size', async (t) => {
  const proxy = await startFakeProxy();
  t.after(() => proxy.close());
  const s = await SocketX.connect(proxy.url, opts());
  const conn = await proxy.connection(0);
  const msgs = events(s, 'message');
  s.send('kept');
  assert.equal((await msgs.next()).data, 'kept');
  const closes = events(s, 'close');
  s.close(4000, 'done');
  assert.deepEqual([s.readyState, s.state], [2, 'closing']);
  s.send('héllo'); // 6 bytes
  assert.equal(s.bufferedAmount, 6);
  const ev = await closes.next();
  assert.deepEqual([ev.code, ev.reason, ev.wasClean, ev.unsent], [4000, 'done', true, 0]);
  assert.deepEqual([s.readyState, s.state], [3, 'closed']);
  s.send(new Uint8Array(10));
  assert.equal(s.bufferedAmount, 16);
  assert.throws(() => s.send(42), TypeError);
  await conn.closed;
  assert.deepEqual(conn.received.map((m) => new TextDecoder().decode(m.data)), ['kept']);
});

test('signal aborted while pairing: connect() rejects with AbortError, the socket closes 1000, error then close 1006', async (t) => {
  const ac = new AbortController();
  const proxy = await startFakeProxy({ onPair: () => (ac.abort('user left'), false) });
  t.after(() => proxy.close());
  const s = new SocketX(proxy.url, opts({ signal: ac.signal }));
  const seen = [];
  s.onerror = (ev) => seen.push(['error', ev.error.name, ev.error.kind, ev.error.message, ev.error.cause, s.readyState]);
  const closed = new Promise((resolve) => (s.onclose = (ev) => {
    seen.push(['close', ev.code, ev.reason, ev.wasClean, ev.unsent, s.readyState]);
    resolve();
  }));
  await closed;
  assert.deepEqual(seen, [
    ['error', 'AbortError', 'abort', 'socketx: connect aborted', 'user left', 3],
    ['close', 1006, '', false, 0, 3],
  ]);
  assert.deepEqual(await (await proxy.connection(0)).closed, { code: 1000, reason: '' });

  const ac2 = new AbortController();
  const proxy2 = await startFakeProxy({ onPair: () => (ac2.abort(), false) });
  t.after(() => proxy2.close());
  await assert.rejects(SocketX.connect(proxy2.url, opts({ signal: ac2.signal })),
    (e) => e instanceof AbortError && e.name === 'AbortError' && e.message === 'socketx: connect aborted' &&
      e.cause instanceof DOMException && e.cause.name === 'AbortError');
});

test('an already aborted signal opens no socket', async (t) => {
  const proxy = await startFakeProxy();
  t.after(() => proxy.close());
  await assert.rejects(SocketX.connect(proxy.url, opts({ signal: AbortSignal.abort('never') })),
    (e) => e.kind === 'abort' && e.cause === 'never');
  assert.equal(proxy.conns.length, 0);
});

test('close() while connecting abandons the connect: error (AbortError), close 1006', async (t) => {
  let helloSeen;
  const hello = new Promise((r) => (helloSeen = r));
  const proxy = await startFakeProxy({ onHello: () => (helloSeen(), false) });
  t.after(() => proxy.close());
  const s = new SocketX(proxy.url, opts());
  let readyAtError;
  s.addEventListener('error', () => (readyAtError = s.readyState));
  const errors = events(s, 'error');
  const closes = events(s, 'close');
  await hello; // the socket is open, the SDK waits for the response
  s.close(4000, 'not now');
  assert.equal(s.readyState, 2);
  const err = (await errors.next()).error;
  assert.equal(readyAtError, 3);
  assert.deepEqual([err.name, err.message], ['AbortError', 'socketx: close() before the connection was open']);
  const ev = await closes.next();
  assert.deepEqual([ev.code, ev.reason, ev.wasClean], [1006, '', false]);
  assert.equal((await (await proxy.connection(0)).closed).code, 1000);
});

test('signal aborted while reconnecting ends the loop; aborted while open, the open socket stays and a drop is not retried', async (t) => {
  const proxy = await startFakeProxy();
  t.after(() => proxy.close());
  const ac = new AbortController();
  const s = await SocketX.connect(proxy.url, opts({ signal: ac.signal, reconnect: { baseDelay: 60_000, maxDelay: 60_000, random: () => 0.99 } }));
  const rec = events(s, 'reconnecting');
  const errors = events(s, 'error');
  const closes = events(s, 'close');
  (await proxy.connection(0)).ws.terminate();
  await rec.next();
  assert.equal(s.reconnecting, true);
  ac.abort('stop');
  const err = (await errors.next()).error;
  assert.deepEqual([err.name, err.message, err.cause], ['AbortError', 'socketx: connect aborted', 'stop']);
  const ev = await closes.next();
  assert.deepEqual([ev.code, ev.reason, ev.wasClean, s.readyState], [1006, '', false, 3]);
  assert.equal(proxy.conns.length, 1);

  const ac2 = new AbortController();
  const s2 = await SocketX.connect(proxy.url, opts({ signal: ac2.signal, reconnect: { baseDelay: 1, maxDelay: 1 } }));
  ac2.abort('unmounted');
  assert.equal(s2.readyState, 1);
  const msgs = events(s2, 'message');
  s2.send('still open');
  assert.equal((await msgs.next()).data, 'still open');
  const rec2 = events(s2, 'reconnecting');
  const errors2 = events(s2, 'error');
  const closes2 = events(s2, 'close');
  (await proxy.connection(1)).ws.close(1012, 'service restart');
  const err2 = (await errors2.next()).error;
  assert.deepEqual([err2.name, err2.message, err2.cause], ['AbortError', 'socketx: not reconnecting: the signal was aborted', 'unmounted']);
  const ev2 = await closes2.next();
  assert.deepEqual([ev2.code, ev2.reason], [1012, 'service restart']);
  assert.equal(rec2.got.length, 0);
  assert.equal(proxy.conns.length, 2);
});
