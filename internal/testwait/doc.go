// Package testwait is the one bounded "wait until" of the module's tests:
// it polls a condition that has no event to wait on (an engine counter after
// a peer vanished, a metric after the loops reported a close) until it holds
// or a deadline passes.
//
// Prefer an event when there is one (a channel, a context, a log line that
// wakes the reader); poll only what has none. Every wait is bounded, so a
// regression fails the test with what it waited for instead of hanging it.
//
// The package imports nothing of the module, so every package's tests may
// use it, including the internal tests of engine and upstream (which cannot
// import internal/enginetest).
package testwait
