package testupstream

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"
)

// Pinger is an upstream that sends one ping on every connection right after
// the upgrade and records whether the pong came back. It echoes data messages
// like Echo, and counts the pings it receives (answering each with a pong).
type Pinger struct {
	URL string

	s      *server
	cfg    config
	pings  atomic.Int64
	pongs  atomic.Int64
	ponged chan struct{}
	once   sync.Once

	mu      sync.Mutex // guards the following
	waiters []pingWaiter
}

type pingWaiter struct {
	n    int64
	done chan struct{}
}

// NewPinger starts a Pinger.
func NewPinger(tb testing.TB, opts ...Option) *Pinger {
	tb.Helper()
	p := &Pinger{cfg: newConfig(opts), ponged: make(chan struct{})}
	p.s = startServer(tb, nil, p.serve)
	p.URL = p.s.url
	return p
}

func (p *Pinger) serve(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	conn, ok := p.s.accept(&p.cfg, w, r, websocket.AcceptOptions{OnPingReceived: p.onPing})
	if !ok {
		return
	}
	defer conn.CloseNow()

	// The ping's pong is processed by the read loop, so read concurrently.
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			typ, data, err := conn.Read(ctx)
			if err != nil {
				conn.CloseNow() // unblocks Ping
				return
			}
			if !deliver(ctx, &p.cfg, typ, data) || conn.Write(ctx, typ, data) != nil {
				conn.CloseNow()
				return
			}
		}
	})
	if conn.Ping(ctx) == nil {
		p.pongs.Add(1)
		p.once.Do(func() { close(p.ponged) })
	}
	readers.Wait()
}

func (p *Pinger) onPing(context.Context, []byte) bool {
	n := p.pings.Add(1)
	p.mu.Lock()
	kept := p.waiters[:0]
	for _, w := range p.waiters {
		if n >= w.n {
			close(w.done)
		} else {
			kept = append(kept, w)
		}
	}
	p.waiters = kept
	p.mu.Unlock()
	return true
}

// PingsReceived is the number of pings received over all connections.
func (p *Pinger) PingsReceived() int64 { return p.pings.Load() }

// WaitPings waits until at least n pings were received over all
// connections, or ctx ends.
func (p *Pinger) WaitPings(ctx context.Context, n int64) error {
	done := make(chan struct{})
	p.mu.Lock()
	if p.pings.Load() >= n {
		p.mu.Unlock()
		return nil
	}
	p.waiters = append(p.waiters, pingWaiter{n: n, done: done})
	p.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Pongs is the number of the server's pings that were answered.
func (p *Pinger) Pongs() int64 { return p.pongs.Load() }

// PongReceived is closed when the first pong to the server's ping arrives.
func (p *Pinger) PongReceived() <-chan struct{} { return p.ponged }

// Requests returns every upgrade request received so far, in order.
func (p *Pinger) Requests() []RecordedRequest { return p.s.Requests() }

// Close stops the server and every connection; it waits for the handlers.
func (p *Pinger) Close() { p.s.Close() }
