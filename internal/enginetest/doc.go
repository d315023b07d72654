// Package enginetest runs the real proxy in-process for tests: an
// engine.Server on 127.0.0.1 with its routes, MTE profile and upstream
// dialer built the way cmd/socketx serve builds them, started before Start
// returns and stopped when the test ends.
//
// It is the one home of "start a proxy for a test" for the suites outside
// package engine (hardening, client, perf/loadgen). Each suite states only
// what it needs to differ from the base configuration (engine.DefaultConfig
// on 127.0.0.1:0 with one event loop) in Options.
//
// engine's own tests cannot use it: enginetest imports engine, so package
// engine importing enginetest would be an import cycle. They keep their
// harness in engine/harness_test.go. The bounded "wait until" lives apart,
// in internal/testwait, so that engine's and upstream's tests can share it.
//
// Logs captures the proxy's log and encodes every entry's fields when the
// entry is written, as the production JSON core does: a core that keeps the
// zap.Field values and encodes them later (zaptest/observer) reads []byte
// fields after the engine has reused the buffer they point into.
package enginetest
