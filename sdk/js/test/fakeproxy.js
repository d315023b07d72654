// A SocketX proxy written with the SDK's own primitives (server role), for
// testing the client's state machine, errors and reconnects in Node. Each
// connection runs `script` hooks so tests can misbehave at chosen points.
import { once } from 'node:events';
import { WebSocketServer } from 'ws';
import { ml_kem512, ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js';
import { base64Decode, base64Encode, utf8, concat } from '../dist/lib/bytes.js';
import { webCrypto, randomBytes } from '../dist/lib/crypto.js';
import { Encoder, Decoder } from '../dist/lib/codec.js';
import { chainKey0, tenantSalt } from '../dist/lib/keys.js';
import { handshakeMessage, parseHeader } from '../dist/lib/header.js';
import { serverConfirmSteps, serverKeyId } from '../dist/lib/serverkey.js';

// WebCrypto, bound when this module loads (test/nosubtle.test.js removes
// crypto.subtle afterwards and passes hooks.crypto).
const defaultProxyCrypto = webCrypto();

/** A server key (docs/PROTOCOL.md §6.1) from a 64-byte seed, random by default. */
export function serverKey(seed = randomBytes(64)) {
  const { publicKey, secretKey } = ml_kem768.keygen(seed);
  return { publicKey, secretKey, keyId: serverKeyId(publicKey), pin: base64Encode(publicKey) };
}

/**
 * Builds the server side of pairing for a pairRequest payload: ML-KEM-512,
 * or X-Wing when the keys have X-Wing's 1216 bytes (the size tells them apart).
 * auth (optional): { serverKeys: [serverKey()], confirm(bytes) → bytes }:
 * a pinned pairRequest naming one of serverKeys is answered with
 * serverConfirm (passed through confirm, to tamper with it) and keys mixed
 * with ss_server, one naming none of them with { close: [1008, 'mte:
 * unknown server key'] }; without serverKeys the fields are ignored, as a
 * proxy without server keys does. c: the proxy's CryptoProvider.
 */
export async function respond(reqBytes, auth = {}, c = defaultProxyCrypto) {
  const req = JSON.parse(new TextDecoder().decode(reqBytes));
  const salt = await tenantSalt(c);
  const encNonce = 12345678901234567890n, decNonce = 42n;
  const decPub = base64Decode(req.decoderPublicKey), encPub = base64Decode(req.encoderPublicKey);
  const [kem, seed] = decPub.length === 1216 ? [ml_kem768_x25519, 64] : [ml_kem512, 32];
  const s2c = kem.encapsulate(decPub, randomBytes(seed));
  const c2s = kem.encapsulate(encPub, randomBytes(seed));
  let text = `{"encoderSecret":"${base64Encode(s2c.cipherText)}","encoderNonce":"${encNonce}",` +
    `"decoderSecret":"${base64Encode(c2s.cipherText)}","decoderNonce":"${decNonce}"`;
  let ssS2C = s2c.sharedSecret, ssC2S = c2s.sharedSecret;
  if (req.serverKeyId !== undefined && auth.serverKeys?.length) {
    const key = auth.serverKeys.find((k) => k.keyId === req.serverKeyId);
    if (!key) return { close: [1008, 'mte: unknown server key'] };
    const ssServer = ml_kem768.decapsulate(base64Decode(req.serverSecret), key.secretKey);
    const { confirm } = await serverConfirmSteps(c, salt, ssServer, c2s.sharedSecret, s2c.sharedSecret, reqBytes, {
      encoderSecret: s2c.cipherText, encoderNonce: encNonce, decoderSecret: c2s.cipherText, decoderNonce: decNonce,
    });
    text += `,"serverConfirm":"${base64Encode(auth.confirm ? auth.confirm(confirm) : confirm)}"`;
    ssS2C = concat(ssS2C, ssServer);
    ssC2S = concat(ssC2S, ssServer);
  }
  const payload = utf8(text + '}');
  const enc = await Encoder.create(c, await chainKey0(c, salt, ssS2C, 's2c', encNonce, req.decoderPersonalization));
  const dec = await Decoder.create(c, await chainKey0(c, salt, ssC2S, 'c2s', decNonce, req.encoderPersonalization));
  return { payload, enc, dec };
}

/**
 * Starts a fake proxy. hooks (all optional, per connection index):
 *   onHello(conn) → return false to skip the normal answer
 *   onPair(conn, req) → return false to skip the normal answer
 *   onData(conn, {type, data}) → default: echo
 *   auth: respond()'s auth argument (server keys, confirm tampering)
 *   crypto: the proxy's CryptoProvider (default WebCrypto)
 * conn: { ws, index, enc, dec, path, closed: Promise<{code, reason}>, send(type, bytes), sendRaw(bytes) }
 */
export async function startFakeProxy(hooks = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const conns = [];
  let notify = () => {};
  wss.on('connection', (ws) => {
    let closedResolve;
    const conn = {
      ws, index: conns.length, received: [],
      closed: new Promise((r) => (closedResolve = r)),
      sendRaw: (b) => ws.send(b),
      async send(type, bytes) {
        ws.send(await conn.enc.seal(6, type, bytes));
      },
    };
    conns.push(conn);
    notify();
    ws.on('close', (code, reason) => closedResolve({ code, reason: reason.toString() }));
    let chain = Promise.resolve();
    ws.on('message', (data) => {
      chain = chain.then(async () => {
        const msg = new Uint8Array(data);
        const { header, payload } = parseHeader(msg);
        switch (header.action) {
          case 0:
            if ((await hooks.onHello?.(conn)) !== false) ws.send(handshakeMessage(1));
            return;
          case 2: {
            if ((await hooks.onPair?.(conn, payload)) === false) return;
            conn.pairRequest = JSON.parse(new TextDecoder().decode(payload));
            const r = await respond(payload, hooks.auth, hooks.crypto);
            if (r.close) {
              ws.close(...r.close);
              return;
            }
            conn.enc = r.enc;
            conn.dec = r.dec;
            ws.send(handshakeMessage(3, r.payload));
            return;
          }
          case 4: {
            conn.sentUpstreamRequest = true;
            const d = await conn.dec.open(msg);
            conn.path = JSON.parse(new TextDecoder().decode(d.plaintext)).pathname;
            if ((await hooks.onUpstream?.(conn)) === false) return;
            ws.send(handshakeMessage(5));
            return;
          }
          case 6: {
            const d = await conn.dec.open(msg);
            const m = { type: d.header.type, data: d.plaintext };
            conn.received.push(m);
            if (hooks.onData) await hooks.onData(conn, m);
            else await conn.send(m.type, m.data);
          }
        }
      }).catch((e) => ws.close(1002, String(e.message).slice(0, 100)));
    });
  });
  return {
    url: `ws://127.0.0.1:${wss.address().port}`,
    conns,
    /** Resolves with connection n once it exists. */
    async connection(n) {
      while (!conns[n]) await new Promise((r) => (notify = r));
      return conns[n];
    },
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise((r) => wss.close(r));
    },
  };
}

export { concat };
