package testupstream

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// server is the HTTP plumbing every test upstream shares: a listener on
// 127.0.0.1, a context cancelled by Close, the set of hijacked connections
// (closed by Close, so handlers blocked in the WebSocket library return) and
// a WaitGroup over running handlers.
type server struct {
	url     string
	hs      *httptest.Server
	handle  func(ctx context.Context, w http.ResponseWriter, r *http.Request)
	ctx     context.Context
	cancel  context.CancelFunc
	handler sync.WaitGroup
	once    sync.Once

	mu       sync.Mutex // guards the following
	closed   bool
	conns    map[net.Conn]struct{}
	requests []RecordedRequest
}

// startServer listens on 127.0.0.1 (with TLS when tlsConfig is not nil) and
// registers Close with tb.Cleanup.
func startServer(tb testing.TB, tlsConfig *tls.Config, handle func(ctx context.Context, w http.ResponseWriter, r *http.Request)) *server {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{
		handle: handle,
		ctx:    ctx,
		cancel: cancel,
		conns:  make(map[net.Conn]struct{}),
	}
	s.hs = httptest.NewUnstartedServer(s)
	// Peers that fail TLS verification on purpose would otherwise log to
	// stderr; tests assert behaviour, not logs.
	s.hs.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tlsConfig != nil {
		s.hs.TLS = tlsConfig
		s.hs.StartTLS()
		s.url = "wss://" + strings.TrimPrefix(s.hs.URL, "https://") + "/"
	} else {
		s.hs.Start()
		s.url = "ws://" + strings.TrimPrefix(s.hs.URL, "http://") + "/"
	}
	tb.Cleanup(s.Close)
	return s
}

// ServeHTTP runs the server's handler unless the server is closing.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "testupstream: closed", http.StatusServiceUnavailable)
		return
	}
	s.handler.Add(1)
	s.mu.Unlock()
	defer s.handler.Done()

	hw := &hijackWriter{ResponseWriter: w, s: s}
	defer hw.release()
	s.handle(s.ctx, hw, r)
}

// Close stops the listener, cancels and unblocks every handler and waits for
// them to return. It is safe to call more than once.
func (s *server) Close() {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		conns := make([]net.Conn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		s.cancel()
		for _, c := range conns {
			c.Close()
		}
		s.hs.Close()
		s.handler.Wait()
	})
}

// record appends a copy of r's upgrade request to the log.
func (s *server) record(r *http.Request, subprotocol string) RecordedRequest {
	rr := RecordedRequest{
		Method:      r.Method,
		Host:        r.Host,
		RequestURI:  r.RequestURI,
		Path:        r.URL.Path,
		RawQuery:    r.URL.RawQuery,
		Header:      r.Header.Clone(),
		Subprotocol: subprotocol,
		RemoteAddr:  r.RemoteAddr,
	}
	s.mu.Lock()
	s.requests = append(s.requests, rr)
	s.mu.Unlock()
	return rr
}

// Requests returns a copy of every recorded request, in arrival order.
func (s *server) Requests() []RecordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RecordedRequest, len(s.requests))
	for i, rr := range s.requests {
		rr.Header = rr.Header.Clone()
		out[i] = rr
	}
	return out
}

// hijackWriter remembers the connection the WebSocket library hijacks so that
// Close can close it under a handler blocked inside the library.
type hijackWriter struct {
	http.ResponseWriter
	s    *server
	conn net.Conn
}

var _ http.Hijacker = (*hijackWriter)(nil)

func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("testupstream: response writer cannot hijack")
	}
	c, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.s.mu.Lock()
	closed := w.s.closed
	if !closed {
		w.s.conns[c] = struct{}{}
	}
	w.s.mu.Unlock()
	if closed {
		c.Close()
	}
	w.conn = c
	return c, brw, nil
}

// release closes and forgets the hijacked connection, if any.
func (w *hijackWriter) release() {
	if w.conn == nil {
		return
	}
	w.s.mu.Lock()
	delete(w.s.conns, w.conn)
	w.s.mu.Unlock()
	w.conn.Close()
}

// RecordedRequest is one HTTP request a server received, recorded before it
// was answered.
type RecordedRequest struct {
	Method      string
	Host        string
	RequestURI  string // the request target exactly as sent
	Path        string // r.URL.Path (percent-decoded)
	RawQuery    string
	Header      http.Header
	Subprotocol string // negotiated subprotocol, "" if none
	RemoteAddr  string
}
