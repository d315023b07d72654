// Package testupstream starts real upstream WebSocket servers on 127.0.0.1
// for the proxy's tests.
//
// The servers are written with github.com/coder/websocket, a different
// WebSocket implementation from the one the proxy uses, so a test that passes
// against them shows interoperability rather than agreement of one library
// with itself. Each constructor takes the test's testing.TB, listens on a
// fresh 127.0.0.1 port, registers Close with tb.Cleanup and returns a struct
// whose URL field is the ws:// (or wss://) address to dial, ending in "/".
//
// Servers:
//
//   - NewEcho: echoes every message with its type, records every upgrade
//     request (path, query, headers, negotiated subprotocol).
//   - NewTLSEcho: the echo behind TLS, with a freshly generated test CA.
//   - NewCloser: closes with a given code and reason after the first message
//     (or at once with the Immediately option).
//   - NewAbrupt: drops the TCP connection after the first message, without a
//     close frame.
//   - NewSlowReader: upgrades and never reads.
//   - NewNeverUpgrade: answers every request with a fixed HTTP status.
//   - NewGarbage: answers a valid 101 (selecting a subprotocol of the test's
//     choice, if asked) and then writes bytes that are not a WebSocket frame.
//   - NewPinger: pings once per connection, counts the pings it receives.
//
// Observation never needs a sleep: upgrade requests are recorded before the
// 101 response is written, so Requests is complete once the dialer has its
// handshake answer; everything that happens later is reported on a channel
// or through a method that waits on a context.
//
// Close cancels every handler, closes every hijacked TCP connection and waits
// for the handlers to return, so no goroutine outlives the test.
package testupstream
