// A man in the middle (internal/mitm/cmd/mitm) between the SDK and a real
// `socketx serve` holding a key made by `socketx keygen`: the relay pairs
// with the client as the proxy and with the proxy as a client. Unpinned,
// the SDK in Node and in Chromium is fooled (the relay reads the pathname
// and the message); pinned with the text keygen printed, it refuses the
// relay with ServerAuthError before action 4, so the relay reads nothing
// and the upstream sees nothing. The same pinned page pairs with the real
// proxy directly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import NodeWebSocket from 'ws';
import { buildProxy, freePort, startPageServer, startProxy, startUpstream } from './harness.js';
import { buildMITM, startMITM } from './mitm.js';
import { SocketX, ServerAuthError } from '../sdk/js/dist/lib/index.js';

// The proxy checks the Origin against DOMAIN_MAP; ws sends none by default.
const ORIGIN = 'http://app.example';
class WebSocket extends NodeWebSocket {
  constructor(url, protocols) {
    super(url, protocols, { origin: ORIGIN });
  }
}

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

const PATH = '/private?account=7';
const SECRET = 'card 4111 1111 1111 1111';
// A browser page may send only 1000 and 3000-4999: the SDK sends 4008 there.
const REFUSED = { node: 'client closed 1008 mte: server not authenticated', browser: 'client closed 4008 mte: server not authenticated' };

let upstream, page, build, mitmBin, pin, keyId, context, userDataDir;
const proxies = {}; // by key exchange: the real proxy
const relays = {}; // by key exchange and mode: `${kex} ${mode}`

