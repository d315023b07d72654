// Test fixtures for the browser end-to-end test: a Node `ws` echo upstream,
// static servers for the demo page, and real `socketx serve` and `socketx
// demo` processes.
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { readFile, mkdtemp } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { WebSocketServer } from 'ws';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const staticDir = join(repoRoot, 'internal/demopage/static');

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export async function freePort() {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

/**
 * Echo upstream. Every connection is recorded with its path, the messages
 * it received and how it closed. A text message "close <code> <reason>"
 * makes the upstream close the connection with that code and reason.
 */
export async function startUpstream() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 16 << 20 });
  await once(wss, 'listening');
  const conns = [];
  const waiters = [];
  wss.on('connection', (ws, req) => {
    let closed;
    const c = {
      path: req.url,
      origin: req.headers.origin,
      messages: [],
      closed: new Promise((r) => (closed = r)),
    };
    conns.push(c);
    for (const w of waiters.splice(0)) w(c);
    ws.on('message', (data, isBinary) => {
      c.messages.push({ isBinary, size: data.length });
      const text = isBinary ? '' : data.toString();
      const m = /^close (\d+) (.*)$/.exec(text);
      if (m) {
        ws.close(Number(m[1]), m[2]);
        return;
      }
      ws.send(data, { binary: isBinary });
    });
    ws.on('close', (code, reason) => closed({ code, reason: reason.toString() }));
  });
  return {
    url: `ws://127.0.0.1:${wss.address().port}`,
    conns,
    /** The next connection (or the n-th, 0-based, if it already exists). */
    connection(n) {
      if (conns[n]) return Promise.resolve(conns[n]);
      return new Promise((resolve) => {
        const check = (c) => (conns[n] ? resolve(conns[n]) : waiters.push(check));
        waiters.push(check);
      });
    },
    close: () => new Promise((r) => wss.close(r)),
  };
}

const types = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.ico': 'image/x-icon',
};

/** Serves the demo page's static files (as demopage.Handler does) on 127.0.0.1. */
export async function startPageServer() {
  const srv = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const name = path === '/' ? 'index.html' : path.slice(1);
    if (!/^[a-z]+\.(html|js|css|ico)$/.test(name)) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(join(staticDir, name));
      res.writeHead(200, { 'content-type': types[name.slice(name.lastIndexOf('.'))], 'cache-control': 'no-cache' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const origin = `http://127.0.0.1:${srv.address().port}`;
  return { origin, close: () => new Promise((r) => srv.close(r)) };
}

/** Builds cmd/socketx into a temporary directory. */
export async function buildProxy() {
  const dir = await mkdtemp(join(tmpdir(), 'socketx-e2e-'));
  const bin = join(dir, 'socketx');
  await promisify(execFile)('go', ['build', '-o', bin, './cmd/socketx'], { cwd: repoRoot });
  return { dir, bin };
}

/** GET http://127.0.0.1:port/path; resolves to the status, or 0 if refused. */
function status(port, path) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

/**
 * Runs `socketx args…` with env; resolves once GET http://127.0.0.1:port/path
 * answers 200.
 */
async function startCommand(bin, args, env, port, path) {
  const proc = spawn(bin, args, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  let exited = false;
  proc.on('exit', () => (exited = true));
  // Poll readiness; each try waits for the previous answer (no fixed sleeps
  // beyond a 25 ms back-off between refused connections).
  for (let i = 0; ; i++) {
    if (exited) throw new Error(`socketx ${args[0]} exited:\n${output}`);
    if ((await status(port, path)) === 200) break;
    if (i > 400) throw new Error(`socketx ${args[0]} not ready after 10 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    output: () => output,
    async stop() {
      if (exited) return;
      proc.kill('SIGINT');
      await once(proc, 'exit');
    },
  };
}

/** Runs `socketx serve` with env; resolves once /ready answers 200. */
export async function startProxy(bin, env) {
  const port = Number(env.LISTEN_PORT);
  const cmd = await startCommand(bin, ['serve'], env, port, '/ready');
  return { url: `ws://127.0.0.1:${port}`, ...cmd };
}

/**
 * Runs `socketx demo` (the proxy on port in front of its built-in echo
 * upstream, the demo page served by internal/demopage on pagePort);
 * resolves once the page answers 200 (the demo serves it once the proxy is
 * ready). pageURL opens the page on the demo's proxy.
 */
export async function startDemo(bin, port, pagePort) {
  const env = { ADMIN_LISTEN: 'off', LOG_LEVEL: 'warn', DRAIN_TIMEOUT: '1s' };
  const cmd = await startCommand(bin, ['demo', '-port', String(port), '-page', `127.0.0.1:${pagePort}`], env, pagePort, '/');
  return { pageURL: `http://127.0.0.1:${pagePort}/?proxy=${encodeURIComponent(`ws://127.0.0.1:${port}/demo`)}`, ...cmd };
}

/** Raw HTTP upgrade with an Origin header; resolves to the response status. */
export function upgradeStatus(port, origin) {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, path: '/',
      headers: {
        Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', Origin: origin,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end();
  });
}
