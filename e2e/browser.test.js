// End-to-end: Debian's Chromium (headless, via playwright-core) loads the
// demo page, whose SDK bundle pairs through a real `socketx serve` with a
// Node `ws` echo upstream. DOMAIN_MAP allows only the first page origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';
import { buildProxy, freePort, startPageServer, startProxy, startUpstream, upgradeStatus } from './harness.js';
import { SocketX } from '../sdk/js/dist/lib/index.js';

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

let upstream, allowedPage, deniedPage, proxy, xwingProxy, build, context, userDataDir, shotDir, proxyPort, xwingPort;

before(async () => {
  [upstream, allowedPage, deniedPage, build, proxyPort, xwingPort] = await Promise.all([
    startUpstream(), startPageServer(), startPageServer(), buildProxy(), freePort(), freePort(),
  ]);
  const domainMap = {
    [`127.0.0.1:${proxyPort}`]: { upstream: upstream.url, allowedOrigins: [allowedPage.origin] },
  };
  proxy = await startProxy(build.bin, {
    DOMAIN_MAP: JSON.stringify(domainMap),
    LISTEN_HOST: '127.0.0.1',
    LISTEN_PORT: String(proxyPort),
    ADMIN_LISTEN: 'off',
    DRAIN_TIMEOUT: '1s',
    MTE_KYBER_STRENGTH: '512',
    // A 1 MiB message plus the SocketX header and MTE overhead (31 bytes)
    // exceeds the 1 MiB default.
    WS_MAX_MESSAGE_SIZE: String(2 << 20),
    LOG_LEVEL: 'warn',
  });
  // A second proxy configured for X-Wing (the ML-KEM-768 + X25519 hybrid).
  xwingProxy = await startProxy(build.bin, {
    DOMAIN_MAP: JSON.stringify({ [`127.0.0.1:${xwingPort}`]: { upstream: upstream.url, allowedOrigins: [allowedPage.origin] } }),
    LISTEN_HOST: '127.0.0.1',
    LISTEN_PORT: String(xwingPort),
    ADMIN_LISTEN: 'off',
    DRAIN_TIMEOUT: '1s',
    MTE_KEY_EXCHANGE: 'xwing',
    LOG_LEVEL: 'warn',
  });
  userDataDir = await mkdtemp(join(tmpdir(), 'socketx-chromium-'));
  shotDir = process.env.SOCKETX_E2E_SCREENSHOTS ?? (await mkdtemp(join(tmpdir(), 'socketx-shots-')));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1100, height: 900 },
  });
});

after(async () => {
  await context?.close();
  await proxy?.stop();
  await xwingProxy?.stop();
  await Promise.all([upstream?.close(), allowedPage?.close(), deniedPage?.close()]);
  await Promise.all([userDataDir, build?.dir].filter(Boolean).map((d) => rm(d, { recursive: true, force: true })));
});

function pageURL(origin, extra = '') {
  return `${origin}/?proxy=${encodeURIComponent(`ws://127.0.0.1:${proxyPort}/e2e/room?name=a%20b`)}${extra}`;
}

async function newPage(origin, extra) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(pageURL(origin, extra));
  return { page, errors };
}

test('the proxy answers 101 for the allowed origin and 403 for another', async () => {
  assert.equal(await upgradeStatus(proxyPort, allowedPage.origin), 101);
  assert.equal(await upgradeStatus(proxyPort, deniedPage.origin), 403);
});

