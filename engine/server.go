package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"go.uber.org/zap"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/internal/gnetaddr"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/routing"
	"github.com/socketx/socketx-server/upstream"
)

// Config is the engine's plain configuration.
type Config struct {
	Addr  string // host:port of the public listener; port 0 picks a free one
	Loops int    // event loops; 0 means one per CPU

	ReadBufferSize  int // bytes per read(2), per loop
	WriteBufferSize int // static outbound buffer per connection

	MaxHeadSize    int // largest HTTP request head (431 beyond)
	MaxMessageSize int // largest application message (1009 beyond); client frames may add the SocketX framing
	MaxQueuedBytes int // outbound bytes queued per leg before 1013

	ClientPingInterval   time.Duration
	ClientPongTimeout    time.Duration
	UpstreamPingInterval time.Duration
	UpstreamPongTimeout  time.Duration
	WriteTimeout         time.Duration // queued output must drain within this
	HandshakeTimeout     time.Duration // each of: HTTP head, pairing, upstream upgrade
	DialTimeout          time.Duration // upstream connect, for the setup deadline
	CloseTimeout         time.Duration // wait for a close reply before dropping TCP

	TickInterval time.Duration // how often each loop sweeps its timers

	// CipherIdleRelease: a relaying session that has sealed and opened no
	// message for this long drops its two AES-GCM objects (≈ 1.5 KiB); the
	// next message rebuilds them. Idle connections then cost only their
	// keys. 0 never releases.
	CipherIdleRelease time.Duration

	// MemoryBudget bounds the bytes all connections together may hold in
	// partial messages, queued output and input pipelined before the
	// upstream is ready (membudget.go); each loop enforces its share. 0 =
	// no budget.
	MemoryBudget int64

	MaxConnections int            // upgraded connections beyond which upgrades get 503; 0 = no cap
	MaxDescriptors int            // descriptor budget for connections (fdbudget.go); 0 = no budget
	TrustedProxies []netip.Prefix // peers whose X-Forwarded-For/Proto are believed
	ProxyProtocol  bool           // expect a PROXY v1/v2 header on every connection
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		Addr:                 "0.0.0.0:8080",
		ReadBufferSize:       64 << 10,
		WriteBufferSize:      1024,
		MaxHeadSize:          8 << 10,
		MaxMessageSize:       1 << 20,
		MaxQueuedBytes:       4 << 20,
		ClientPingInterval:   54 * time.Second,
		ClientPongTimeout:    60 * time.Second,
		UpstreamPingInterval: 54 * time.Second,
		UpstreamPongTimeout:  60 * time.Second,
		WriteTimeout:         10 * time.Second,
		HandshakeTimeout:     10 * time.Second,
		DialTimeout:          10 * time.Second,
		CloseTimeout:         5 * time.Second,
		TickInterval:         time.Second,
		CipherIdleRelease:    30 * time.Second,
	}
}

// QueueHeadroom is how far MaxQueuedBytes must exceed MaxMessageSize: room
// for the frame and SocketX headers around a largest message
// (codec.MaxHeaderLen + mte.HeaderLen + mte.Overhead < 64), so one such
// message never trips the queue limit by itself.
const QueueHeadroom = 64

// The cross-field rules of Validate. Its error wraps them so that a caller
// naming the settings differently (package config names the environment
// variables) can tell which failed.
var (
	ErrClientPing     = errors.New("engine: ClientPingInterval must be positive and below ClientPongTimeout")
	ErrUpstreamPing   = errors.New("engine: UpstreamPingInterval must be positive and below UpstreamPongTimeout")
	ErrQueueBelowSize = errors.New("engine: MaxQueuedBytes must exceed MaxMessageSize by at least QueueHeadroom")
)

// Validate reports every inconsistent setting, joined.
func (c Config) Validate() error {
	var errs []error
	check := func(bad bool, err error) {
		if bad {
			errs = append(errs, err)
		}
	}
	check(c.MaxHeadSize < 256, errors.New("engine: MaxHeadSize below 256"))
	check(c.MaxMessageSize < 64, errors.New("engine: MaxMessageSize below 64"))
	check(c.MaxQueuedBytes < c.MaxMessageSize+QueueHeadroom, ErrQueueBelowSize)
	check(c.ClientPingInterval <= 0 || c.ClientPingInterval >= c.ClientPongTimeout, ErrClientPing)
	check(c.UpstreamPingInterval <= 0 || c.UpstreamPingInterval >= c.UpstreamPongTimeout, ErrUpstreamPing)
	check(c.WriteTimeout <= 0 || c.HandshakeTimeout <= 0 || c.DialTimeout <= 0 || c.CloseTimeout <= 0,
		errors.New("engine: timeouts must be positive"))
	check(c.TickInterval <= 0, errors.New("engine: TickInterval must be positive"))
	check(c.CipherIdleRelease < 0, errors.New("engine: CipherIdleRelease must not be negative"))
	check(c.MemoryBudget < 0, errors.New("engine: MemoryBudget must not be negative"))
	check(c.MaxDescriptors < 0 || c.MaxDescriptors > 0 && c.MaxDescriptors < 2*fdsPerConn,
		errors.New("engine: MaxDescriptors must be 0 (no budget) or at least 4"))
	return errors.Join(errs...)
}

