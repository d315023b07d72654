// End-to-end server authentication (docs/PROTOCOL.md §6.1): the SDK in Node
// (sdk/js/dist/lib) against a real `socketx serve` holding a key made by
// `socketx keygen`, pinned with the exact text keygen printed; the next pin
// after 1008 "mte: unknown server key"; and a proxy without keys refused
// before anything reaches the upstream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import NodeWebSocket from 'ws';
import { buildProxy, freePort, startProxy, startUpstream } from './harness.js';
import { SocketX, ServerAuthError } from '../sdk/js/dist/lib/index.js';

// The proxy checks the Origin against DOMAIN_MAP; ws sends none by default.
const ORIGIN = 'http://app.example';
class WebSocket extends NodeWebSocket {
  constructor(url, protocols) {
    super(url, protocols, { origin: ORIGIN });
  }
}

let upstream, build, pinned, plain, pin, otherPin, keyId;

async function keygen(file) {
  const { stdout } = await promisify(execFile)(build.bin, ['keygen', file]);
  return stdout;
}

before(async () => {
  let port, port2;
  [upstream, build, port, port2] = await Promise.all([startUpstream(), buildProxy(), freePort(), freePort()]);
  pin = await keygen(join(build.dir, 'server.key'));
  otherPin = await keygen(join(build.dir, 'other.key')); // a key the proxy does not hold
  keyId = /^key id: ([0-9a-f]{16})$/m.exec(pin)[1];
  const env = (p) => ({
    DOMAIN_MAP: JSON.stringify({ [`127.0.0.1:${p}`]: { upstream: upstream.url, allowedOrigins: [ORIGIN] } }),
    LISTEN_HOST: '127.0.0.1', LISTEN_PORT: String(p), ADMIN_LISTEN: 'off', DRAIN_TIMEOUT: '1s',
    MTE_KYBER_STRENGTH: '512', LOG_LEVEL: 'warn',
  });
  [pinned, plain] = await Promise.all([
    startProxy(build.bin, { ...env(port), MTE_SERVER_KEY_FILES: join(build.dir, 'server.key') }),
    startProxy(build.bin, env(port2)),
  ]);
});

after(async () => {
  await Promise.all([pinned?.stop(), plain?.stop(), upstream?.close()]);
});

test('a pinned Node client pairs with the real proxy and relays', async () => {
  const n = upstream.conns.length;
  const s = await SocketX.connect(`${pinned.url}/auth`, { WebSocket, serverKeys: [pin] });
  assert.equal(s.serverKeyId, keyId);
  const back = new Promise((r) => (s.onmessage = (ev) => r(ev.data)));
  s.send('authenticated');
  assert.equal(await back, 'authenticated');
  assert.equal(upstream.conns[n].path, '/auth');
  s.close();
});

test('the next pin after 1008 "mte: unknown server key"; none left fails with it', async () => {
  const s = await SocketX.connect(pinned.url, { WebSocket, serverKeys: [otherPin, pin] });
  assert.equal(s.serverKeyId, keyId);
  s.close();
  await assert.rejects(SocketX.connect(pinned.url, { WebSocket, serverKeys: [otherPin] }),
    (e) => e.kind === 'handshake' && e.code === 1008 && e.reason === 'mte: unknown server key');
});

test('a proxy without server keys is refused ("unsupported") before action 4', async () => {
  const n = upstream.conns.length;
  await assert.rejects(SocketX.connect(`${plain.url}/secret`, { WebSocket, serverKeys: [pin] }),
    (e) => e instanceof ServerAuthError && e.detail === 'unsupported' && e.keyId === keyId);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(upstream.conns.length, n); // the proxy never dialed the upstream
  // Unpinned, the same proxy pairs.
  const s = await SocketX.connect(plain.url, { WebSocket });
  assert.equal(s.serverKeyId, undefined);
  s.close();
});
