// Reproduces every vector of mte/testdata/vectors.json byte for byte: the
// pairRequest from the client seeds, the pairResponse from the server seeds
// (server role rebuilt here with the same libraries), the key schedule, the
// EEID and every encoded message in both directions, with both crypto
// providers (WebCrypto and the pure-JS fallback); for mlkem512-server-auth
// also the server key, serverKeyId/serverSecret, the serverConfirm steps
// and the keys mixed with ss_server (docs/PROTOCOL.md §6.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { ml_kem512, ml_kem768, ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { fromHex, hex, utf8, base64Decode, base64Encode, concat, u64le } from '../dist/lib/bytes.js';
import { webCrypto, nobleCrypto } from '../dist/lib/crypto.js';
import { tenantSalt, chainKey0, ratchet, computeEEID } from '../dist/lib/keys.js';
import { Encoder, Decoder } from '../dist/lib/codec.js';
import { Initiator } from '../dist/lib/pairing.js';
import { KexKey } from '../dist/lib/kex.js';
import { parseServerKey, serverConfirmSteps } from '../dist/lib/serverkey.js';

const file = new URL('../../../mte/testdata/vectors.json', import.meta.url);
const { vectors } = JSON.parse(readFileSync(file, 'utf8'));
const providers = [webCrypto(), nobleCrypto()];
const kems = { 512: ml_kem512, 768: ml_kem768, 1024: ml_kem1024, xwing: ml_kem768_x25519 };

test('vectors.json has the expected vectors', () => {
  assert.deepEqual(vectors.filter((v) => v.serverAuth).map((v) => v.name), ['mlkem512-server-auth']);
  assert.deepEqual(vectors.map((v) => v.name),
    ['x25519', 'mlkem512', 'mlkem768', 'mlkem1024', 'mlkem512-tenant', 'xwing', 'mlkem512-server-auth']);
  assert.deepEqual(vectors.map((v) => v.keyExchange),
    ['x25519', 'mlkem512', 'mlkem768', 'mlkem1024', 'mlkem512', 'xwing', 'mlkem512']);
  assert.equal(vectors.reduce((n, v) => n + v.messages.length, 0), 77);
});

// The SDK's Strength of a vector: its MTE_KYBER_STRENGTH, or 'xwing'.
function strengthOf(v) {
  return v.keyExchange === 'xwing' ? 'xwing' : v.strength;
}

// The official X-Wing vectors (draft-connolly-cfrg-xwing-kem-10 Appendix C,
// mte/testdata/xwing-draft10.txt): noble's ml_kem768_x25519 is X-Wing, and
// so is the SDK's KexKey built on it.
test('X-Wing draft vectors: noble ml_kem768_x25519 and KexKey', () => {
  const text = readFileSync(new URL('../../../mte/testdata/xwing-draft10.txt', import.meta.url), 'utf8');
  const cases = [];
  let cur = {};
  let field;
  for (const line of text.split('\n')) {
    if (line === '') {
      if (Object.keys(cur).length) cases.push(cur);
      cur = {};
    } else if (line.startsWith('  ')) {
      cur[field] += line.trim();
    } else {
      const [name, ...rest] = line.split(/ +/);
      field = name;
      cur[name] = rest.join('');
    }
  }
  assert.equal(cases.length, 3);
  for (const v of cases) {
    const { publicKey, secretKey } = ml_kem768_x25519.keygen(fromHex(v.seed));
    assert.equal(hex(publicKey), v.pk);
    assert.equal(hex(secretKey), v.sk);
    const { cipherText, sharedSecret } = ml_kem768_x25519.encapsulate(publicKey, fromHex(v.eseed));
    assert.equal(hex(cipherText), v.ct);
    assert.equal(hex(sharedSecret), v.ss);
    const k = KexKey.fromSeed('xwing', fromHex(v.seed));
    assert.equal(hex(k.publicKey), v.pk);
    assert.equal(hex(k.decapsulate(fromHex(v.ct))), v.ss);
  }
});

// Server role: encapsulate to a client public key with a 32-byte seed (64
// for X-Wing: eseed).
function encapsulate(strength, pub, seed) {
  if (strength === 0) {
    return { secret: x25519.getPublicKey(seed), shared: x25519.getSharedSecret(seed, pub) };
  }
  const { cipherText, sharedSecret } = kems[strength].encapsulate(pub, seed);
  return { secret: cipherText, shared: sharedSecret };
}

