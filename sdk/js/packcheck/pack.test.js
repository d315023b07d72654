// What `npm publish` would upload: the exact file list of `npm pack --dry-run`
// and the package.json fields a published package needs. Run after
// `npm run build` (make js-pack does both).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(pkgDir, '..', '..');
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));

function packList() {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--loglevel=error'], {
    cwd: pkgDir,
    encoding: 'utf8',
  });
  const [entry] = JSON.parse(out);
  return entry;
}

test('the tarball holds exactly the built library, its types, the browser bundle, README, LICENSE', () => {
  // One .js and one .d.ts per module of src/, nothing else from the build.
  const modules = readdirSync(join(pkgDir, 'src'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -'.ts'.length));
  assert.ok(modules.includes('index'), 'src/index.ts missing');
  const want = [
    'LICENSE',
    'README.md',
    'package.json',
    'dist/socketx.js',
    ...modules.flatMap((m) => [`dist/lib/${m}.js`, `dist/lib/${m}.d.ts`]),
  ].sort();
  const entry = packList();
  const got = entry.files.map((f) => f.path).sort();
  assert.deepEqual(got, want, 'npm pack file list (run `npm run build` first; update packcheck/pack.test.js only on purpose)');
  for (const f of got) {
    assert.doesNotMatch(f, /(^|\/)(node_modules|src|test|packcheck)\//, `${f} must not be published`);
  }
  assert.equal(entry.name, '@socketx/client');
  assert.equal(entry.bundled.length, 0, 'no bundled dependencies');
});

test('package.json is publishable and names what the tarball holds', () => {
  assert.equal(pkg.name, '@socketx/client');
  assert.equal(pkg.private, undefined, '"private" would make npm refuse to publish');
  assert.equal(pkg.license, 'Apache-2.0');
  assert.equal(pkg.repository?.url, 'git+https://github.com/socketx/socketx-server.git', 'npm provenance checks the repository');
  assert.equal(pkg.repository?.directory, 'sdk/js');
  assert.equal(pkg.publishConfig?.access, 'public', 'a scoped package is private on npm unless access is public');
  assert.match(pkg.engines?.node ?? '', /^>=20\.19$/);
  const version = readFileSync(join(repoRoot, 'VERSION'), 'utf8').trim();
  assert.equal(pkg.version, version, 'package.json version must equal the VERSION file');
  for (const [name, range] of Object.entries(pkg.dependencies ?? {})) {
    assert.match(range, /^\^\d+\.\d+\.\d+$/, `dependency ${name} should be a caret range, not ${range}`);
  }
  // A fresh clone's `npm ci && npm test` builds first and type-checks the public types.
  assert.equal(pkg.scripts?.pretest, 'npm run build');
  assert.match(pkg.scripts?.test ?? '', /^tsc -p test\/tsconfig\.json && node --test /);
  // Every entry point resolves to a file in the tarball.
  const files = new Set(packList().files.map((f) => f.path));
  const targets = [pkg.main, pkg.module, pkg.types, pkg.browser, ...Object.values(pkg.exports['.']), pkg.exports['./package.json']];
  for (const t of targets) {
    assert.ok(files.has(t.replace(/^\.\//, '')), `${t} is named in package.json but not packed`);
  }
  // The lock file agrees with package.json.
  const lock = JSON.parse(readFileSync(join(pkgDir, 'package-lock.json'), 'utf8'));
  assert.equal(lock.version, pkg.version);
  assert.deepEqual(lock.packages[''].dependencies, pkg.dependencies, 'run npm install --package-lock-only');
});

test('LICENSE is the repository root LICENSE', () => {
  assert.equal(readFileSync(join(pkgDir, 'LICENSE'), 'utf8'), readFileSync(join(repoRoot, 'LICENSE'), 'utf8'));
});
