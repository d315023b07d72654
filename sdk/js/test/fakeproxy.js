// A SocketX proxy written with the SDK's own primitives (server role), for
// testing the client's state machine, errors and reconnects in Node. Each
// connection runs `script` hooks so tests can misbehave at chosen points.
import { once } from 'node:events';
import { WebSocketServer } from 'ws';
import { ml_kem512 } from '@noble/post-quantum/ml-kem.js';
import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js';
import { base64Decode, base64Encode, utf8, concat } from '../dist/lib/bytes.js';
import { webCrypto, randomBytes } from '../dist/lib/crypto.js';
import { Encoder, Decoder } from '../dist/lib/codec.js';
import { chainKey0, tenantSalt } from '../dist/lib/keys.js';
import { handshakeMessage, parseHeader } from '../dist/lib/header.js';

const c = webCrypto();

/**
 * Builds the server side of pairing for a pairRequest payload: ML-KEM-512,
 * or X-Wing when the keys have X-Wing's 1216 bytes (the size tells them apart).
 */
export async function respond(reqBytes) {
  const req = JSON.parse(new TextDecoder().decode(reqBytes));
  const salt = await tenantSalt(c);
  const encNonce = 12345678901234567890n, decNonce = 42n;
  const decPub = base64Decode(req.decoderPublicKey), encPub = base64Decode(req.encoderPublicKey);
  const [kem, seed] = decPub.length === 1216 ? [ml_kem768_x25519, 64] : [ml_kem512, 32];
  const s2c = kem.encapsulate(decPub, randomBytes(seed));
  const c2s = kem.encapsulate(encPub, randomBytes(seed));
  const payload = utf8(`{"encoderSecret":"${base64Encode(s2c.cipherText)}","encoderNonce":"${encNonce}",` +
    `"decoderSecret":"${base64Encode(c2s.cipherText)}","decoderNonce":"${decNonce}"}`);
  const enc = await Encoder.create(c, await chainKey0(c, salt, s2c.sharedSecret, 's2c', encNonce, req.decoderPersonalization));
  const dec = await Decoder.create(c, await chainKey0(c, salt, c2s.sharedSecret, 'c2s', decNonce, req.encoderPersonalization));
  return { payload, enc, dec };
}

/**
 * Starts a fake proxy. hooks (all optional, per connection index):
 *   onHello(conn) → return false to skip the normal answer
 *   onPair(conn, req) → return false to skip the normal answer
 *   onData(conn, {type, data}) → default: echo
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
            const r = await respond(payload);
            conn.enc = r.enc;
            conn.dec = r.dec;
            ws.send(handshakeMessage(3, r.payload));
            return;
          }
          case 4: {
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
