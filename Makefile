# One command runs every check: `make test`.
GO        ?= go
# client and mte are modules of their own (go.work): ./... from the root
# does not reach them.
PKGS      := ./... ./client/... ./mte/...
# An execution count, not a duration: Go 1.26's fuzz coordinator can fail a
# duration-bounded run with "context deadline exceeded" at the boundary
# (golang/go#75804, fixed in 1.27); a count has no deadline to race.
FUZZTIME  ?= 20000x
STATICCHECK_VERSION := v0.8.2
# The newest the Go module proxy serves (go list -m -versions github.com/rhysd/actionlint).
ACTIONLINT_VERSION  := v1.7.12
ACTIONLINT          := $(shell $(GO) env GOPATH)/bin/actionlint

.PHONY: test lint vet fmt staticcheck race bench bench-once fuzz-short build demo cross perf-quick perf-full release-check

test: lint race bench-once fuzz-short deploy-check js-check release-check

lint: fmt vet staticcheck

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	@command -v staticcheck >/dev/null 2>&1 || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" staticcheck $(PKGS)

race:
	$(GO) test -race -count=1 -timeout 5m $(PKGS)

# Every benchmark once so none rots; timings are printed, never asserted.
bench-once:
	$(GO) test -run '^$$' -bench . -benchtime 1x -count=1 $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./mte/ ./codec/ ./engine/

# Each fuzz target for a short, bounded time (go test -fuzz takes one target per run).
fuzz-short:
	@set -e; for pkg in ./codec ./mte ./routing ./metering ./client ./perf/wsecho ./perf/compare; do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg > /tmp/socketx-fuzz.log 2>&1 || { cat /tmp/socketx-fuzz.log; exit 1; }; \
	  done; \
	done

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$$(git describe --tags --always --dirty 2>/dev/null || echo dev)" -o bin/socketx ./cmd/socketx

cross:
	GOOS=linux GOARCH=amd64 CGO_ENABLED=0 $(GO) build -trimpath -o /dev/null ./cmd/socketx
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -trimpath -o /dev/null ./cmd/socketx

# The release pipeline, offline: actionlint on the workflows (with shellcheck
# on their run: scripts when it is installed), and internal/releasecheck: the
# version in VERSION and the names ghcr.io/socketx/socketx-server,
# oci://ghcr.io/socketx/charts/socketx and @socketx/client agree in every file
# that states them (docs/DEPLOY.md, "Releasing").
release-check: $(ACTIONLINT)
	$(ACTIONLINT) .github/workflows/*.yml
	$(GO) test -count=1 ./internal/releasecheck/

$(ACTIONLINT):
	$(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

demo:
	$(GO) run ./cmd/socketx demo

# Side-by-side comparison with nginx and HAProxy (installs them if missing).
perf-quick:
	QUICK=1 perf/compare.sh

perf-full:
	perf/compare.sh

include deploy/checks.mk
include sdk/js/checks.mk