// Dialer connects to an upstream off the event loops. upstream.Manager is
// the production implementation.
type Dialer interface {
	Dial(ctx context.Context, ep upstream.Endpoint) (net.Conn, error)
}

var _ Dialer = (*upstream.Manager)(nil)

// directDialer is a Dialer whose plain TCP dials the event loop can perform
// itself (see session.connectDirect); upstream.Manager is one.
type directDialer interface {
	StartDirect(ep upstream.Endpoint) (d upstream.DirectDial, addr *net.TCPAddr, ok bool, err error)
	FinishDirect(d *upstream.DirectDial, err error) error
}

var _ directDialer = (*upstream.Manager)(nil)

// Server is the gnet event handler. Create it with New and start it with Run.
type Server struct {
	gnet.BuiltinEventEngine

	cfg     Config
	profile *mte.Profile
	dialer  Dialer
	direct  directDialer // dialer, when it supports direct dials; else nil
	log     *zap.Logger
	siteLog *zap.Logger // log one frame up: lines checked in a helper (logRejection) name the helper's caller

	routes      atomic.Pointer[routing.Map]
	draining    atomic.Bool
	drainSpread atomic.Int64 // nanos over which live sessions get 1001; 0 = not draining
	stopping    atomic.Bool  // Stop called: connections torn down by gnet end with 1001
	rejectLog   limiter
	fds         fdBudget

	ctx    context.Context
	cancel context.CancelFunc

	eng      gnet.Engine
	addr     atomic.Pointer[net.TCPAddr]
	booted   chan struct{}
	loops    sync.Map // gnet.EventLoop → *loop
	loopList atomic.Pointer[[]*loop]
	loopsMu  sync.Mutex // guards loopList growth
	nextID   atomic.Uint64
}

// New builds a server. routes, profile and dialer are required.
func New(cfg Config, routes *routing.Map, profile *mte.Profile, dialer Dialer, log *zap.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if routes == nil || profile == nil || dialer == nil || log == nil {
		return nil, errors.New("engine: routes, profile, dialer and logger are required")
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, profile: profile, dialer: dialer, log: log, siteLog: log.WithOptions(zap.AddCallerSkip(1)),
		ctx: ctx, cancel: cancel, booted: make(chan struct{})}
	if share, largest := cfg.MemoryBudget/int64(s.numLoops()), int64(cfg.MaxMessageSize+mte.HeaderLen+mte.Overhead+codec.MaxHeaderLen); cfg.MemoryBudget > 0 && share < largest {
		cancel()
		return nil, fmt.Errorf("engine: MemoryBudget %d gives each of the %d event loops %d bytes, less than one largest message (%d)",
			cfg.MemoryBudget, s.numLoops(), share, largest)
	}
	s.direct, _ = dialer.(directDialer)
	s.fds.max = int64(cfg.MaxDescriptors)
	s.routes.Store(routes)
	empty := []*loop{}
	s.loopList.Store(&empty)
	return s, nil
}

// SetRoutes swaps the routing table; new upgrades use it, existing
// connections keep the route they were accepted with.
func (s *Server) SetRoutes(m *routing.Map) { s.routes.Store(m) }

// SetDraining makes /ready fail and refuses new upgrades with 503.
func (s *Server) SetDraining(v bool) { s.draining.Store(v) }

// Draining reports whether Drain or SetDraining(true) was called.
func (s *Server) Draining() bool { return s.draining.Load() }

// Drain starts a graceful shutdown: /ready fails, new upgrades get 503, and
// every open connection is closed with 1001 "going away" at a random moment
// within spread, so clients reconnect to other replicas without a
// thundering herd. Wait for Stats().Active to reach 0 (or a deadline), then
// call Stop.
func (s *Server) Drain(spread time.Duration) {
	s.draining.Store(true)
	s.drainSpread.Store(max(int64(spread), 1))
	for _, l := range *s.loopList.Load() {
		_ = l.el.Execute(s.ctx, l.sweepFn)
	}
}

