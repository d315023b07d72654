// Package hardening holds the proxy's resilience suite: a table of hostile
// inputs over the public port of a real in-process proxy, fault injection
// against real sockets (upstreams that refuse, reset, stall, close or send
// garbage; TLS and DNS failures; a metering endpoint that goes down; a
// replica killed behind HAProxy), a man in the middle (internal/mitm)
// between Go clients and the real binary with its server keys and their
// rotation, and a bounded soak.
//
// Everything lives in _test.go files: the package has no API. The short
// versions run in CI under the race detector (make race); the long soak is
// gated by SOCKETX_SOAK:
//
//	SOCKETX_SOAK=10m go test -run Soak -timeout 20m ./hardening
//
// The figures of the last long runs are in docs/HARDENING.md.
package hardening
