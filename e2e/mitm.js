// The man in the middle of mitm.test.js: internal/mitm/cmd/mitm, a relay
// that pairs with the client as the proxy and with the real proxy as a
// client, and prints what it read (one JSON record per line).
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { repoRoot } from './harness.js';

/** Builds internal/mitm/cmd/mitm into dir; resolves to the binary's path. */
export async function buildMITM(dir) {
  const bin = join(dir, 'mitm');
  await promisify(execFile)('go', ['build', '-o', bin, './internal/mitm/cmd/mitm'], { cwd: repoRoot });
  return bin;
}

/**
 * Runs the relay in front of proxyURL with key exchange kex ('mlkem512',
 * 'xwing', ...) and mode 'strip' (no serverConfirm) or 'forge' (a made-up
 * one). Resolves once it printed its URL.
 */
export async function startMITM(bin, proxyURL, { kex = 'mlkem512', mode = 'strip' } = {}) {
  // stdin is a pipe: the relay runs until it closes.
  const proc = spawn(bin, ['-proxy', proxyURL, '-kex', kex, '-mode', mode], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: proc.stdout });
  const records = [];
  const waiters = [];
  let url;
  const ready = new Promise((resolve, reject) => {
    proc.on('exit', (code) => reject(new Error(`mitm exited ${code}: ${stderr}`)));
    lines.on('line', (line) => {
      if (url === undefined) {
        url = line;
        resolve();
        return;
      }
      records.push(JSON.parse(line));
      for (const w of waiters.splice(0)) w();
    });
  });
  await ready;
  let next = 1;
  return {
    url,
    records,
    /**
     * The records of the relay's next client connection (1, 2, ... in
     * order of the calls), once its "end" record arrived.
     */
    async nextConn() {
      const n = next++;
      const mine = () => records.filter((r) => r.conn === n);
      while (!mine().some((r) => r.kind === 'end')) await new Promise((r) => waiters.push(r));
      return mine().map(({ kind, data }) => ({ kind, data }));
    },
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = once(proc, 'exit');
      proc.stdin.end();
      await exited;
    },
  };
}
