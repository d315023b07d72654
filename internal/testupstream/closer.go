package testupstream

import (
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/coder/websocket"
)

// Closer is an upstream that closes with a fixed code and reason after the
// first data message it receives, or right after the upgrade with the
// Immediately option. It performs the close handshake (waiting up to the
// library's 5 s for the peer's close frame).
type Closer struct {
	URL string

	s      *server
	cfg    config
	code   websocket.StatusCode
	reason string
	closed chan error
}

// NewCloser starts a Closer. The reason must fit a close frame (≤ 123 bytes).
func NewCloser(tb testing.TB, code websocket.StatusCode, reason string, opts ...Option) *Closer {
	tb.Helper()
	c := &Closer{cfg: newConfig(opts), code: code, reason: reason, closed: make(chan error, eventBuffer)}
	c.s = startServer(tb, nil, c.serve)
	c.URL = c.s.url
	return c
}

func (c *Closer) serve(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	conn, ok := c.s.accept(&c.cfg, w, r, websocket.AcceptOptions{})
	if !ok {
		return
	}
	defer conn.CloseNow()
	if !c.cfg.immediately {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		if !deliver(ctx, &c.cfg, typ, data) {
			return
		}
	}
	report(c.closed, conn.Close(c.code, c.reason))
}

// Closed reports, per connection, that the server finished its close
// handshake: nil when the peer echoed the close frame, else the error.
func (c *Closer) Closed() <-chan error { return c.closed }

// Requests returns every upgrade request received so far, in order.
func (c *Closer) Requests() []RecordedRequest { return c.s.Requests() }

// Close stops the server and every connection; it waits for the handlers.
func (c *Closer) Close() { c.s.Close() }

// Abrupt is an upstream that drops the TCP connection after the first data
// message, without a close frame: a FIN by default, a reset with WithReset.
type Abrupt struct {
	URL string

	s       *server
	cfg     config
	dropped chan struct{}
}

// NewAbrupt starts an Abrupt server.
func NewAbrupt(tb testing.TB, opts ...Option) *Abrupt {
	tb.Helper()
	a := &Abrupt{cfg: newConfig(opts), dropped: make(chan struct{}, eventBuffer)}
	a.s = startServer(tb, nil, a.serve)
	a.URL = a.s.url
	return a
}

func (a *Abrupt) serve(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	hw := w.(*hijackWriter)
	conn, ok := a.s.accept(&a.cfg, w, r, websocket.AcceptOptions{})
	if !ok {
		return
	}
	defer conn.CloseNow()
	typ, data, err := conn.Read(ctx)
	if err != nil {
		return
	}
	if !deliver(ctx, &a.cfg, typ, data) {
		return
	}
	if tc, ok := hw.conn.(*net.TCPConn); ok && a.cfg.reset {
		tc.SetLinger(0)
	}
	hw.conn.Close() // under the library: no close frame
	report(a.dropped, struct{}{})
}

// Dropped receives once per connection the server dropped.
func (a *Abrupt) Dropped() <-chan struct{} { return a.dropped }

// Requests returns every upgrade request received so far, in order.
func (a *Abrupt) Requests() []RecordedRequest { return a.s.Requests() }

// Close stops the server and every connection; it waits for the handlers.
func (a *Abrupt) Close() { a.s.Close() }
