package wsecho

import (
	"context"
	"net"
	"sync"
	"sync/atomic"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"

	"github.com/socketx/socketx-server/internal/gnetaddr"
)

// Config is the plain configuration of a Server.
type Config struct {
	// Addr is host:port to listen on; port 0 picks a free one.
	Addr string
	// Loops is the number of event loops; 0 means one per CPU.
	Loops int
	// MaxPayload is the largest frame payload accepted (default 16 MiB);
	// a longer frame closes the connection with 1009.
	MaxPayload int64
	// Logger receives gnet's own messages; nil discards them.
	Logger logging.Logger
}

// Stats are cumulative counters.
type Stats struct {
	Accepted, Upgraded, Closed uint64
	Frames, Bytes              uint64 // data frames and payload bytes echoed
}

// Server is a running (or ready to run) echo server.
type Server struct {
	gnet.BuiltinEventEngine

	cfg   Config
	ready chan struct{}

	mu   sync.Mutex // guards the following
	eng  gnet.Engine
	addr *net.TCPAddr

	accepted, upgraded, closed, frames, bytes atomic.Uint64
}

// New returns a server for cfg; start it with Run.
func New(cfg Config) *Server {
	if cfg.MaxPayload <= 0 {
		cfg.MaxPayload = 16 << 20
	}
	return &Server{cfg: cfg, ready: make(chan struct{})}
}

// Run serves until Stop; it blocks.
func (s *Server) Run() error {
	opts := []gnet.Option{
		gnet.WithMulticore(s.cfg.Loops == 0),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithReuseAddr(true),
		gnet.WithReadBufferCap(64 << 10),
	}
	if s.cfg.Loops > 0 {
		opts = append(opts, gnet.WithNumEventLoop(s.cfg.Loops))
	}
	if s.cfg.Logger != nil {
		opts = append(opts, gnet.WithLogger(s.cfg.Logger))
	} else {
		opts = append(opts, gnet.WithLogger(nopLogger{}))
	}
	return gnet.Run(s, "tcp://"+s.cfg.Addr, opts...)
}

// Ready is closed once the listener is bound.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr is the bound listener address (nil before Ready).
func (s *Server) Addr() *net.TCPAddr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// URL is the ws:// URL of the server (valid after Ready).
func (s *Server) URL() string { return "ws://" + s.Addr().String() }

// Stop stops the event loops and closes every connection.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	eng := s.eng
	s.mu.Unlock()
	if err := eng.Validate(); err != nil {
		return ErrNotRunning
	}
	return eng.Stop(ctx)
}

// Stats returns the cumulative counters.
func (s *Server) Stats() Stats {
	return Stats{
		Accepted: s.accepted.Load(), Upgraded: s.upgraded.Load(), Closed: s.closed.Load(),
		Frames: s.frames.Load(), Bytes: s.bytes.Load(),
	}
}

// OnBoot records the engine and the bound address.
func (s *Server) OnBoot(eng gnet.Engine) gnet.Action {
	addr, err := gnetaddr.Listener(eng)
	if err != nil {
		return gnet.Shutdown
	}
	s.mu.Lock()
	s.eng, s.addr = eng, addr
	s.mu.Unlock()
	close(s.ready)
	return gnet.None
}

// OnOpen gives the connection its state.
func (s *Server) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	s.accepted.Add(1)
	c.SetContext(&conn{})
	return nil, gnet.None
}

// OnClose counts the connection.
func (s *Server) OnClose(gnet.Conn, error) gnet.Action {
	s.closed.Add(1)
	return gnet.None
}

// OnTraffic parses everything buffered and answers it with one write.
func (s *Server) OnTraffic(c gnet.Conn) gnet.Action {
	st, _ := c.Context().(*conn)
	if st == nil {
		return gnet.Close
	}
	in, _ := c.Peek(-1)
	out := outPool.Get().(*[]byte)
	res := st.process(in, (*out)[:0], s.cfg.MaxPayload)
	if res.upgraded {
		s.upgraded.Add(1)
	}
	if res.frames > 0 {
		s.frames.Add(uint64(res.frames))
		s.bytes.Add(uint64(res.bytes))
	}
	if res.consumed > 0 {
		// Discard(n) with n <= 0 drops everything buffered: a frame that
		// is not complete yet (consumed 0) must stay for the next read.
		_, _ = c.Discard(res.consumed)
	}
	if len(res.out) > 0 {
		_, _ = c.Write(res.out) // gnet copies what the socket does not take
	}
	if cap(res.out) <= maxPooled {
		*out = res.out[:0]
		outPool.Put(out)
	}
	if res.close {
		return gnet.Close
	}
	return gnet.None
}

// maxPooled bounds the output buffers kept for reuse.
const maxPooled = 1 << 20

var outPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

type nopLogger struct{}

func (nopLogger) Debugf(string, ...any) {}
func (nopLogger) Infof(string, ...any)  {}
func (nopLogger) Warnf(string, ...any)  {}
func (nopLogger) Errorf(string, ...any) {}
func (nopLogger) Fatalf(string, ...any) {}
