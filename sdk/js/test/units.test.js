// Header parsing, strict base64 and JSON, pairResponse checks, strict
// decoding errors and the backoff policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base64Decode, base64Encode, utf8, fromHex, hex } from '../dist/lib/bytes.js';
import { parseHeader, headerValid, handshakeMessage, actionName } from '../dist/lib/header.js';
import { parseFields } from '../dist/lib/json.js';
import { parsePairResponse, randomPersonalization, Initiator } from '../dist/lib/pairing.js';
import { Encoder, Decoder } from '../dist/lib/codec.js';
import { webCrypto } from '../dist/lib/crypto.js';
import { backoffDelay, reconnectPolicy, defaultShouldReconnect } from '../dist/lib/backoff.js';
import { CodecError } from '../dist/lib/errors.js';
import { defaultPathname } from '../dist/lib/socket.js';
import { KexKey, publicKeySize, secretSize, keySeedSize, strengthName, validStrength } from '../dist/lib/kex.js';
import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js';

const codecError = (detail, message) => (e) => {
  assert.ok(e instanceof CodecError, `want CodecError, got ${e}`);
  assert.equal(e.kind, 'codec');
  assert.equal(e.detail, detail);
  if (message) assert.equal(e.message, message);
  return true;
};

test('parseHeader', () => {
  const m = fromHex('4d54450201060061');
  const { header, payload } = parseHeader(m);
  assert.deepEqual(header, { action: 6, type: 0 });
  assert.equal(hex(payload), '61');
  assert.deepEqual(parseHeader(fromHex('4d5445020101fe')).header, { action: 1, type: 254 });
  assert.throws(() => parseHeader(fromHex('4d544502010600'.slice(0, 12))), codecError('short', 'socketx: message too short'));
  assert.throws(() => parseHeader(fromHex('4d54450301fe00')), codecError('magic', 'socketx: bad header magic'));
  assert.throws(() => parseHeader(fromHex('4d54450202fe00')), codecError('version', 'socketx: unsupported header version'));
  assert.equal(hex(handshakeMessage(0)), '4d5445020100fe');
  assert.equal(hex(handshakeMessage(2, utf8('{}'))), '4d5445020102fe7b7d');
  assert.equal(actionName(4), 'upstreamConnectionRequest');
  assert.equal(actionName(9), 'action(9)');
});

test('headerValid: every action/type combination', () => {
  for (let a = 0; a < 256; a++) {
    for (let t = 0; t < 256; t++) {
      const want = (a <= 5 && t === 254) || (a === 6 && (t === 0 || t === 1));
      assert.equal(headerValid({ action: a, type: t }), want, `action ${a} type ${t}`);
    }
  }
});

test('base64: canonical padded only, naive twin on every length', () => {
  for (let n = 0; n < 70; n++) {
    const b = new Uint8Array(n).map((_, i) => (i * 37 + n) & 0xff);
    const s = base64Encode(b);
    assert.equal(s, Buffer.from(b).toString('base64'));
    assert.deepEqual(base64Decode(s), b);
  }
  for (const bad of ['QQ', 'QQ=', 'QR==', 'QUI=x', 'Q===', '=QQQ', 'QU I', 'QUJD\n', 'QUJ-', 'QUJ_', 'QUJDé===']) {
    assert.equal(base64Decode(bad), undefined, bad);
  }
});

test('parseFields: exact names, duplicates, non-strings, nesting', () => {
  const names = ['a', 'b'];
  assert.deepEqual(parseFields('{"a":"1","x":{"a":"2","b":[1,{"b":3}]},"b":"2"}', 'p', names), ['1', '2']);
  assert.deepEqual(parseFields(' {"b":"\\"}","a":"\\u0041"} ', 'p', names), ['A', '"}']);
  assert.equal(parseFields('{"a":"1","a":"1","b":"2"}', 'p', names), 'p has duplicate field a');
  assert.equal(parseFields('{"a":"1"}', 'p', names), 'p lacks field b');
  assert.equal(parseFields('{"a":"1","B":"2"}', 'p', names), 'p lacks field b');
  assert.equal(parseFields('{"a":1,"b":"2"}', 'p', names), 'p field a is not a string');
  assert.equal(parseFields('["a"]', 'p', names), 'p is not a JSON object');
  assert.equal(parseFields('{"a":"1","b":"2"} x', 'p', names), 'p is not valid JSON');
});

const ct = base64Encode(new Uint8Array(768));
const goodResp = (o = {}) => utf8(JSON.stringify({ encoderSecret: ct, encoderNonce: '1', decoderSecret: ct, decoderNonce: '18446744073709551615', ...o }));

