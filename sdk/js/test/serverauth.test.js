// Server authentication (docs/PROTOCOL.md §6.1): pins, the pinned
// Initiator's refusals (unsupported, mismatch, tampered or malformed
// confirmation, an unasked confirmation), and SocketX against a fake proxy
// with server keys: pairing with ss_server in the keys, trying the next pin
// after 1008 "mte: unknown server key", refusing before action 4, and a
// reconnecting socket that stops instead of looping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SocketX, ServerAuthError, parseServerKey } from '../dist/lib/index.js';
import { base64Decode, base64Encode, utf8 } from '../dist/lib/bytes.js';
import { webCrypto, randomBytes } from '../dist/lib/crypto.js';
import { tenantSalt } from '../dist/lib/keys.js';
import { Initiator } from '../dist/lib/pairing.js';
import { startFakeProxy, respond, serverKey } from './fakeproxy.js';

const opts = (o = {}) => ({ WebSocket, handshakeTimeout: 5000, ...o });
const c = webCrypto();

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

const isAuthError = (detail, keyId) => (e) => e instanceof ServerAuthError && e.kind === 'server-not-authenticated' &&
  e.name === 'ServerAuthError' && e.detail === detail && e.unsupported === (detail === 'unsupported') &&
  e.keyId === keyId && e.code === 1008 && e.reason === 'mte: server not authenticated';

test('parseServerKey: base64, keygen output, object; refuses bad sizes, bad modulus, wrong key id', () => {
  const k = serverKey();
  const a = parseServerKey(k.pin);
  assert.equal(a.keyId, k.keyId);
  assert.match(a.keyId, /^[0-9a-f]{16}$/);
  assert.deepEqual(a.publicKey, k.publicKey);
  assert.equal(parseServerKey(` ${k.pin}\n`).keyId, k.keyId);
  assert.equal(parseServerKey(`key id: ${k.keyId}\npublic key: ${k.pin}\n`).keyId, k.keyId);
  assert.equal(parseServerKey({ publicKey: k.pin, keyId: k.keyId }).keyId, k.keyId);
  assert.equal(parseServerKey({ publicKey: k.publicKey }).keyId, k.keyId);
  assert.throws(() => parseServerKey(`key id: 0000000000000000\npublic key: ${k.pin}`), /does not match its public key/);
  assert.throws(() => parseServerKey({ publicKey: k.pin, keyId: k.keyId.toUpperCase() }), RangeError);
  assert.throws(() => parseServerKey(k.pin.slice(4)), /base64 of 1184 bytes/);
  assert.throws(() => parseServerKey(base64Encode(new Uint8Array(1184).fill(0xff))), /modulus check/);
  assert.throws(() => parseServerKey(42), RangeError);
});

// A pinned initiator, and the fake proxy's answer to its pairRequest.
async function pinnedPairing(auth, key = serverKey()) {
  const salt = await tenantSalt(c);
  const init = Initiator.generate(512, randomBytes, parseServerKey(key.pin));
  const r = await respond(init.request, { serverKeys: [key], ...auth });
  return { init, r, salt, key };
}

test('Initiator: the pinned pairRequest and the random reads', () => {
  const k = serverKey();
  const reads = [];
  const rand = (n) => (reads.push(n), randomBytes(n));
  const init = Initiator.generate(512, rand, parseServerKey(k.pin));
  assert.deepEqual(reads.slice(-1), [32]); // m, after everything NewInitiator reads
  const text = new TextDecoder().decode(init.request);
  assert.match(text, new RegExp(`,"decoderPersonalization":"[A-Za-z0-9]{64}","serverKeyId":"${k.keyId}","serverSecret":"[A-Za-z0-9+/=]+"}$`));
  const req = JSON.parse(text);
  assert.equal(base64Decode(req.serverSecret).length, 1088);
  assert.equal(init.pinned, true);
  assert.equal(init.serverKeyId, k.keyId);
  const plain = Initiator.generate(512, randomBytes);
  assert.equal(plain.pinned, false);
  assert.doesNotMatch(new TextDecoder().decode(plain.request), /server/);
});

