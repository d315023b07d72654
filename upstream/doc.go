// Package upstream connects to upstream servers: Manager.Dial takes an
// Endpoint (host:port, TLS or not, server name) and returns a connection
// ready for a gnet event loop.
//
// It knows nothing of URLs, pathnames or DOMAIN_MAP: routing.Route.Resolve
// turns a route's base URL and the pathname a client asked for into a
// routing.Target, and the engine copies its Addr, TLS and ServerName into an
// Endpoint. upstream imports no other SocketX package, routing included, so
// neither depends on the other.
//
// Nor does it speak WebSocket: once a connection is enrolled, the engine
// sends the opening handshake and parses the upstream's 101 on its event loop
// with codec.AppendClientHandshake and codec.ParseHandshakeResponse
// (codec/upstreamhandshake.go), which never block.
//
// Manager.Dial is BLOCKING: call it from a short-lived goroutine, never on an
// event loop. An event loop dials a ws:// upstream named by an IP address
// itself instead: Manager.StartDirect, which never blocks, takes a dial slot
// and checks the backoff; the loop connects without blocking; and
// Manager.FinishDirect records the outcome. Manager.Dial bounds each dial by Config.DialTimeout, caps concurrent dials
// per upstream address (ErrTooManyDials when the wait would pass the dial
// deadline) and, after a failure, fails further dials to that address fast
// (ErrBackoff) for a window that doubles per consecutive failure up to
// Config.BackoffMax; a success resets it. Failures are *DialError values whose
// Reason is a short, bounded label for metrics and for choosing a close code.
//
// ws:// targets come back as a *net.TCPConn with TCP_NODELAY on, ready for
// gnet's EventLoop.Enroll. gnet has no TLS, so a wss:// target is dialed, its
// certificate verified (the system roots plus Config.ExtraRoots unless
// Config.TLSConfig says otherwise, ALPN "http/1.1", TLS 1.2 minimum), and
// then bridged: the Manager creates an
// AF_UNIX socketpair, runs two goroutines copying TLS<->pair with pooled
// fixed-size buffers, and returns the engine's end as a *net.UnixConn.
// When either side ends, both are closed: the engine closing its end makes the
// bridge send close_notify and close the TLS connection; the TLS peer ending
// makes the bridge close its pair end so the engine reads EOF. Half-closes are
// not propagated (WebSocket does not need them).
//
// Cost of one wss bridge, on top of the TLS connection itself: 2 goroutines,
// 2 buffers of Config.BridgeBufferSize (16 KiB by default, held for the
// connection's life), the crypto/tls state (record buffers, up to ~16 KiB
// each way while records are in flight) and 2 extra file descriptors (the
// socketpair; the TCP socket is the third). TestBridgeMemoryPerConn measures
// heap plus stacks over 200 bridged connections to a TLS echo server in
// another process: about 51 KiB per connection on linux/amd64 with the default
// buffers, 32 KiB of which are the two copy buffers.
package upstream