test('demo page: pairs, sends text and binary through the proxy, shows RTT', async () => {
  const before = upstream.conns.length;
  const { page, errors } = await newPage(allowedPage.origin);
  await page.waitForFunction(() => document.getElementById('state').textContent === 'open');
  assert.match(await page.textContent('#eeid'), /^[0-9a-f]{16}$/);
  assert.equal(await page.textContent('#kex'), 'ML-KEM-512');
  const conn = await upstream.connection(before);
  assert.equal(conn.path, '/e2e/room?name=a%20b');

  await page.fill('#text', 'hello through SocketX ✓');
  await page.click('#send-text');
  await page.click('#send-binary');
  await page.fill('#text', 'a third message');
  await page.press('#text', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('#log tr.msg-in').length === 3);
  const rows = await page.$$eval('#log tr.msg-in', (trs) => trs.reverse().map((tr) => [...tr.cells].map((td) => td.textContent)));
  assert.deepEqual(rows.map((r) => [r[1], r[2], r[3]]), [
    ['← recv', 'text', '25 B'], ['← recv', 'binary', '1,024 B'], ['← recv', 'text', '15 B']]);
  assert.equal(rows[0][5], 'hello through SocketX ✓');
  for (const r of rows) assert.match(r[4], /^\d+\.\d ms$/);
  assert.deepEqual(conn.messages, [{ isBinary: false, size: 25 }, { isBinary: true, size: 1024 }, { isBinary: false, size: 15 }]);

  const shot = join(shotDir, 'demo-page.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`# screenshot: ${shot}`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('SDK in the browser: text, binary and 1 MiB round-trip; close codes propagate both ways', async () => {
  const { page, errors } = await newPage(allowedPage.origin, '&autoconnect=0');
  const n = upstream.conns.length;
  const result = await page.evaluate(async (proxyURL) => {
    const { SocketX } = window.socketxDemo;
    const s = await SocketX.connect(proxyURL);
    const inbox = [];
    let wake;
    s.onmessage = (ev) => {
      inbox.push(ev.data);
      wake?.();
    };
    const next = async () => {
      while (inbox.length === 0) await new Promise((r) => (wake = r));
      return inbox.shift();
    };
    const out = { eeid: s.eeid, strength: s.strength };
    s.send('héllo 🌍');
    out.text = await next();
    const bin = new Uint8Array(256).map((_, i) => i);
    s.send(bin);
    const binBack = await next(); // binaryType 'blob', as a WebSocket's default
    out.binaryIsBlob = binBack instanceof Blob;
    out.binary = Array.from(new Uint8Array(await binBack.arrayBuffer()));
    s.binaryType = 'arraybuffer';
    const big = new Uint8Array(1 << 20);
    for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
    const digest = async (b) => Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', b))).join(',');
    s.send(big);
    const bigBack = await next();
    out.bigIsArrayBuffer = bigBack instanceof ArrayBuffer;
    out.bigSize = bigBack.byteLength;
    out.bigSame = (await digest(big)) === (await digest(bigBack));
    const closed = new Promise((r) => (s.onclose = (ev) => r({ code: ev.code, reason: ev.reason, wasClean: ev.wasClean })));
    s.close(4001, 'bye from the page');
    out.clientClose = await closed;
    out.stateAfterClose = [s.state, s.readyState];
    s.send('late'); // discarded without an error, as by a WebSocket
    out.bufferedAfterLateSend = s.bufferedAmount;

    // The upstream closes: its code and reason reach onclose.
    const s2 = await SocketX.connect(proxyURL);
    const closed2 = new Promise((r) => (s2.onclose = (ev) => r({ code: ev.code, reason: ev.reason })));
    s2.send('close 4002 upstream says bye');
    out.upstreamClose = await closed2;
    return out;
  }, `ws://127.0.0.1:${proxyPort}/sdk`);

  assert.match(result.eeid, /^[0-9a-f]{16}$/);
  assert.equal(result.strength, 512);
  assert.equal(result.text, 'héllo 🌍');
  assert.equal(result.binaryIsBlob, true);
  assert.equal(result.bigIsArrayBuffer, true);
  assert.deepEqual(result.binary, Array.from({ length: 256 }, (_, i) => i));
  assert.equal(result.bigSize, 1 << 20);
  assert.equal(result.bigSame, true);
  assert.deepEqual(result.clientClose, { code: 4001, reason: 'bye from the page', wasClean: true });
  assert.deepEqual(result.stateAfterClose, ['closed', 3]);
  assert.equal(result.bufferedAfterLateSend, 4);
  assert.deepEqual(result.upstreamClose, { code: 4002, reason: 'upstream says bye' });

  const c1 = upstream.conns[n];
  assert.equal(c1.path, '/sdk');
  assert.equal(c1.origin, allowedPage.origin);
  assert.deepEqual(c1.messages, [{ isBinary: false, size: 11 }, { isBinary: true, size: 256 }, { isBinary: true, size: 1 << 20 }]);
  assert.deepEqual(await c1.closed, { code: 4001, reason: 'bye from the page' });
  assert.deepEqual(await upstream.conns[n + 1].closed, { code: 4002, reason: 'upstream says bye' });
  assert.deepEqual(errors, []);
  await page.close();
});

test("SDK in the browser with kyberStrength 'xwing' against an X-Wing proxy; ML-KEM-512 is refused with 1002", async () => {
  const { page, errors } = await newPage(allowedPage.origin, '&autoconnect=0');
  const result = await page.evaluate(async (proxyURL) => {
    const { SocketX } = window.socketxDemo;
    const s = await SocketX.connect(proxyURL, { kyberStrength: 'xwing' });
    const out = { eeid: s.eeid, keyExchange: s.keyExchange };
    const back = new Promise((r) => (s.onmessage = (ev) => r(ev.data)));
    s.send('hybrid 🛩');
    out.text = await back;
    s.close(1000, 'done');
    try {
      await SocketX.connect(proxyURL);
    } catch (e) {
      out.mismatch = { kind: e.kind, message: e.message };
    }
    return out;
  }, `ws://127.0.0.1:${xwingPort}/xwing`);
  assert.match(result.eeid, /^[0-9a-f]{16}$/);
  assert.equal(result.keyExchange, 'X-Wing');
  assert.equal(result.text, 'hybrid 🛩');
  assert.equal(result.mismatch?.kind, 'handshake');
  assert.match(result.mismatch.message, /mte: encoderPublicKey is 800 bytes, want 1216 for X-Wing/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a page origin DOMAIN_MAP does not allow is refused', async () => {
  const n = upstream.conns.length;
  const { page, errors } = await newPage(deniedPage.origin, '&autoconnect=0');
  const err = await page.evaluate(async (proxyURL) => {
    try {
      await window.socketxDemo.SocketX.connect(proxyURL);
      return null;
    } catch (e) {
      return { kind: e.kind, name: e.name, code: e.code, message: e.message };
    }
  }, `ws://127.0.0.1:${proxyPort}/`);
  assert.equal(err.kind, 'network');
  assert.equal(err.name, 'NetworkError');
  assert.equal(err.code, 1006);
  // The demo UI shows the failure too.
  await page.click('#connect');
  await page.waitForFunction(() => document.getElementById('state').textContent === 'error');
  assert.match(await page.textContent('#log tr.error'), /connect failed \(network\)/);
  assert.equal(upstream.conns.length, n, 'no upstream connection for a refused origin');
  assert.deepEqual(errors, []);
  await page.close();
});

test('SDK in Node (ws package) against the same proxy', async () => {
  class OriginWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, { origin: allowedPage.origin });
    }
  }
  const s = await SocketX.connect(`ws://127.0.0.1:${proxyPort}/node`, { WebSocket: OriginWebSocket, binaryType: 'arraybuffer' });
  const got = [];
  const done = new Promise((resolve) => {
    s.onmessage = (ev) => {
      got.push(ev.data);
      if (got.length === 3) resolve();
    };
  });
  s.send('one');
  s.send(new Uint8Array([1, 2, 3]));
  s.send('three');
  await done;
  assert.deepEqual(got.map((d) => (typeof d === 'string' ? d : Array.from(new Uint8Array(d)))), ['one', [1, 2, 3], 'three']);
  const closed = new Promise((r) => (s.onclose = (ev) => r([ev.code, ev.reason])));
  s.close(1000, 'done');
  assert.deepEqual(await closed, [1000, 'done']);

  // Without an allowed Origin the upgrade is refused (403 → NetworkError).
  await assert.rejects(SocketX.connect(`ws://127.0.0.1:${proxyPort}/`, { WebSocket }), (e) => {
    assert.equal(e.kind, 'network');
    assert.match(e.message, /403/);
    return true;
  });
});
