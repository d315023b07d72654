package testupstream

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net/http"
	"testing"
)

// NeverUpgrade is a plain HTTP server that answers every request, upgrade or
// not, with a fixed status and the status text as body.
type NeverUpgrade struct {
	URL string

	s      *server
	status int
}

// NewNeverUpgrade starts a NeverUpgrade answering with status (e.g. 403, or
// 200 to answer an upgrade request without upgrading).
func NewNeverUpgrade(tb testing.TB, status int) *NeverUpgrade {
	tb.Helper()
	n := &NeverUpgrade{status: status}
	n.s = startServer(tb, nil, n.serve)
	n.URL = n.s.url
	return n
}

func (n *NeverUpgrade) serve(_ context.Context, w http.ResponseWriter, r *http.Request) {
	n.s.record(r, "")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(n.status)
	io.WriteString(w, http.StatusText(n.status))
}

// Requests returns every request received so far, in order.
func (n *NeverUpgrade) Requests() []RecordedRequest { return n.s.Requests() }

// Close stops the server; it waits for the handlers.
func (n *NeverUpgrade) Close() { n.s.Close() }

// DefaultGarbage is what a Garbage server writes after its 101 response. The
// first byte sets all three RSV bits with the reserved opcode 0xF and the
// second announces a masked frame (servers must not mask) with a 64-bit
// length whose most significant bit is set: invalid three ways over.
const DefaultGarbage = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xffnot a websocket frame"

// Garbage answers an upgrade request with a valid 101 response and then
// writes bytes that are not a WebSocket frame, then reads and discards until
// the peer closes.
type Garbage struct {
	URL string

	s       *server
	cfg     config
	written chan struct{}
}

// NewGarbage starts a Garbage server (see WithGarbage and
// WithSelectedSubprotocol).
func NewGarbage(tb testing.TB, opts ...Option) *Garbage {
	tb.Helper()
	g := &Garbage{cfg: newConfig(opts), written: make(chan struct{}, eventBuffer)}
	g.s = startServer(tb, nil, g.serve)
	g.URL = g.s.url
	return g
}

func (g *Garbage) serve(_ context.Context, w http.ResponseWriter, r *http.Request) {
	g.s.record(r, "")
	key := r.Header.Get("Sec-WebSocket-Key")
	if key == "" {
		http.Error(w, "testupstream: not a websocket upgrade", http.StatusBadRequest)
		return
	}
	conn, brw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	bw := bufio.NewWriter(conn)
	bw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ")
	bw.WriteString(acceptKey(key))
	if g.cfg.selected != "" {
		bw.WriteString("\r\nSec-WebSocket-Protocol: " + g.cfg.selected)
	}
	bw.WriteString("\r\n\r\n")
	bw.Write(g.cfg.garbage)
	if bw.Flush() != nil {
		return
	}
	report(g.written, struct{}{})
	io.Copy(io.Discard, brw.Reader) // until the peer or Close closes conn
}

// Written receives once per connection after the 101 and the garbage were
// written.
func (g *Garbage) Written() <-chan struct{} { return g.written }

// Requests returns every request received so far, in order.
func (g *Garbage) Requests() []RecordedRequest { return g.s.Requests() }

// Close stops the server and every connection; it waits for the handlers.
func (g *Garbage) Close() { g.s.Close() }

// acceptKey computes Sec-WebSocket-Accept (RFC 6455 §4.2.2 step 5.4).
func acceptKey(key string) string {
	h := sha1.New()
	io.WriteString(h, key)
	io.WriteString(h, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
