package upstream

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Manager dials upstream targets. It is safe for concurrent use; one Manager
// serves the whole process.
type Manager struct {
	cfg     Config
	log     *zap.Logger
	tlsBase *tls.Config
	dialer  net.Dialer
	// dial is dialer.DialContext; tests replace it to hold dials in flight.
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	bufPool sync.Pool // *[]byte of cfg.BridgeBufferSize

	mu    sync.Mutex            // guards addrs
	addrs map[string]*addrState // one per upstream Addr; bounded by DOMAIN_MAP

	stats   counters
	bridges sync.WaitGroup // one count per live bridge goroutine
}

// addrState is the per-Addr dial slot semaphore and backoff state.
type addrState struct {
	sem chan struct{} // dial slots; len = dials in flight
	// addr is the Endpoint.Addr this state is for; tcp is it as an IP
	// literal and port, nil for a host name (which needs the resolver) or
	// a zoned IPv6 address: Dial only. Both are set once, never modified.
	addr string
	tcp  *net.TCPAddr

	mu       sync.Mutex // guards the following
	gen      uint64     // bumped on every counted outcome
	failures int        // consecutive failures
	until    time.Time  // fail fast before this instant (Config.Now clock)
	tlsConf  *tls.Config
}

// NewManager returns a Manager for cfg with defaults applied. It panics if
// cfg.Validate fails: validate configuration first. log must not be nil (use
// zap.NewNop()).
func NewManager(cfg Config, log *zap.Logger) *Manager {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	cfg = cfg.withDefaults()
	tlsBase, sysErr := cfg.baseTLSConfig()
	if sysErr != nil {
		log.Warn("system roots unavailable: wss:// upstreams are verified against the added CAs only",
			zap.Int("added_cas", len(cfg.ExtraRoots)), zap.Error(sysErr))
	}
	m := &Manager{
		cfg:     cfg,
		log:     log,
		tlsBase: tlsBase,
		dialer: net.Dialer{
			Timeout:  cfg.DialTimeout,
			Resolver: cfg.Resolver,
		},
		addrs: make(map[string]*addrState),
	}
	m.dial = m.dialer.DialContext
	size := cfg.BridgeBufferSize
	m.bufPool.New = func() any {
		b := make([]byte, size)
		return &b
	}
	return m
}

func (m *Manager) addr(addr string) *addrState {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.addrs[addr]
	if st == nil {
		st = &addrState{sem: make(chan struct{}, m.cfg.MaxConcurrentDials), addr: addr}
		if ap, err := netip.ParseAddrPort(addr); err == nil && ap.Addr().Zone() == "" {
			st.tcp = net.TCPAddrFromAddrPort(ap)
		}
		m.addrs[addr] = st
	}
	return st
}

// Endpoint is what Dial connects to. The engine fills it from the
// routing.Target that routing.Route.Resolve returned; this package does not
// import routing (see the package doc).
type Endpoint struct {
	// Addr is "host:port" to dial.
	Addr string
	// TLS is true for wss://: verify the server's certificate and bridge.
	TLS bool
	// ServerName is the host name for TLS SNI and certificate verification.
	ServerName string
}

// Dial connects to ep and returns a connection the engine can Enroll in a gnet
// event loop: a *net.TCPConn (TCP_NODELAY on) for ws://, or the engine end of
// a TLS bridge, a *net.UnixConn, for wss://. It blocks for up to
// Config.DialTimeout (or ctx's deadline, if sooner): never call it on an
// event loop. Every error is a *DialError; see Reason.
func (m *Manager) Dial(ctx context.Context, ep Endpoint) (net.Conn, error) {
	st := m.addr(ep.Addr)

	st.mu.Lock()
	if m.cfg.Now().Before(st.until) {
		st.mu.Unlock()
		return nil, m.fail(ep, ReasonBackoff, ErrBackoff)
	}
	gen := st.gen
	st.mu.Unlock()

	dctx, cancel := context.WithTimeout(ctx, m.cfg.DialTimeout)
	defer cancel()

	select {
	case st.sem <- struct{}{}:
	default:
		select {
		case st.sem <- struct{}{}:
		case <-dctx.Done():
			if ctx.Err() == context.Canceled {
				return nil, m.fail(ep, ReasonCanceled, ctx.Err())
			}
			return nil, m.fail(ep, ReasonTooManyDials, ErrTooManyDials)
		}
	}
	conn, reason, err := m.connect(ctx, dctx, st, ep)
	<-st.sem

	m.record(st, gen, ep, reason)
	if err != nil {
		return nil, m.fail(ep, reason, err)
	}
	m.stats.dialsOK.Add(1)
	return conn, nil
}

