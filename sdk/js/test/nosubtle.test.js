// The SDK where WebCrypto has no `subtle` (React Native / Hermes, older
// WebViews, pages on plain http): globalThis.crypto is replaced by an object
// with getRandomValues only before the SDK is imported, so any use of
// crypto.subtle would throw. The SDK must pick the pure-JS provider
// (@noble/hashes, @noble/ciphers), reproduce the vectors of
// mte/testdata/vectors.json byte for byte, and pair and relay with a proxy
// that uses real WebCrypto (test/fakeproxy.js, given the subtle saved here).
// Without getRandomValues it must refuse with a TypeError that names the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

const realCrypto = globalThis.crypto;
const realSubtle = realCrypto.subtle;
function setCrypto(value) {
  Object.defineProperty(globalThis, 'crypto', { value, configurable: true, enumerable: true, writable: true });
}
setCrypto({ getRandomValues: (a) => realCrypto.getRandomValues(a) });

const { default: WebSocket } = await import('ws');
const { SocketX } = await import('../dist/lib/index.js');
const { defaultCrypto, webCrypto } = await import('../dist/lib/crypto.js');
const { fromHex, hex, utf8 } = await import('../dist/lib/bytes.js');
const { tenantSalt } = await import('../dist/lib/keys.js');
const { Initiator } = await import('../dist/lib/pairing.js');
const { parseServerKey } = await import('../dist/lib/serverkey.js');
const { startFakeProxy, serverKey } = await import('./fakeproxy.js');

const proxyCrypto = webCrypto(realSubtle);
const { vectors } = JSON.parse(readFileSync(new URL('../../../mte/testdata/vectors.json', import.meta.url), 'utf8'));

test('without crypto.subtle the default provider is the pure-JS one', () => {
  assert.equal(globalThis.crypto.subtle, undefined);
  assert.equal(defaultCrypto().name, 'noble');
});

// The client side of every vector with the default provider: the tenant
// salt, the pairRequest, the EEID and keys from the vector's pairResponse,
// every c2s message sealed and every s2c message (given encoded) opened.
for (const v of vectors) {
  test(`vector ${v.name} with the default provider`, async () => {
    const c = defaultCrypto();
    const st = v.keyExchange === 'xwing' ? 'xwing' : v.strength;
    const salt = await tenantSalt(c, v.company, v.license);
    assert.equal(hex(salt), v.salt);
    const sa = v.serverAuth;
    const pin = sa && {
      key: parseServerKey(sa.serverPublicKey),
      encapsSeed: fromHex(sa.encapsSeed),
    };
    const init = Initiator.fromMaterial(st, {
      encoderSeed: fromHex(v.client.encoderKeySeed),
      encoderPersonalization: v.client.encoderPersonalization,
      decoderSeed: fromHex(v.client.decoderKeySeed),
      decoderPersonalization: v.client.decoderPersonalization,
    }, pin);
    assert.equal(new TextDecoder().decode(init.request), v.pairRequest);
    const pairing = await init.finish(utf8(v.pairResponse), c, salt);
    assert.equal(pairing.eeidHex, v.eeid);
    let sealed = 0, opened = 0;
    for (const m of v.messages) {
      const seq = BigInt(m.seq);
      const pt = m.plaintextRule !== undefined
        ? Uint8Array.from({ length: Number(m.length) }, (_, i) => i % 251)
        : m.plaintext === undefined ? new Uint8Array(0) : fromHex(m.plaintext);
      if (m.direction === 'c2s') {
        if (pairing.encoder.seq !== seq) await pairing.encoder.skipTo(seq);
        const got = await pairing.encoder.seal(Number(m.action), Number(m.type), pt);
        if (m.encoded !== undefined) assert.equal(hex(got), m.encoded, m.name);
        else assert.equal(createHash('sha256').update(got).digest('hex'), m.encodedSha256, m.name);
        sealed++;
      } else if (m.encoded !== undefined) {
        await pairing.decoder.skipTo(seq);
        const d = await pairing.decoder.open(fromHex(m.encoded));
        assert.deepEqual([d.header.action, d.header.type, hex(d.plaintext)], [Number(m.action), Number(m.type), hex(pt)], m.name);
        opened++;
      }
    }
    assert.ok(sealed > 0 && opened > 0, `${v.name}: ${sealed} sealed, ${opened} opened`);
  });
}

test('pairs with a WebCrypto proxy and relays exact bytes (ML-KEM-512, X-Wing, pinned server key)', async (t) => {
  const key = serverKey();
  const proxy = await startFakeProxy({ crypto: proxyCrypto, auth: { serverKeys: [key] } });
  t.after(() => proxy.close());
  const cases = [
    { kyberStrength: 512 },
    { kyberStrength: 'xwing' },
    { kyberStrength: 512, serverKeys: [key.pin] },
  ];
  for (const [i, o] of cases.entries()) {
    const s = await SocketX.connect(`${proxy.url}/n${i}`, { WebSocket, binaryType: 'arraybuffer', ...o });
    assert.equal(s.serverKeyId, o.serverKeys ? key.keyId : undefined);
    const conn = await proxy.connection(i);
    const got = [];
    let wake;
    s.onmessage = (ev) => {
      got.push(ev.data);
      wake?.();
    };
    s.send('no subtle ✓');
    s.send(Uint8Array.from({ length: 256 }, (_, b) => b));
    while (got.length < 2) await new Promise((r) => (wake = r));
    assert.equal(got[0], 'no subtle ✓');
    assert.equal(hex(new Uint8Array(got[1])), hex(Uint8Array.from({ length: 256 }, (_, b) => b)));
    // What the proxy decrypted with WebCrypto: the same types and bytes.
    assert.deepEqual(conn.received.map((m) => [m.type, hex(m.data)]),
      [[0, hex(utf8('no subtle ✓'))], [1, hex(Uint8Array.from({ length: 256 }, (_, b) => b))]]);
    assert.equal(conn.path, `/n${i}`);
    s.close();
    await conn.closed;
  }
});

const NO_RANDOM = 'socketx: no crypto.getRandomValues in this runtime: the SDK needs a secure random source ' +
  '(React Native: import react-native-get-random-values first)';

test('without crypto.getRandomValues: a TypeError naming the fix, before any socket opens', async (t) => {
  const proxy = await startFakeProxy({ crypto: proxyCrypto });
  t.after(() => proxy.close());
  const saved = globalThis.crypto;
  t.after(() => setCrypto(saved));
  for (const value of [{}, undefined]) {
    setCrypto(value);
    assert.throws(() => new SocketX(proxy.url, { WebSocket }), (e) => e instanceof TypeError && e.message === NO_RANDOM);
    await assert.rejects(SocketX.connect(proxy.url, { WebSocket }), (e) => e instanceof TypeError && e.message === NO_RANDOM);
  }
  assert.equal(proxy.conns.length, 0);
});
