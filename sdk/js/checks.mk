# JavaScript checks: the TypeScript SDK (sdk/js), the committed demo bundle
# (internal/demopage/static/socketx.js) and the real-browser end-to-end test
# (e2e/). Included from the top-level Makefile; run from the repository root.
# Needs node >= 20.19 with npm, go, and /usr/bin/chromium (apt-get install chromium).
NPM_CI := npm ci --no-audit --no-fund --loglevel=error

.PHONY: js-check js-deps js-build js-bundle js-bundle-check js-unit js-pack js-e2e

# Everything: dependencies, typecheck + build, bundle freshness, unit tests,
# the published package's contents, e2e tests.
js-check: js-bundle-check js-unit js-pack js-e2e

js-deps:
	cd sdk/js && $(NPM_CI)
	cd e2e && $(NPM_CI)

# tsc (typecheck, dist/lib + .d.ts) and esbuild (dist/socketx.js browser bundle).
js-build: js-deps
	cd sdk/js && npm run --silent build

# The demo page embeds the bundle; it must be the one the sources build.
js-bundle-check: js-build
	@cmp -s sdk/js/dist/socketx.js internal/demopage/static/socketx.js || { \
	  echo "internal/demopage/static/socketx.js differs from a fresh build of sdk/js: run 'make js-bundle' and commit it"; exit 1; }

# Rebuilds and copies the bundle into the demo page (then commit it).
js-bundle: js-build
	cp sdk/js/dist/socketx.js internal/demopage/static/socketx.js

# The type-level test (test/types.test-d.ts) and the Node tests; js-build has
# built, so --ignore-scripts skips the rebuild `pretest` does on a fresh clone.
js-unit: js-build
	cd sdk/js && npm test --silent --ignore-scripts

# What `npm publish` would upload (npm pack --dry-run): the exact file list and
# the package.json fields a published package needs (sdk/js/packcheck).
js-pack: js-build
	cd sdk/js && npm run --silent test:pack

js-e2e: js-build
	cd e2e && npm test --silent