test('parsePairResponse errors', () => {
  const r = parsePairResponse(goodResp(), 512);
  assert.equal(r.encoderNonce, 1n);
  assert.equal(r.decoderNonce, 0xffffffffffffffffn);
  assert.throws(() => parsePairResponse(goodResp(), 768),
    codecError('keySize', 'socketx: encoderSecret is 768 bytes, want 1088 for ML-KEM-768'));
  assert.throws(() => parsePairResponse(goodResp({ decoderSecret: base64Encode(new Uint8Array(32)) }), 512),
    codecError('keySize', 'socketx: decoderSecret is 32 bytes, want 768 for ML-KEM-512'));
  assert.throws(() => parsePairResponse(goodResp({ encoderSecret: ct.slice(0, -1) }), 512),
    codecError('pairResponse', 'socketx: encoderSecret is not standard padded base64'));
  for (const n of ['', '-1', '18446744073709551616', '1.0', ' 1', '123456789012345678901']) {
    assert.throws(() => parsePairResponse(goodResp({ encoderNonce: n }), 512),
      codecError('pairResponse', 'socketx: encoderNonce is not a decimal uint64 string'));
  }
  assert.throws(() => parsePairResponse(utf8(`{"encoderSecret":"${ct}","encoderNonce":1,"decoderSecret":"${ct}","decoderNonce":"2"}`), 512),
    codecError('pairResponse', 'socketx: pairResponse field encoderNonce is not a string'));
  assert.throws(() => parsePairResponse(new Uint8Array(8193), 512),
    codecError('pairResponse', 'socketx: pairResponse is 8193 bytes, limit 8192'));
  assert.throws(() => parsePairResponse(utf8('nope'), 512), codecError('pairResponse', 'socketx: pairResponse is not valid JSON'));
});

test('X-Wing: sizes, names, secret size check, low-order ct_X refused', () => {
  assert.deepEqual([publicKeySize('xwing'), secretSize('xwing'), keySeedSize('xwing'), strengthName('xwing')], [1216, 1120, 32, 'X-Wing']);
  assert.ok(validStrength('xwing') && !validStrength('XWING') && !validStrength(25519));
  assert.throws(() => parsePairResponse(goodResp(), 'xwing'),
    codecError('keySize', 'socketx: encoderSecret is 768 bytes, want 1120 for X-Wing'));
  const k = KexKey.fromSeed('xwing', new Uint8Array(32).fill(7));
  const { cipherText } = ml_kem768_x25519.encapsulate(k.publicKey, new Uint8Array(64).fill(9));
  assert.equal(k.decapsulate(cipherText).length, 32);
  cipherText.fill(0, 1088); // ct_X = 0, a low-order point
  assert.equal(k.decapsulate(cipherText), undefined);
  assert.throws(() => KexKey.fromSeed('xwing', new Uint8Array(64)), RangeError);
});

test('Initiator: personalization sampling and checks', () => {
  let calls = [];
  let k = 0;
  const rand = (n) => {
    calls.push(n);
    return new Uint8Array(n).map(() => [0, 61, 62, 247, 248, 255][k++ % 6]);
  };
  const p = randomPersonalization(rand);
  assert.equal(p.length, 64);
  assert.equal(p.slice(0, 8), 'A9A9A9A9'); // 0→A, 61→9, 62→A, 247→9; 248 and 255 rejected
  assert.deepEqual(calls, [64, 20, 8, 2]); // 44, 12, 6 and 2 accepted
  assert.throws(() => Initiator.fromMaterial(512, {
    encoderSeed: new Uint8Array(64), encoderPersonalization: 'a\u0001',
    decoderSeed: new Uint8Array(64), decoderPersonalization: 'b',
  }), /encoderPersonalization has a non-printable-ASCII character at offset 1/);
  assert.throws(() => Initiator.fromMaterial(512, {
    encoderSeed: new Uint8Array(32), encoderPersonalization: 'a', decoderSeed: new Uint8Array(64), decoderPersonalization: 'b',
  }), /key seed is 32 bytes, want 64/);
});

