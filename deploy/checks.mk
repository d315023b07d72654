# Deployment checks, included from the Makefile: `make deploy-check`.
# Everything runs offline except the first `go install` of helm (Go module
# proxy). No Docker engine is needed: the image build itself is not run here;
# its parts are (cross-compiled binaries with the Dockerfiles' flags, the
# start-up and healthcheck, the arm64 tests under qemu, the Dockerfile rules).

GO            ?= go
HELM_VERSION  := v3.22.0
# helm template assumes Kubernetes 1.20 without a cluster; the chart needs 1.30.
KUBE_VERSION  := 1.30.0
GOBIN_DIR     := $(shell $(GO) env GOPATH)/bin
HELM          := $(GOBIN_DIR)/helm
DEPLOY_OUT    := bin/deploy
DEPLOY_LDFLAGS = -s -w -X main.version=deploy-check

.PHONY: deploy-check deploy-tools deploy-cross deploy-smoke deploy-qemu deploy-helm deploy-cfn deploy-test

deploy-check: deploy-cross deploy-smoke deploy-qemu deploy-helm deploy-cfn deploy-test

# What CI installs on a fresh machine (qemu-user-static and shellcheck from
# Debian, helm from the Go module proxy). Safe to run again.
deploy-tools: $(HELM)
	@if ! command -v qemu-aarch64-static >/dev/null || ! command -v shellcheck >/dev/null; then \
	  apt-get update -qq && apt-get install -y -qq qemu-user-static shellcheck >/dev/null; fi

$(HELM):
	@echo "installing helm $(HELM_VERSION) (go install; about 4 min cold on 2 cores)"
	$(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

# Both image architectures compile with the Dockerfiles' flags.
deploy-cross:
	@mkdir -p $(DEPLOY_OUT)
	GOOS=linux GOARCH=amd64 CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(DEPLOY_LDFLAGS)" -o $(DEPLOY_OUT)/socketx-linux-amd64 ./cmd/socketx
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(DEPLOY_LDFLAGS)" -o $(DEPLOY_OUT)/socketx-linux-arm64 ./cmd/socketx

# The amd64 binary starts on a free loopback port and `socketx healthcheck`
# (the image's HEALTHCHECK) exits 0; SIGTERM then stops it cleanly.
deploy-smoke: SHELL := /bin/bash
deploy-smoke: deploy-cross
	@set -eu; bin=$(DEPLOY_OUT)/socketx-linux-amd64; \
	$$bin version | grep -q 'socketx deploy-check' || { echo "deploy-smoke: version not stamped"; $$bin version; exit 1; }; \
	port=18080; while (exec 3<>/dev/tcp/127.0.0.1/$$port) 2>/dev/null; do port=$$((port+1)); done; \
	export DOMAIN_MAP='{"*":{"upstream":"ws://127.0.0.1:9","allowedOrigins":["*"]}}' LISTEN_HOST=127.0.0.1 LISTEN_PORT=$$port ADMIN_LISTEN=off DRAIN_TIMEOUT=2s LOG_LEVEL=warn; \
	$$bin serve > $(DEPLOY_OUT)/smoke.log 2>&1 & pid=$$!; \
	trap 'kill $$pid 2>/dev/null || true' EXIT; \
	ok=0; for i in $$(seq 1 50); do if $$bin healthcheck 2>/dev/null; then ok=1; break; fi; sleep 0.2; done; \
	if [ $$ok != 1 ]; then echo "deploy-smoke: healthcheck failed on 127.0.0.1:$$port"; $$bin healthcheck || true; cat $(DEPLOY_OUT)/smoke.log; exit 1; fi; \
	LISTEN_PORT=1 $$bin healthcheck 2>/dev/null && { echo "deploy-smoke: healthcheck passed against a closed port"; exit 1; } || true; \
	kill -TERM $$pid; rc=0; wait $$pid || rc=$$?; trap - EXIT; \
	if [ $$rc != 0 ]; then echo "deploy-smoke: serve exited $$rc after SIGTERM"; cat $(DEPLOY_OUT)/smoke.log; exit 1; fi; \
	echo "deploy-smoke: ok (healthcheck on 127.0.0.1:$$port, clean exit on SIGTERM)"

# Graviton paths (crypto assembly, alignment): codec, mte and engine tests
# as linux/arm64 binaries under user-mode emulation.
deploy-qemu:
	@if ! command -v qemu-aarch64-static >/dev/null; then \
	  echo "deploy-qemu: SKIPPED - qemu-aarch64-static not installed (apt-get install -y qemu-user-static; CI installs it)"; \
	else \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) test -count=1 -timeout 10m -exec qemu-aarch64-static ./codec ./mte ./engine; \
	fi

deploy-helm: $(HELM)
	$(HELM) lint --strict deploy/helm/socketx
	$(HELM) lint --strict deploy/helm/socketx -f deploy/helm/socketx/ci/full-values.yaml
	$(HELM) template rel deploy/helm/socketx --kube-version $(KUBE_VERSION) > /dev/null
	$(HELM) template rel deploy/helm/socketx --kube-version $(KUBE_VERSION) -f deploy/helm/socketx/ci/full-values.yaml > /dev/null
	@for f in deploy/helm/examples/*.yaml; do \
	  echo "$(HELM) lint --strict deploy/helm/socketx -f $$f"; \
	  $(HELM) lint --strict deploy/helm/socketx -f $$f >/dev/null && $(HELM) template rel deploy/helm/socketx --kube-version $(KUBE_VERSION) -f $$f >/dev/null || exit 1; \
	done

# cfn-lint when the machine has it (the Go image ships it in pyenv; pip is
# not reachable here to install it), shellcheck for deploy.sh when present.
deploy-cfn:
	@if command -v cfn-lint >/dev/null; then cfn-lint deploy/aws/template.yaml && echo "cfn-lint: ok"; \
	else echo "deploy-cfn: cfn-lint not installed - SKIPPED (the Go tests in ./deploy still check the template)"; fi
	@if command -v shellcheck >/dev/null; then shellcheck deploy/aws/deploy.sh && echo "shellcheck: ok"; \
	else echo "deploy-cfn: shellcheck not installed - SKIPPED"; fi

# Dockerfile rules, CloudFormation references and settings, deploy.sh, and
# the rendered Helm manifests (helm required here, not skipped).
deploy-test: $(HELM)
	SOCKETX_REQUIRE_HELM=1 PATH="$(GOBIN_DIR):$$PATH" $(GO) test -count=1 ./deploy/
