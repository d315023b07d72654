// End-to-end: Debian's Chromium (headless, via playwright-core) loads the
// demo page, whose SDK bundle pairs through a real `socketx serve` with a
// Node `ws` echo upstream. DOMAIN_MAP allows only the first page origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';
import { buildProxy, freePort, repoRoot, startDemo, startPageServer, startProxy, startUpstream, upgradeStatus } from './harness.js';
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
  // Screenshots of the demo page; SOCKETX_E2E_SCREENSHOTS=docs/screenshots
  // refreshes the ones the README shows.
  const shots = process.env.SOCKETX_E2E_SCREENSHOTS;
  shotDir = shots ? resolve(repoRoot, shots) : join(tmpdir(), 'socketx-e2e-screenshots');
  await mkdir(shotDir, { recursive: true });
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

// The encoded message of n plaintext bytes: header(7) || BE64(seq) ||
// ciphertext(n) || tag(16) (docs/PROTOCOL.md §7).
const OVERHEAD = 7 + 8 + 16;
const hexOf = (bytes) => Buffer.from(bytes).toString('hex');
const seqHex = (n) => n.toString(16).padStart(16, '0');

/** The message rows of the log, oldest first: cell texts and the wire glimpse. */
function messageRows(page, cls) {
  return page.$$eval(`#log tr.${cls}`, (trs) => trs.reverse().map((tr) => ({
    cells: [...tr.cells].slice(0, 6).map((td) => td.textContent),
    plain: tr.querySelector('.plain').textContent,
    hex: tr.querySelector('.wire-hex').dataset.hex,
    glimpse: tr.querySelector('.wire-hex').textContent,
  })));
}

