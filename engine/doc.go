// Package engine is the SocketX proxy itself: a gnet event handler and the
// per-connection state machine that owns both legs of every proxied
// connection on one event loop.
//
// A connection moves through these states, each bounded by a deadline that
// the loop's sweep enforces (there are no timers or goroutines per
// connection):
//
//	stateHead       HTTP request head being read (built-in routes answer here)
//	stateHello      101 sent; waiting for the SocketX hello (action 0)
//	statePair       waiting for the pairRequest (action 2)
//	statePathname   waiting for the encoded upstream request (action 4)
//	stateDialing    upstream being dialed off the loop, then enrolled on it
//	stateUpgrading  upstream WebSocket handshake in flight
//	stateRelay      messages flow both ways
//	stateClosed     both legs closed or closing
//
// Concurrency: every method that touches a session runs on the session's
// event loop. The only goroutine a connection ever gets is the short-lived
// dialer of its upstream, which touches no session state and returns to the
// loop through EventLoop.Enroll or EventLoop.Execute.
//
// The per-frame path (relay.go) parses frames in place on Peeked bytes,
// unmasks and decodes in place, and stages everything one read produces in
// one contiguous buffer per leg, sent with one Write: one syscall per leg
// per read (a Writev of many small iovecs would allocate in x/sys beyond
// eight entries, and copying a frame is cheaper than a syscall). It
// allocates nothing in steady state.
package engine