test('Initiator: a verifying serverConfirm pairs with keys mixed with ss_server', async () => {
  const { init, r, salt } = await pinnedPairing();
  const p = await init.finish(r.payload, c, salt);
  const sealed = await p.encoder.seal(6, 0, utf8('hi'));
  assert.equal(new TextDecoder().decode((await r.dec.open(sealed)).plaintext), 'hi');
  // Without ss_server the keys differ: a proxy that ignored it could not read.
  const plain = await respond(init.request); // no server keys: unauthenticated keys
  await assert.rejects(plain.dec.open(sealed), (e) => e.kind === 'codec' && e.detail === 'auth');
});

test('Initiator: no serverConfirm is "unsupported"', async () => {
  const k = serverKey();
  const salt = await tenantSalt(c);
  const init = Initiator.generate(512, randomBytes, parseServerKey(k.pin));
  const r = await respond(init.request); // a proxy without server keys ignores the fields
  assert.doesNotMatch(new TextDecoder().decode(r.payload), /serverConfirm/);
  await assert.rejects(init.finish(r.payload, c, salt), isAuthError('unsupported', k.keyId));
});

test('Initiator: a wrong, tampered or malformed serverConfirm is "mismatch"', async () => {
  // The proxy answers under the pinned key ID with another private key (an impostor).
  const k = serverKey(), other = serverKey();
  {
    const salt = await tenantSalt(c);
    const init = Initiator.generate(512, randomBytes, parseServerKey(k.pin));
    const r = await respond(init.request, { serverKeys: [{ ...other, keyId: k.keyId }] });
    await assert.rejects(init.finish(r.payload, c, salt), isAuthError('mismatch', k.keyId));
  }
  const tamper = [
    (b) => (b[0] ^= 1, b), // one bit
    (b) => (b[31] ^= 0x80, b),
    (b) => b.subarray(0, 31), // malformed: 31 bytes
    (b) => new Uint8Array([...b, 0]), // 33 bytes
  ];
  for (const f of tamper) {
    const { init, r, salt, key } = await pinnedPairing({ confirm: (b) => f(b.slice()) }, k);
    await assert.rejects(init.finish(r.payload, c, salt), isAuthError('mismatch', key.keyId));
  }
  // Not base64 at all.
  {
    const { init, r, salt } = await pinnedPairing({}, k);
    const bad = new TextDecoder().decode(r.payload).replace(/"serverConfirm":"[^"]*"/, '"serverConfirm":"*"');
    await assert.rejects(init.finish(utf8(bad), c, salt), isAuthError('mismatch', k.keyId));
  }
  // The confirmation binds the pairResponse: another nonce with the genuine confirmation.
  {
    const { init, r, salt } = await pinnedPairing({}, k);
    const bad = new TextDecoder().decode(r.payload).replace('"decoderNonce":"42"', '"decoderNonce":"43"');
    assert.notEqual(bad, new TextDecoder().decode(r.payload));
    await assert.rejects(init.finish(utf8(bad), c, salt), isAuthError('mismatch', k.keyId));
  }
});

test('Initiator: an unasked or duplicate serverConfirm is a malformed pairResponse', async () => {
  const salt = await tenantSalt(c);
  const { r } = await pinnedPairing();
  const unpinned = Initiator.generate(512, randomBytes);
  const text = new TextDecoder().decode((await respond(unpinned.request)).payload);
  const withConfirm = text.slice(0, -1) + `,"serverConfirm":"${base64Encode(new Uint8Array(32))}"}`;
  await assert.rejects(unpinned.finish(utf8(withConfirm), c, salt),
    (e) => e.kind === 'codec' && e.detail === 'pairResponse' && e.closeCode === 1002 && /named no server key/.test(e.message));
  const { init } = await pinnedPairing();
  const dup = new TextDecoder().decode(r.payload).slice(0, -1) + ',"serverConfirm":"x"}';
  await assert.rejects(init.finish(utf8(dup), c, salt),
    (e) => e.kind === 'codec' && e.message === 'socketx: pairResponse has duplicate field serverConfirm');
});