before(async () => {
  let ports;
  [upstream, page, build, ...ports] = await Promise.all([
    startUpstream(), startPageServer(), buildProxy(), freePort(), freePort(),
  ]);
  mitmBin = await buildMITM(build.dir);
  const keyFile = join(build.dir, 'server.key');
  ({ stdout: pin } = await promisify(execFile)(build.bin, ['keygen', keyFile]));
  keyId = /^key id: ([0-9a-f]{16})$/m.exec(pin)[1];
  await Promise.all(['mlkem512', 'xwing'].map(async (kex, i) => {
    proxies[kex] = await startProxy(build.bin, {
      DOMAIN_MAP: JSON.stringify({
        [`127.0.0.1:${ports[i]}`]: { upstream: upstream.url, allowedOrigins: [ORIGIN, page.origin] },
      }),
      LISTEN_HOST: '127.0.0.1', LISTEN_PORT: String(ports[i]), ADMIN_LISTEN: 'off', DRAIN_TIMEOUT: '1s',
      MTE_KEY_EXCHANGE: kex, MTE_SERVER_KEY_FILES: keyFile, LOG_LEVEL: 'warn',
    });
    for (const mode of ['strip', 'forge']) relays[`${kex} ${mode}`] = await startMITM(mitmBin, proxies[kex].url, { kex, mode });
  }));
  userDataDir = await mkdtemp(join(tmpdir(), 'socketx-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
});

after(async () => {
  await context?.close();
  await Promise.all(Object.values(relays).map((r) => r.stop()));
  await Promise.all(Object.values(proxies).map((p) => p.stop()));
  await Promise.all([upstream?.close(), page?.close()]);
  await Promise.all([userDataDir, build?.dir].filter(Boolean).map((d) => rm(d, { recursive: true, force: true })));
});

/** What a fooled client's relay records: the pathname and the message. */
function fooled(path, message) {
  return [{ kind: 'pair', data: '' }, { kind: 'pathname', data: path }, { kind: 'text', data: message },
    { kind: 'end', data: 'client closed 1000' }];
}

/** What a relay records of a pinned client: the key it named, and its refusal. */
function refused(runtime) {
  return [{ kind: 'pair', data: keyId }, { kind: 'end', data: REFUSED[runtime] }];
}

for (const kex of ['mlkem512', 'xwing']) {
  test(`Node, ${kex}: an unpinned client is fooled by the man in the middle`, async () => {
    const relay = relays[`${kex} strip`];
    const n = upstream.conns.length;
    const s = await SocketX.connect(relay.url + PATH, { WebSocket, kyberStrength: kex === 'xwing' ? 'xwing' : 512 });
    const back = new Promise((r) => (s.onmessage = (ev) => r(ev.data)));
    s.send(SECRET);
    assert.equal(await back, SECRET);
    s.close();
    const saw = await relay.nextConn();
    assert.deepEqual(saw, fooled(PATH, SECRET));
    console.log(`${kex}: the unpinned Node client is fooled; the relay read ${JSON.stringify(saw.slice(1, 3).map((r) => r.data))}`);
    assert.equal(upstream.conns.length, n + 1);
    assert.equal(upstream.conns[n].path, PATH);
    assert.deepEqual(upstream.conns[n].messages, [{ isBinary: false, size: SECRET.length }]);
  });

  test(`Node, ${kex}: a pinned client refuses the man in the middle with ServerAuthError; nothing reaches the upstream`, async () => {
    const n = upstream.conns.length;
    for (const mode of ['strip', 'forge']) {
      const relay = relays[`${kex} ${mode}`];
      await assert.rejects(
        SocketX.connect(relay.url + PATH, { WebSocket, kyberStrength: kex === 'xwing' ? 'xwing' : 512, serverKeys: [pin] }),
        (e) => e instanceof ServerAuthError && e.kind === 'server-not-authenticated' &&
          e.detail === (mode === 'strip' ? 'unsupported' : 'mismatch') && e.unsupported === (mode === 'strip') &&
          e.keyId === keyId && e.code === 1008 && e.reason === 'mte: server not authenticated');
      // The relay's connection is over and it never dialed the proxy.
      assert.deepEqual(await relay.nextConn(), refused('node'));
    }
    assert.equal(upstream.conns.length, n);
  });
}

test('Chromium: pinned, the page pairs with the real proxy and refuses the man in the middle; unpinned, it is fooled', async () => {
  const tab = await context.newPage();
  const errors = [];
  tab.on('pageerror', (e) => errors.push(e));
  await tab.goto(`${page.origin}/?autoconnect=0`);
  const n = upstream.conns.length;
  const strip = relays['mlkem512 strip'];
  const forge = relays['mlkem512 forge'];
  const result = await tab.evaluate(async ({ direct, strip, forge, path, secret, pin }) => {
    const { SocketX } = window.socketxDemo;
    const echo = async (s, msg) => {
      const back = new Promise((r) => (s.onmessage = (ev) => r(ev.data)));
      s.send(msg);
      const got = await back;
      s.close();
      return got;
    };
    const refusal = async (url) => {
      try {
        await SocketX.connect(url, { serverKeys: [pin] });
        return 'connected';
      } catch (e) {
        return { name: e.name, kind: e.kind, detail: e.detail, unsupported: e.unsupported, keyId: e.keyId, code: e.code, reason: e.reason };
      }
    };
    const out = {};
    const s = await SocketX.connect(direct + '/direct', { serverKeys: [pin] });
    out.direct = { serverKeyId: s.serverKeyId, echo: await echo(s, 'direct') };
    out.strip = await refusal(strip + path);
    out.forge = await refusal(forge + path);
    out.unpinned = await echo(await SocketX.connect(strip + path), secret);
    return out;
  }, { direct: proxies.mlkem512.url, strip: strip.url, forge: forge.url, path: PATH, secret: SECRET, pin });

  assert.deepEqual(result.direct, { serverKeyId: keyId, echo: 'direct' });
  const refusal = (detail) => ({ name: 'ServerAuthError', kind: 'server-not-authenticated', detail,
    unsupported: detail === 'unsupported', keyId, code: 1008, reason: 'mte: server not authenticated' });
  assert.deepEqual(result.strip, refusal('unsupported'));
  assert.deepEqual(result.forge, refusal('mismatch'));
  assert.equal(result.unpinned, SECRET);
  assert.deepEqual(await strip.nextConn(), refused('browser'));
  assert.deepEqual(await forge.nextConn(), refused('browser'));
  const saw = await strip.nextConn();
  assert.deepEqual(saw, fooled(PATH, SECRET));
  console.log(`Chromium: the unpinned page is fooled; the relay read ${JSON.stringify(saw.slice(1, 3).map((r) => r.data))}`);

  // The upstream saw the direct connection and the fooled one, nothing else.
  assert.equal(upstream.conns.length, n + 2);
  assert.deepEqual(upstream.conns.slice(n).map((c) => [c.path, c.origin, c.messages]), [
    ['/direct', page.origin, [{ isBinary: false, size: 6 }]],
    [PATH, page.origin, [{ isBinary: false, size: SECRET.length }]],
  ]);
  assert.deepEqual(errors, []);
  await tab.close();
});
