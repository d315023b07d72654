// Package engine is the SocketX proxy itself: a gnet event handler and the
// per-connection state machine that owns both legs of every proxied
// connection on one event loop.
//
// A connection moves through these states, each bounded by a deadline that
// the loop's sweep enforces (there are no per-connection timers):
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
// Each leg (the client's TCP connection, the upstream's) has its own
// lifecycle (leg.go): legUnconnected (the upstream leg until it is
// enrolled), legOpen, legLingering (closed by us, last output flushing),
// legWriteShut (flushed, write side shut, input discarded until the peer's
// EOF or CloseTimeout), legClosing (Close called) and legGone (gnet
// reported the close). The session is removed once its client leg is gone
// and its upstream leg is gone or was never connected. Every way a session
// ends, with the close code and reason each leg gets, is in closes.go;
// the one outcome each connection is counted under when it is removed
// (relayed, rejected by reason, shed, ...) is in outcome.go.
//
// Concurrency: every method that touches a session runs on the session's
// event loop. A ws:// upstream at an IP address is connected on the loop
// itself (dial.go: a non-blocking connect(2), the socket added to the loop
// with gnet's EnrollFD, the dial's slot and backoff kept by
// upstream.Manager.StartDirect/FinishDirect). Any other upstream (a host
// name to resolve, wss://, an address whose dial slots are taken) gets one
// short-lived goroutine that dials it, touches no session state and returns
// to the loop through EventLoop.Enroll or EventLoop.Execute. A wss:// upstream also
// gets, for the connection's life, the two goroutines of its TLS bridge
// (upstream.Manager), which copy between the TLS connection and a
// socketpair whose other end the loop owns like any TCP leg; they touch no
// session state either.
//
// Work order on a loop: each pass of gnet's poller runs the I/O events
// epoll_wait reported (OnTraffic, OnClose, writes), then the tasks queued
// before the pass started (EventLoop.Execute: the sweep, the pairing task,
// closes); a task queued by a task waits for the next pass. The key
// exchange, ≈ 20 times a relayed message's cost, is the one piece of setup
// work that does not run on the read that asks for it: the read parks the
// pairRequest in the loop's pairing FIFO and the pairing task answers
// pairBatch of them per pass (pairqueue.go), so a burst of reconnecting
// clients delays the loop's relayed frames by at most one batch at a time.
//
// The per-frame path (relay.go) parses frames in place on Peeked bytes,
// unmasks and decodes in place, and stages everything one read produces in
// one contiguous buffer per leg, sent with one Write: one syscall per leg
// per read (a Writev of many small iovecs would allocate in x/sys beyond
// eight entries, and copying a frame is cheaper than a syscall). A frame
// not all buffered yet is copied as it arrives into one buffer sized from
// its header (assemble.go), so a trickled frame costs O(bytes). It
// allocates nothing in steady state. What connections hold is bounded by
// two budgets: descriptors (fdbudget.go) and memory (membudget.go).
//
// Words (docs/ARCHITECTURE.md): a session has two legs, the client leg
// (the SocketX client that dialed us) and the upstream leg (the backend we
// dial, whose WebSocket handshake we send as the upstream handshake);
// messages flow client → upstream, where the engine decodes them, and
// upstream → client, where it encodes them.
package engine