test('SocketX with serverKeys pairs with a proxy holding the key and relays', async (t) => {
  const k = serverKey();
  const proxy = await startFakeProxy({ auth: { serverKeys: [k] } });
  t.after(() => proxy.close());
  const s = await SocketX.connect(`${proxy.url}/p`, opts({ serverKeys: [k.pin] }));
  assert.equal(s.serverKeyId, k.keyId);
  const conn = await proxy.connection(0);
  assert.equal(conn.pairRequest.serverKeyId, k.keyId);
  assert.equal(conn.path, '/p');
  const msgs = events(s, 'message');
  s.send('hello');
  assert.equal((await msgs.next()).data, 'hello');
  s.close();
  await assert.rejects(SocketX.connect(proxy.url, opts({ serverKeys: ['nope'] })), RangeError);
  assert.equal(proxy.conns.length, 1); // a bad pin fails before any socket opens
});

test('SocketX tries the next pin after 1008 "mte: unknown server key"; with none left fails with it', async (t) => {
  const old = serverKey(), cur = serverKey(), gone = serverKey();
  const proxy = await startFakeProxy({ auth: { serverKeys: [old] } });
  t.after(() => proxy.close());
  const s = await SocketX.connect(proxy.url, opts({ serverKeys: [cur.pin, { publicKey: old.pin, keyId: old.keyId }] }));
  assert.equal(s.serverKeyId, old.keyId);
  assert.equal(proxy.conns.length, 2);
  assert.equal(proxy.conns[0].pairRequest.serverKeyId, cur.keyId);
  assert.deepEqual(await proxy.conns[0].closed, { code: 1008, reason: 'mte: unknown server key' });
  assert.equal(proxy.conns[1].pairRequest.serverKeyId, old.keyId);
  s.close();

  await assert.rejects(SocketX.connect(proxy.url, opts({ serverKeys: [cur.pin, gone.pin] })),
    (e) => e.kind === 'handshake' && e.code === 1008 && e.reason === 'mte: unknown server key');
  assert.equal(proxy.conns.length, 4);
});

for (const [name, auth, detail] of [
  ['a proxy without server keys: "unsupported"', {}, 'unsupported'],
  ['a tampered serverConfirm: "mismatch"', { confirm: (b) => (b[5] ^= 4, b) }, 'mismatch'],
]) {
  test(`SocketX refuses ${name}, closes 1008 before action 4`, async (t) => {
    const k = serverKey();
    const proxy = await startFakeProxy({ auth: { ...auth, serverKeys: auth.confirm ? [k] : [] } });
    t.after(() => proxy.close());
    await assert.rejects(SocketX.connect(`${proxy.url}/secret`, opts({ serverKeys: [k.pin], reconnect: true })),
      isAuthError(detail, k.keyId));
    const conn = await proxy.connection(0);
    assert.deepEqual(await conn.closed, { code: 1008, reason: 'mte: server not authenticated' });
    assert.equal(conn.sentUpstreamRequest, undefined); // no action 4: the pathname never left
    assert.equal(conn.path, undefined);
    assert.equal(proxy.conns.length, 1);
  });
}

test('a reconnecting SocketX stops on ServerAuthError instead of looping', async (t) => {
  const k = serverKey();
  const auth = { serverKeys: [k] };
  const proxy = await startFakeProxy({ auth });
  t.after(() => proxy.close());
  const s = await SocketX.connect(proxy.url, opts({ serverKeys: [k.pin], reconnect: { baseDelay: 1, maxDelay: 2, maxAttempts: 10 } }));
  const errors = events(s, 'error');
  const closes = events(s, 'close');
  const reconnecting = events(s, 'reconnecting');
  auth.confirm = (b) => (b[0] ^= 1, b); // from now on an impostor answers
  (await proxy.connection(0)).ws.terminate();
  s.send('kept');
  const ev = await closes.next();
  assert.deepEqual([ev.code, ev.reason, ev.unsent], [1008, 'mte: server not authenticated', 1]);
  assert.ok(isAuthError('mismatch', k.keyId)((await errors.next()).error));
  assert.equal(reconnecting.got.length, 1);
  assert.equal(proxy.conns.length, 2);
  assert.equal(proxy.conns[1].sentUpstreamRequest, undefined);
  assert.equal(s.state, 'closed');
});