function largePlaintext(n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b;
}

function plaintextOf(m) {
  if (m.plaintextRule !== undefined) {
    assert.equal(m.plaintextRule, 'byte i = i mod 251');
    return largePlaintext(Number(m.length));
  }
  return m.plaintext === undefined ? new Uint8Array(0) : fromHex(m.plaintext);
}

function checkEncoded(m, got) {
  if (m.encoded !== undefined) {
    assert.equal(hex(got), m.encoded, `${m.direction} ${m.name}`);
  } else {
    assert.equal(createHash('sha256').update(got).digest('hex'), m.encodedSha256, `${m.direction} ${m.name} sha256`);
    assert.equal(hex(got.subarray(0, m.encodedPrefix.length / 2)), m.encodedPrefix);
  }
  assert.equal(got.length, 7 + 8 + Number(m.length) + 16);
}

for (const v of vectors) {
  for (const c of providers) {
    test(`${v.name} (${c.name})`, async (t) => {
      const st = strengthOf(v);
      const salt = await tenantSalt(c, v.company, v.license);
      assert.equal(hex(salt), v.salt);

      // pairRequest from the client seeds.
      const material = {
        encoderSeed: fromHex(v.client.encoderKeySeed),
        encoderPersonalization: v.client.encoderPersonalization,
        decoderSeed: fromHex(v.client.decoderKeySeed),
        decoderPersonalization: v.client.decoderPersonalization,
      };
      // Server authentication: the server key from its seed, the pin
      // parsed from its base64 public key, and ML-KEM-768.Encaps_internal
      // with encapsSeed (serverSecret, ss_server).
      const sa = v.serverAuth;
      let pin;
      if (sa) {
        const { publicKey } = ml_kem768.keygen(fromHex(sa.serverKeySeed));
        assert.equal(base64Encode(publicKey), sa.serverPublicKey);
        const key = parseServerKey(base64Encode(publicKey));
        assert.equal(key.keyId, sa.serverKeyId);
        pin = { key, encapsSeed: fromHex(sa.encapsSeed) };
        const { cipherText, sharedSecret } = ml_kem768.encapsulate(publicKey, fromHex(sa.encapsSeed));
        assert.equal(createHash('sha256').update(cipherText).digest('hex'), sa.serverSecretSha256);
        assert.equal(hex(sharedSecret), sa.sharedSecret);
        const req = JSON.parse(v.pairRequest);
        assert.equal(req.serverKeyId, sa.serverKeyId);
        assert.equal(req.serverSecret, base64Encode(cipherText));
      }
      const init = Initiator.fromMaterial(st, material, pin);
      assert.equal(new TextDecoder().decode(init.request), v.pairRequest);
      assert.equal(init.pinned, !!sa);
      assert.equal(init.serverKeyId, sa?.serverKeyId);

      // pairResponse from the server seeds (the server encoder encapsulates
      // to the client's decoder key, the server decoder to its encoder key).
      const req = JSON.parse(v.pairRequest);
      const s2c = encapsulate(st, base64Decode(req.decoderPublicKey), fromHex(v.server.encoderSeed));
      const c2s = encapsulate(st, base64Decode(req.encoderPublicKey), fromHex(v.server.decoderSeed));
      let resp = `{"encoderSecret":"${base64Encode(s2c.secret)}","encoderNonce":"${v.server.encoderNonce}",` +
        `"decoderSecret":"${base64Encode(c2s.secret)}","decoderNonce":"${v.server.decoderNonce}"`;
      assert.equal(hex(c2s.shared), v.c2s.sharedSecret);
      assert.equal(hex(s2c.shared), v.s2c.sharedSecret);
      if (sa) {
        const steps = await serverConfirmSteps(c, salt, fromHex(sa.sharedSecret), c2s.shared, s2c.shared, utf8(v.pairRequest), {
          encoderSecret: s2c.secret, encoderNonce: BigInt(v.server.encoderNonce),
          decoderSecret: c2s.secret, decoderNonce: BigInt(v.server.decoderNonce),
        });
        assert.equal(hex(steps.prk), sa.confirmPrk);
        assert.equal(hex(steps.key), sa.confirmKey);
        assert.equal(hex(steps.transcriptHash), sa.transcriptHash);
        assert.equal(hex(steps.confirm), sa.serverConfirm);
        resp += `,"serverConfirm":"${base64Encode(steps.confirm)}"`;
      }
      resp += '}';
      assert.equal(resp, v.pairResponse);

      // Client decapsulation recovers the same secrets.
      const encKey = KexKey.fromSeed(st, material.encoderSeed);
      const decKey = KexKey.fromSeed(st, material.decoderSeed);
      assert.equal(hex(encKey.decapsulate(c2s.secret)), v.c2s.sharedSecret);
      assert.equal(hex(decKey.decapsulate(s2c.secret)), v.s2c.sharedSecret);

      // EEID.
      assert.equal(hex(await computeEEID(c, utf8(v.pairResponse))), v.eeid);

      // Key schedule of each direction.
      const ck0s = {};
      for (const dir of ['c2s', 's2c']) {
        const d = v[dir];
        const nonce = BigInt(d.nonce);
        const info = concat(utf8(`socketx-mte-v1 ${dir}`), new Uint8Array([0]), u64le(nonce), utf8(d.personalization));
        assert.equal(hex(info), d.info, `${dir} info`);
        // IKM: the shared secret, or with server authentication ss_dir || ss_server.
        const ikm = sa ? concat(fromHex(d.sharedSecret), fromHex(sa.sharedSecret)) : fromHex(d.sharedSecret);
        if (sa) assert.equal(hex(ikm), d.ikm, `${dir} ikm`);
        else assert.equal(d.ikm, undefined);
        assert.equal(hex(await c.hmacSha256(salt, ikm)), d.prk, `${dir} prk`);
        const ck0 = await chainKey0(c, salt, ikm, dir, nonce, d.personalization);
        assert.equal(hex(ck0), d.ck0, `${dir} ck0`);
        const e0 = await ratchet(c, ck0);
        assert.equal(hex(e0.key), d.k0);
        assert.equal(hex(e0.iv), d.iv0);
        assert.equal(hex(e0.next), d.ck1);
        const e1 = await ratchet(c, e0.next);
        assert.equal(hex(e1.key), d.k1);
        assert.equal(hex(e1.iv), d.iv1);
        ck0s[dir] = ck0;
      }
      assert.equal(v.c2s.nonce, v.server.decoderNonce);
      assert.equal(v.s2c.nonce, v.server.encoderNonce);
      assert.equal(v.c2s.personalization, v.client.encoderPersonalization);
      assert.equal(v.s2c.personalization, v.client.decoderPersonalization);

      // The client's pairing yields the same EEID and encoder/decoder.
      const pairing = await init.finish(utf8(v.pairResponse), c, salt);
      assert.equal(pairing.eeidHex, v.eeid);

      await t.test('c2s messages: client encoder seals, a strict decoder opens', async () => {
        const dec = await Decoder.create(c, ck0s.c2s);
        for (const m of v.messages.filter((m) => m.direction === 'c2s')) {
          const seq = BigInt(m.seq);
          if (pairing.encoder.seq !== seq) {
            await pairing.encoder.skipTo(seq);
            await dec.skipTo(seq);
          }
          const pt = plaintextOf(m);
          const got = await pairing.encoder.seal(Number(m.action), Number(m.type), pt);
          checkEncoded(m, got);
          const opened = await dec.open(got);
          assert.deepEqual(opened.header, { action: Number(m.action), type: Number(m.type) });
          assert.equal(hex(opened.plaintext), hex(pt));
        }
      });

      await t.test('s2c messages: server encoder seals, the client decoder opens', async () => {
        const enc = await Encoder.create(c, ck0s.s2c);
        for (const m of v.messages.filter((m) => m.direction === 's2c')) {
          const seq = BigInt(m.seq);
          if (enc.seq !== seq) {
            await enc.skipTo(seq);
            await pairing.decoder.skipTo(seq);
          }
          const pt = plaintextOf(m);
          const got = await enc.seal(Number(m.action), Number(m.type), pt);
          checkEncoded(m, got);
          const opened = await pairing.decoder.open(m.encoded !== undefined ? fromHex(m.encoded) : got);
          assert.deepEqual(opened.header, { action: Number(m.action), type: Number(m.type) });
          assert.equal(hex(opened.plaintext), hex(pt));
        }
      });
    });
  }
}
