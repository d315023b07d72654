package testupstream

import (
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/coder/websocket"
)

// slowReadBuffer is the SO_RCVBUF a SlowReader sets on each connection so a
// stalled upstream backs up after little data.
const slowReadBuffer = 4096

// SlowReader is an upstream that upgrades and then never reads, holding the
// connection until Close. It tests the proxy's bounded queue toward a stalled
// upstream. Its sockets use a small receive buffer (4 KiB requested).
type SlowReader struct {
	URL string

	s        *server
	cfg      config
	accepted chan struct{}
}

// NewSlowReader starts a SlowReader.
func NewSlowReader(tb testing.TB, opts ...Option) *SlowReader {
	tb.Helper()
	s := &SlowReader{cfg: newConfig(opts), accepted: make(chan struct{}, eventBuffer)}
	s.s = startServer(tb, nil, s.serve)
	s.URL = s.s.url
	return s
}

func (s *SlowReader) serve(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	hw := w.(*hijackWriter)
	conn, ok := s.s.accept(&s.cfg, w, r, websocket.AcceptOptions{})
	if !ok {
		return
	}
	defer conn.CloseNow()
	if tc, ok := hw.conn.(*net.TCPConn); ok {
		tc.SetReadBuffer(slowReadBuffer)
	}
	report(s.accepted, struct{}{})
	<-ctx.Done()
}

// Accepted receives once per upgraded connection.
func (s *SlowReader) Accepted() <-chan struct{} { return s.accepted }

// Requests returns every upgrade request received so far, in order.
func (s *SlowReader) Requests() []RecordedRequest { return s.s.Requests() }

// Close stops the server and every connection; it waits for the handlers.
func (s *SlowReader) Close() { s.s.Close() }