// connect does the TCP dial and, for wss, the TLS handshake and bridge.
func (m *Manager) connect(ctx, dctx context.Context, st *addrState, ep Endpoint) (net.Conn, string, error) {
	raw, err := m.dial(dctx, "tcp", ep.Addr)
	if err != nil {
		return nil, classifyDial(ctx, err), err
	}
	if tc, ok := raw.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	if !ep.TLS {
		return raw, ReasonOK, nil
	}
	tc := tls.Client(raw, m.tlsConfig(st, ep.ServerName))
	if err := tc.HandshakeContext(dctx); err != nil {
		_ = raw.Close()
		return nil, classifyHandshake(ctx, err), err
	}
	conn, err := m.newBridge(tc)
	if err != nil {
		_ = tc.Close()
		return nil, ReasonBridge, err
	}
	return conn, ReasonOK, nil
}

// DirectDial is a TCP dial that the caller performs itself, without
// blocking, on its own event loop: StartDirect takes a dial slot and says
// where to connect; FinishDirect records the outcome exactly once. It keeps
// what Dial keeps: the per-address dial cap, the backoff, the dial
// statistics. The zero value is no dial; it is 16 bytes, small enough to
// keep in a per-connection struct.
type DirectDial struct {
	st  *addrState
	gen uint64
}

// StartDirect begins a dial of ep that the caller performs itself with a
// non-blocking connect(2) to addr (shared: do not modify it). ok is false,
// with nothing reserved, when ep needs Dial instead: a wss:// endpoint, a
// host name to resolve, or a per-address dial cap that is full (Dial waits
// for a slot, StartDirect does not). An address in backoff returns a
// *DialError for ErrBackoff, as Dial does. It never blocks. A direct dial
// holds its slot until FinishDirect: the engine calls it when the
// upstream's first bytes arrive, so the cap bounds connects and upstream
// handshakes in flight together, where Dial's bounds connects only.
func (m *Manager) StartDirect(ep Endpoint) (d DirectDial, addr *net.TCPAddr, ok bool, err error) {
	if ep.TLS {
		return DirectDial{}, nil, false, nil
	}
	st := m.addr(ep.Addr)
	if st.tcp == nil {
		return DirectDial{}, nil, false, nil
	}
	st.mu.Lock()
	if m.cfg.Now().Before(st.until) {
		st.mu.Unlock()
		return DirectDial{}, nil, false, m.fail(ep, ReasonBackoff, ErrBackoff)
	}
	gen := st.gen
	st.mu.Unlock()
	select {
	case st.sem <- struct{}{}:
	default:
		return DirectDial{}, nil, false, nil
	}
	m.stats.directDials.Add(1)
	return DirectDial{st: st, gen: gen}, st.tcp, true, nil
}

// Active reports whether d was started and not yet finished.
func (d *DirectDial) Active() bool { return d.st != nil }

// FinishDirect records the outcome of d: nil when the connection is
// established, else the connect error (context.DeadlineExceeded for a dial
// the caller timed out, context.Canceled for one it abandoned). It frees the
// dial slot, resets d, and returns the *DialError for a failure, nil for a
// success. On a finished or zero d it does nothing and returns nil.
func (m *Manager) FinishDirect(d *DirectDial, err error) error {
	st, gen := d.st, d.gen
	if st == nil {
		return nil
	}
	*d = DirectDial{}
	<-st.sem
	ep := Endpoint{Addr: st.addr}
	reason := ReasonOK
	switch {
	case err == nil:
	case errors.Is(err, context.Canceled):
		reason = ReasonCanceled
	default:
		reason = classifyDial(context.Background(), err)
	}
	m.record(st, gen, ep, reason)
	if err != nil {
		return m.fail(ep, reason, err)
	}
	m.stats.dialsOK.Add(1)
	return nil
}