test('strict decoder: replay, gap, tamper, wrong type; state unchanged on failure', async () => {
  const c = webCrypto();
  const ck = new Uint8Array(32).fill(7);
  const enc = await Encoder.create(c, ck.slice());
  const dec = await Decoder.create(c, ck.slice());
  const m0 = await enc.seal(6, 0, utf8('zero'));
  const m1 = await enc.seal(6, 1, utf8('one'));
  const m2 = await enc.seal(6, 0, utf8('two'));
  await assert.rejects(dec.open(m1), codecError('outsideWindow', 'socketx: sequence number outside window'));
  const bad = m0.slice();
  bad[bad.length - 1] ^= 1;
  await assert.rejects(dec.open(bad), codecError('auth', 'socketx: message authentication failed'));
  const wrongType = m0.slice();
  wrongType[6] = 1; // header is authenticated
  await assert.rejects(dec.open(wrongType), codecError('auth'));
  assert.equal(dec.next, 0n);
  assert.equal(new TextDecoder().decode((await dec.open(m0)).plaintext), 'zero');
  await assert.rejects(dec.open(m0), codecError('replay', 'socketx: replayed message'));
  assert.equal(new TextDecoder().decode((await dec.open(m1)).plaintext), 'one');
  await assert.rejects(dec.open(m2.slice(0, 30)), codecError('short'));
  const hs = m2.slice();
  hs[5] = 3;
  hs[6] = 254;
  await assert.rejects(dec.open(hs), codecError('messageType'));
  assert.equal(new TextDecoder().decode((await dec.open(m2)).plaintext), 'two');
  await assert.rejects(enc.seal(5, 254, utf8('x')), codecError('messageType'));
  await assert.rejects(enc.seal(6, 254, utf8('x')), codecError('messageType'));
});

test('decoder and encoder keep call order under concurrency', async () => {
  const c = webCrypto();
  const ck = new Uint8Array(32).fill(9);
  const enc = await Encoder.create(c, ck.slice());
  const dec = await Decoder.create(c, ck.slice());
  await enc.skipTo(65530n);
  await dec.skipTo(65530n);
  const sizes = [100000, 1, 50000, 0, 3, 70000, 2, 9, 10, 11, 12, 13];
  const sealed = await Promise.all(sizes.map((n) => enc.seal(6, 1, new Uint8Array(n).fill(n & 0xff))));
  const opened = await Promise.all(sealed.map((m) => dec.open(m)));
  assert.deepEqual(opened.map((o) => o.plaintext.length), sizes);
  assert.equal(dec.next, 65530n + BigInt(sizes.length));
});

test('backoff: full jitter within the exponential cap', () => {
  const p = reconnectPolicy({ baseDelay: 100, maxDelay: 1000, random: () => 0.999999 });
  assert.deepEqual([1, 2, 3, 4, 5, 6, 60].map((a) => backoffDelay(p, a)), [99, 199, 399, 799, 999, 999, 999]);
  assert.equal(backoffDelay({ ...p, random: () => 0 }, 7), 0);
  assert.equal(reconnectPolicy(undefined), undefined);
  assert.equal(reconnectPolicy(false), undefined);
  const d = reconnectPolicy(true);
  assert.deepEqual([d.baseDelay, d.maxDelay, d.maxAttempts], [500, 30000, 10]);
  assert.throws(() => reconnectPolicy({ baseDelay: 10, maxDelay: 5 }), RangeError);
  assert.deepEqual([1000, 1001, 1002, 1006, 1008, 1011, 1014, 4000].map(defaultShouldReconnect),
    [false, true, false, true, false, true, true, true]);
});

test('defaultPathname', () => {
  assert.equal(defaultPathname('ws://h:8080'), '/');
  assert.equal(defaultPathname('ws://h/chat?room=a%20b#frag'), '/chat?room=a%20b');
  assert.equal(defaultPathname('wss://h/a/b/'), '/a/b/');
});

test('attacker input only ever yields CodecError (mutated pairResponses and messages)', async () => {
  const base = goodResp();
  let seed = 1;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < 3000; i++) {
    const m = base.slice(0, Math.floor(rnd() * (base.length + 1)));
    for (let k = 0; k < 3; k++) if (m.length) m[Math.floor(rnd() * m.length)] = Math.floor(rnd() * 256);
    try {
      parsePairResponse(m, 512);
    } catch (e) {
      assert.ok(e instanceof CodecError, `input ${hex(m)}: ${e}`);
    }
  }
  const c = webCrypto();
  const dec = await Decoder.create(c, new Uint8Array(32));
  for (let i = 0; i < 500; i++) {
    const m = new Uint8Array(Math.floor(rnd() * 60)).map(() => Math.floor(rnd() * 256));
    if (m.length >= 4 && rnd() < 0.7) m.set([0x4d, 0x54, 0x45, 0x02, 1, 6, rnd() < 0.5 ? 0 : 1, 0, 0, 0, 0, 0, 0, 0, 0].slice(0, m.length));
    await assert.rejects(dec.open(m), (e) => e instanceof CodecError);
  }
});
