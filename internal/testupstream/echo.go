package testupstream

import (
	"context"
	"crypto/tls"
	"net/http"
	"testing"

	"github.com/coder/websocket"
)

// Echo is an upstream that echoes every data message with the same type:
// text stays text, binary stays binary. It answers pings (the library
// default).
type Echo struct {
	// URL is "ws://127.0.0.1:port/" (wss:// for a TLSEcho).
	URL string

	s     *server
	cfg   config
	ended chan Ending
}

// NewEcho starts an Echo. It accepts the subprotocols "chat" and "superchat"
// when offered (see WithSubprotocols) and reads messages up to 64 MiB (see
// WithReadLimit).
func NewEcho(tb testing.TB, opts ...Option) *Echo {
	tb.Helper()
	return newEcho(tb, nil, opts)
}

func newEcho(tb testing.TB, tlsConfig *tls.Config, opts []Option) *Echo {
	tb.Helper()
	e := &Echo{cfg: newConfig(opts), ended: make(chan Ending, eventBuffer)}
	e.s = startServer(tb, tlsConfig, e.serve)
	e.URL = e.s.url
	return e
}

func (e *Echo) serve(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	c, ok := e.s.accept(&e.cfg, w, r, websocket.AcceptOptions{})
	if !ok {
		return
	}
	defer c.CloseNow()
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			report(e.ended, endingOf(err))
			return
		}
		if !deliver(ctx, &e.cfg, typ, data) {
			return
		}
		if err := c.Write(ctx, typ, data); err != nil {
			report(e.ended, endingOf(err))
			return
		}
	}
}

// Requests returns every upgrade request received so far, in order. A
// request is recorded before its 101 response is written.
func (e *Echo) Requests() []RecordedRequest { return e.s.Requests() }

// Ended reports, per connection, how it ended (the peer's close code and
// reason, or -1). Up to 1024 endings are buffered.
func (e *Echo) Ended() <-chan Ending { return e.ended }

// Close stops the server and every connection; it waits for the handlers.
func (e *Echo) Close() { e.s.Close() }