// Run serves until Stop is called or the listener fails.
func (s *Server) Run() error {
	loops := s.cfg.Loops
	// gnet logs at warn and above; zap refuses (with a line on stderr) to
	// "increase" a logger to a level below its own (LOG_LEVEL=error).
	gnetLog := s.log
	if s.log.Core().Enabled(zap.InfoLevel) {
		gnetLog = s.log.WithOptions(zap.IncreaseLevel(zap.WarnLevel))
	}
	opts := []gnet.Option{
		gnet.WithMulticore(loops == 0),
		gnet.WithTicker(true),
		gnet.WithReadBufferCap(max(s.cfg.ReadBufferSize, 64<<10)),
		gnet.WithWriteBufferCap(s.cfg.WriteBufferSize),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithReuseAddr(true),
		gnet.WithLogger(gnetLog.Sugar()),
		gnet.WithAcceptErrorHandler(s.acceptFailed),
	}
	if loops > 0 {
		opts = append(opts, gnet.WithNumEventLoop(loops))
	}
	err := gnet.Run(s, "tcp://"+s.cfg.Addr, opts...)
	s.cancel()
	return err
}

// numLoops is how many event loops Run starts.
func (s *Server) numLoops() int {
	if s.cfg.Loops > 0 {
		return s.cfg.Loops
	}
	return runtime.NumCPU()
}

// Ready is closed once the listener is open; Addr is valid from then on.
func (s *Server) Ready() <-chan struct{} { return s.booted }

// Addr is the bound listener address (useful with port 0).
func (s *Server) Addr() *net.TCPAddr { return s.addr.Load() }

// Stop closes the listener and every connection.
func (s *Server) Stop(ctx context.Context) error {
	s.stopping.Store(true)
	s.cancel()
	select {
	case <-s.booted:
	default:
		return errors.New("engine: not running")
	}
	return s.eng.Stop(ctx)
}

// OnBoot records the engine and the bound address.
func (s *Server) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	if a, err := gnetaddr.Listener(eng); err == nil {
		s.addr.Store(a)
	} else {
		s.log.Warn("cannot read the listener address", zap.Error(err))
	}
	s.log.Info("Listening", zap.Stringer("addr", s.addr.Load()))
	close(s.booted)
	return gnet.None
}

// OnShutdown stops background work.
func (s *Server) OnShutdown(gnet.Engine) { s.cancel() }

// OnTick asks every loop to sweep its sessions on the loop itself.
func (s *Server) OnTick() (time.Duration, gnet.Action) {
	for _, l := range *s.loopList.Load() {
		_ = l.el.Execute(s.ctx, l.sweepFn)
	}
	if s.drainSpread.Load() > 0 {
		// Draining closes sessions at spread-out moments: sweep finely.
		return min(s.cfg.TickInterval, drainTick), gnet.None
	}
	return s.cfg.TickInterval, gnet.None
}

const drainTick = 50 * time.Millisecond

// loopOf returns the per-loop state of c's event loop, creating it on first use.
func (s *Server) loopOf(c gnet.Conn) *loop {
	el := c.EventLoop()
	if v, ok := s.loops.Load(el); ok {
		return v.(*loop)
	}
	s.loopsMu.Lock()
	defer s.loopsMu.Unlock()
	if v, ok := s.loops.Load(el); ok {
		return v.(*loop)
	}
	l := newLoop(s, el)
	s.loops.Store(el, l)
	list := append(append([]*loop(nil), *s.loopList.Load()...), l)
	s.loopList.Store(&list)
	return l
}

// OnOpen starts a client session for an accepted connection, or completes
// the upstream leg of one for a connection enrolled by the dialer.
func (s *Server) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	if up, ok := c.Context().(*leg); ok {
		return s.upstreamOpened(up, c)
	}
	l := s.loopOf(c)
	if !s.admit(l) {
		return nil, gnet.Close
	}
	sess := l.newSession(c)
	l.admitted(sess)
	c.SetContext(&sess.client)
	return nil, gnet.None
}

// OnClose tears down the other leg and accounts for the session.
func (s *Server) OnClose(c gnet.Conn, err error) gnet.Action {
	lg, ok := c.Context().(*leg)
	if !ok {
		return gnet.None
	}
	c.SetContext(nil)
	if lg.upstream && lg.sess.direct.Active() && !s.stopping.Load() {
		lg.sess.directConnectFailed(c, err)
	}
	lg.closed()
	return gnet.None
}

// OnTraffic dispatches to the leg's reader.
func (s *Server) OnTraffic(c gnet.Conn) gnet.Action {
	lg, ok := c.Context().(*leg)
	if !ok {
		_, _ = c.Discard(-1)
		return gnet.Close
	}
	if lg.upstream {
		lg.sess.readUpstream()
	} else {
		lg.sess.readClient()
	}
	return gnet.None
}

// Stats returns a snapshot of the counters summed over all loops.
func (s *Server) Stats() StatsSnapshot { return s.statsSnapshot() }

func connID(id uint64) string { return strconv.FormatUint(id, 36) }