// tlsConfig returns the cached per-server clone of the base TLS config.
func (m *Manager) tlsConfig(st *addrState, serverName string) *tls.Config {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.tlsConf == nil || st.tlsConf.ServerName != serverName {
		c := m.tlsBase.Clone()
		c.ServerName = serverName
		st.tlsConf = c
	}
	return st.tlsConf
}

// record updates the backoff state with a dial's outcome. Only the first
// outcome of the dials started in the same generation counts, so a burst of
// concurrent dials failing together is one failure, not many.
func (m *Manager) record(st *addrState, gen uint64, ep Endpoint, reason string) {
	if reason != ReasonOK && !countsAsFailure(reason) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if reason == ReasonOK {
		if st.failures != 0 {
			st.failures, st.until = 0, time.Time{}
			st.gen++
		}
		return
	}
	if gen != st.gen {
		return
	}
	st.gen++
	st.failures++
	window := m.cfg.BackoffMax
	if st.failures <= 32 {
		if w := m.cfg.BackoffBase << (st.failures - 1); w > 0 && w < window {
			window = w
		}
	}
	st.until = m.cfg.Now().Add(window)
	if ce := m.log.Check(zap.WarnLevel, "upstream dial failed; backing off"); ce != nil {
		ce.Write(zap.String("addr", ep.Addr), zap.String("reason", reason),
			zap.Int("failures", st.failures), zap.Float64("window_seconds", window.Seconds()))
	}
}

func (m *Manager) fail(ep Endpoint, reason string, err error) *DialError {
	m.stats.failed(reason)
	return &DialError{Target: ep.Addr, Reason: reason, Err: err}
}

// counters are the Manager's metrics, updated with atomic adds.
type counters struct {
	dialsOK      atomic.Uint64
	directDials  atomic.Uint64 // started with StartDirect
	dialsFailed  [len(dialReasons)]atomic.Uint64
	bridgesOpen  atomic.Int64
	bridgesTotal atomic.Uint64
	bytesUp      atomic.Uint64 // engine -> TLS upstream
	bytesDown    atomic.Uint64 // TLS upstream -> engine
}

func (c *counters) failed(reason string) {
	for i, r := range dialReasons {
		if r == reason {
			c.dialsFailed[i].Add(1)
			return
		}
	}
	c.dialsFailed[len(dialReasons)-1].Add(1) // ReasonOther is last
}

// Stats is a snapshot of a Manager's counters.
type Stats struct {
	DialsOK uint64
	// DialsFailed maps every dial Reason label (all present, maybe 0) to
	// its count.
	DialsFailed map[string]uint64
	// DirectDials counts the dials the caller performed itself
	// (StartDirect); they are in DialsOK and DialsFailed too.
	DirectDials uint64
	// BridgesOpen is the number of live wss bridges; BridgesTotal the number
	// ever opened.
	BridgesOpen  int64
	BridgesTotal uint64
	// BridgeBytesUp/Down count bytes copied engine->upstream and
	// upstream->engine through bridges (plaintext).
	BridgeBytesUp   uint64
	BridgeBytesDown uint64
}

// Stats returns a snapshot of the counters.
func (m *Manager) Stats() Stats {
	s := Stats{
		DialsOK:         m.stats.dialsOK.Load(),
		DialsFailed:     make(map[string]uint64, len(dialReasons)),
		DirectDials:     m.stats.directDials.Load(),
		BridgesOpen:     m.stats.bridgesOpen.Load(),
		BridgesTotal:    m.stats.bridgesTotal.Load(),
		BridgeBytesUp:   m.stats.bytesUp.Load(),
		BridgeBytesDown: m.stats.bytesDown.Load(),
	}
	for i, r := range dialReasons {
		s.DialsFailed[r] = m.stats.dialsFailed[i].Load()
	}
	return s
}