test('demo page: pairs, sends text and binary through the proxy, shows RTT, wire sizes and what an observer sees', async () => {
  const before = upstream.conns.length;
  const { page, errors } = await newPage(allowedPage.origin);
  await page.waitForFunction(() => document.getElementById('state').textContent === 'open');
  assert.match(await page.textContent('#eeid'), /^[0-9a-f]{16}$/);
  assert.equal(await page.textContent('#kex'), 'ML-KEM-512');
  assert.match(await page.textContent('#pairing'), /^\d+ ms$/);
  const conn = await upstream.connection(before);
  assert.equal(conn.path, '/e2e/room?name=a%20b');

  const first = 'hello through SocketX ✓';
  await page.fill('#text', first);
  await page.click('#send-text');
  await page.click('#send-binary');
  await page.fill('#text', 'a third message');
  await page.press('#text', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('#log tr.msg-in').length === 3);
  // Every sent row has its encoded form once its echo is back.
  await page.waitForFunction(() => [...document.querySelectorAll('#log tr.msg-out .wire-hex')].every((e) => e.dataset.hex));
  const inRows = await messageRows(page, 'msg-in');
  const outRows = await messageRows(page, 'msg-out');
  assert.deepEqual(inRows.map((r) => r.cells.slice(1, 5)), [
    ['← recv', 'text', '25 B', '56 B'], ['← recv', 'binary', '1,024 B', '1,055 B'], ['← recv', 'text', '15 B', '46 B']]);
  assert.deepEqual(outRows.map((r) => r.cells.slice(1, 5)), [
    ['→ sent', 'text', '25 B', '56 B'], ['→ sent', 'binary', '1,024 B', '1,055 B'], ['→ sent', 'text', '15 B', '46 B']]);
  assert.equal(inRows[0].plain, first);
  for (const r of inRows) assert.match(r.cells[5], /^\d+\.\d ms$/);
  assert.deepEqual(conn.messages, [{ isBinary: false, size: 25 }, { isBinary: true, size: 1024 }, { isBinary: false, size: 15 }]);

  // The glimpse is the first 24 bytes of the encoded message: the SocketX
  // header (proxyData, text 00 or binary 01), the sequence number (c2s
  // starts at 1, after action 4; s2c at 0), then ciphertext that is not the
  // plaintext and differs per direction for the same plaintext.
  const texts = [first, null, 'a third message'];
  for (const [rows, firstSeq] of [[outRows, 1], [inRows, 0]]) {
    rows.forEach((r, i) => {
      assert.equal(r.hex.length, 48);
      assert.equal(r.hex.slice(0, 14), `4d5445020106${texts[i] === null ? '01' : '00'}`);
      assert.equal(r.hex.slice(14, 30), seqHex(firstSeq + i));
      if (texts[i] !== null) assert.notEqual(r.hex.slice(30), hexOf(Buffer.from(texts[i])).slice(0, 18));
      assert.equal(r.glimpse, `${r.hex.slice(0, 14)} ${r.hex.slice(14, 30)} ${r.hex.slice(30)}…`);
    });
  }
  assert.notEqual(outRows[0].hex.slice(30), inRows[0].hex.slice(30));
  assert.notEqual(outRows[2].hex.slice(30), inRows[2].hex.slice(30));

  const shot = join(shotDir, 'demo-wide.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`# screenshot: ${shot}`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('demo page at 390 px: no horizontal overflow; a strength mismatch shows the whole error and a hint', async () => {
  const { page, errors } = await newPage(allowedPage.origin);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForFunction(() => document.getElementById('state').textContent === 'open');
  await page.fill('#text', 'a message that is long enough to wrap on a narrow phone screen, twice over at least');
  await page.click('#send-text');
  await page.click('#send-binary');
  await page.waitForFunction(() => document.querySelectorAll('#log tr.msg-in').length === 2);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 390);

  await page.click('#disconnect');
  await page.waitForFunction(() => document.getElementById('state').textContent === 'closed');
  await page.selectOption('#strength', '768');
  await page.click('#connect');
  await page.waitForFunction(() => document.getElementById('state').textContent === 'error');
  const want = 'socketx: proxy closed during the handshake (state sentPairRequest): 1002 mte: encoderPublicKey is 1184 bytes, want 800 for ML-KEM-512';
  assert.equal(await page.textContent('#problem-text'), `handshake: ${want}`);
  assert.equal(await page.textContent('#problem-hint'),
    'The proxy refused the pairRequest: the key exchange chosen here (ML-KEM-768) is not the proxy\'s ' +
    '(MTE_KYBER_STRENGTH / MTE_KEY_EXCHANGE; the reason names the one it expects). Choose that one and connect again.');
  assert.equal(await page.textContent('#log tr.error td.content'), `connect failed (handshake): ${want}`);
  // Shown whole: nothing is clipped, in the box or in the log.
  for (const sel of ['#problem-text', '#log tr.error td.content']) {
    const box = await page.$eval(sel, (e) => ({ scroll: e.scrollWidth, client: e.clientWidth, overflow: getComputedStyle(e).textOverflow }));
    assert.ok(box.scroll <= box.client && box.overflow === 'clip', `${sel}: ${JSON.stringify(box)}`);
  }
  for (const id of ['kex', 'server-auth', 'eeid', 'pairing']) {
    assert.equal(await page.textContent(`#${id}`), id === 'server-auth' ? 'not authenticated (no pin)' : '–', id);
  }
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 390);

  const shot = join(shotDir, 'demo-390-error.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`# screenshot: ${shot}`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('demo page: after a failed reconnect the pairing details are cleared and the error says what to check', async () => {
  const port = await freePort();
  const doomed = await startProxy(build.bin, {
    DOMAIN_MAP: JSON.stringify({ [`127.0.0.1:${port}`]: { upstream: upstream.url, allowedOrigins: [allowedPage.origin] } }),
    LISTEN_HOST: '127.0.0.1',
    LISTEN_PORT: String(port),
    ADMIN_LISTEN: 'off',
    DRAIN_TIMEOUT: '1s',
    MTE_KYBER_STRENGTH: '512',
    LOG_LEVEL: 'warn',
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  // Backoff delays are random in [0, cap): 0 makes the five attempts immediate.
  await page.addInitScript(() => {
    Math.random = () => 0;
  });
  const proxyURL = `ws://127.0.0.1:${port}/gone`;
  await page.goto(`${allowedPage.origin}/?proxy=${encodeURIComponent(proxyURL)}`);
  await page.waitForFunction(() => document.getElementById('state').textContent === 'open');
  assert.match(await page.textContent('#eeid'), /^[0-9a-f]{16}$/);

  await doomed.stop(); // drains: 1001 going away, then every reconnect is refused
  await page.waitForFunction(() => document.getElementById('state').textContent === 'closed');
  for (const id of ['kex', 'server-auth', 'eeid', 'pairing']) assert.equal(await page.textContent(`#${id}`), '–', id);
  const events = await page.$$eval('#log tr.event td.content', (tds) => tds.reverse().map((td) => td.textContent));
  assert.equal(events.filter((e) => /reconnect attempt \d in 0 ms/.test(e)).length, 5, events.join('\n'));
  assert.equal(await page.textContent('#problem-text'),
    `network: socketx: gave up reconnecting after 5 attempts: socketx: WebSocket to ${proxyURL} failed (code 1006)`);
  assert.match(await page.textContent('#problem-hint'), /^The proxy refused the upgrade or cannot be reached/);
  assert.equal(await page.textContent('#last-close'), '1006');
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
  // The demo UI shows the failure too, with what to check: the browser
  // sees 1006, not the 403.
  await page.click('#connect');
  await page.waitForFunction(() => document.getElementById('state').textContent === 'error');
  const failed = `socketx: WebSocket to ws://127.0.0.1:${proxyPort}/e2e/room?name=a%20b failed (code 1006)`;
  assert.equal(await page.textContent('#log tr.error td.content'), `connect failed (network): ${failed}`);
  assert.equal(await page.textContent('#problem-text'), `network: ${failed}`);
  assert.equal(await page.textContent('#problem-hint'),
    'The proxy refused the upgrade or cannot be reached: a browser reports both as 1006 and does not show the ' +
    `HTTP status. Check that this page's origin, ${deniedPage.origin}, is in allowedOrigins of the proxy's ` +
    `DOMAIN_MAP entry for 127.0.0.1:${proxyPort} (otherwise 403 origin not allowed), that DOMAIN_MAP has an ` +
    `entry for 127.0.0.1:${proxyPort} (otherwise 404 unknown host), and that the proxy listens at ` +
    `ws://127.0.0.1:${proxyPort}/e2e/room?name=a%20b.`);
  assert.equal(upstream.conns.length, n, 'no upstream connection for a refused origin');
  assert.deepEqual(errors, []);
  await page.close();
});

test('socketx demo: the page served by internal/demopage under its CSP answers every request 200, favicon included, and pairs', async () => {
  const [port, pagePort] = await Promise.all([freePort(), freePort()]);
  const demo = await startDemo(build.bin, port, pagePort);
  const page = await context.newPage();
  try {
    const errors = [];
    const consoleErrors = [];
    const responses = [];
    page.on('pageerror', (e) => errors.push(e));
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('response', (r) => responses.push(`${new URL(r.url()).pathname} ${r.status()}`));
    await page.goto(demo.pageURL);
    await page.waitForFunction(() => document.getElementById('state').textContent === 'open');
    await page.fill('#text', 'hi');
    await page.click('#send-text');
    await page.waitForFunction(() => document.querySelector('#log tr.msg-in td.wire')?.textContent === '33 B');
    const icon = await page.evaluate(async () => {
      const r = await fetch('/favicon.ico');
      return { status: r.status, type: r.headers.get('content-type'), bytes: Array.from(new Uint8Array(await r.arrayBuffer())) };
    });
    const want = await readFile(join(repoRoot, 'internal/demopage/static/favicon.ico'));
    assert.deepEqual(icon, { status: 200, type: 'image/x-icon', bytes: [...want] });
    assert.equal(await page.$eval('link[rel=icon]', (l) => l.href), `http://127.0.0.1:${pagePort}/favicon.ico`);
    // Headless Chromium does not ask for the icon itself: the fetch above did.
    for (const path of ['/', '/demo.css', '/demo.js', '/socketx.js']) {
      assert.ok(responses.includes(`${path} 200`), `${path}: ${responses.join(', ')}`);
    }
    assert.deepEqual(responses.filter((r) => !r.endsWith(' 200')), []);
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
    await demo.stop();
  }
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
