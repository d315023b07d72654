package engine

import (
	"context"
	"crypto/rand"
	mrand "math/rand/v2"
	"net"
	"time"

	"github.com/panjf2000/gnet/v2"
	"go.uber.org/zap"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/mte"
)

// loop is the state one event loop shares among its sessions: the session
// list the sweep walks, scratch buffers reused by every read, a mask source,
// and counters. Only its own event loop touches it (stats are atomics).
type loop struct {
	srv      *Server
	el       gnet.EventLoop
	sessions []*session
	sweepFn  gnet.RunnableFunc
	rng      *mrand.ChaCha8

	// Output staged during one read, one contiguous buffer per leg, each
	// written with one Write before the read's bytes are discarded. (An
	// iovec of many frames would allocate in x/sys/unix.Writev beyond 8
	// entries, and copying a frame costs less than a syscall.)
	toClient []byte
	toUp     []byte
	ctl      [codec.MaxHeaderLen + 125]byte
	scratch  []byte // pairing responses and other setup-time output

	// Memory budget (membudget.go): this loop's share, what its sessions
	// hold, and the sessions holding anything.
	memLimit int64
	memUsed  int64
	holders  []*session

	stats   Stats
	metrics loopMetrics
	debug   bool // per-message debug events enabled; refreshed by the sweep

	drainAssigned bool

	pending pendingFIFO // sessions not yet paired, oldest first (fdbudget.go)
	pairs   pairFIFO    // sessions whose pairRequest waits for the pairing task (pairqueue.go)
}

// maxStaged is how much output a read stages per leg before writing early.
const maxStaged = 256 << 10

func newLoop(s *Server, el gnet.EventLoop) *loop {
	var seed [32]byte
	_, _ = rand.Read(seed[:])
	l := &loop{
		srv:      s,
		el:       el,
		rng:      mrand.NewChaCha8(seed),
		toClient: make([]byte, 0, 64<<10),
		toUp:     make([]byte, 0, 64<<10),
		memLimit: s.cfg.MemoryBudget / int64(s.numLoops()),
	}
	l.metrics.init()
	l.debug = s.log.Core().Enabled(zap.DebugLevel)
	l.sweepFn = func(context.Context) error { l.sweep(); return nil }
	l.pairs.run = func(context.Context) error { l.runPairings(); return nil }
	return l
}

func (l *loop) newSession(c gnet.Conn) *session {
	s := l.srv
	now := time.Now().UnixNano()
	sess := &session{
		loop:     l,
		index:    len(l.sessions),
		id:       s.nextID.Add(1),
		state:    stateHead,
		deadline: now + int64(s.cfg.HandshakeTimeout),
		audit:    audit{openedAt: now},
	}
	// A client message is the application message plus the SocketX header
	// and MTE overhead, so WS_MAX_MESSAGE_SIZE counts what applications send.
	sess.client = leg{sess: sess, conn: c, state: legOpen, lastSeen: now,
		maxMsg: int64(s.cfg.MaxMessageSize + mte.HeaderLen + mte.Overhead)}
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		sess.remote.peer = a.AddrPort().Addr().Unmap()
		sess.remote.addr = sess.remote.peer.String()
	}
	sess.up = leg{sess: sess, state: legUnconnected, upstream: true, maxMsg: int64(s.cfg.MaxMessageSize)}
	sess.client.asm.Reset()
	l.sessions = append(l.sessions, sess)
	l.stats.ConnectionsOpened.Add(1)
	return sess
}

func (l *loop) removeSession(sess *session) {
	i := sess.index
	if i < 0 || i >= len(l.sessions) || l.sessions[i] != sess {
		return
	}
	last := len(l.sessions) - 1
	l.sessions[i] = l.sessions[last]
	l.sessions[i].index = i
	l.sessions[last] = nil
	l.sessions = l.sessions[:last]
	sess.index = -1
	l.forget(sess)
	l.metrics.outcomes[sess.outcome].Add(1)
	l.stats.ConnectionsClosed.Add(1)
	if sess.client.ws {
		l.stats.WebSocketsClosed.Add(1)
	}
	sess.logClosed()
}

// mask returns a fresh masking key for a frame to an upstream.
func (l *loop) mask() [4]byte {
	v := uint32(l.rng.Uint64())
	return [4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
}

// controlFrame builds a control frame in the loop's scratch; valid until
// the next call.
func (l *loop) controlFrame(toUpstream bool, op codec.OpCode, payload []byte) []byte {
	if toUpstream {
		m := l.mask()
		return codec.AppendControlFrame(l.ctl[:0], op, payload, &m)
	}
	return codec.AppendControlFrame(l.ctl[:0], op, payload, nil)
}

// assignDrain spreads the sessions' 1001 closes uniformly over the drain
// window so clients do not reconnect elsewhere all at once.
func (l *loop) assignDrain(now, spread int64) {
	l.drainAssigned = true
	for _, sess := range l.sessions {
		if sess.closing.drainAt == 0 {
			sess.closing.drainAt = now + int64(l.rng.Uint64()%uint64(spread))
		}
	}
}

// sweep enforces every deadline of the loop's sessions: setup timeouts,
// keepalive pings and pong timeouts, stalled writes, drain closes and the
// linger of closing legs. It also samples queued output for the memory
// budget and releases idle ciphers.
func (l *loop) sweep() {
	cfg := &l.srv.cfg
	now := time.Now().UnixNano()
	l.debug = l.srv.log.Core().Enabled(zap.DebugLevel)
	if d := l.srv.drainSpread.Load(); d > 0 && !l.drainAssigned {
		l.assignDrain(now, d)
	}
	// Walk a snapshot: ending a session never removes it synchronously
	// (gnet reports the close later), but be safe against reordering.
	for i := 0; i < len(l.sessions); i++ {
		sess := l.sessions[i]
		switch {
		case sess.state == stateClosed:
			sess.client.linger(now)
			sess.up.linger(now)
			continue
		case sess.closing.drainAt != 0 && now >= sess.closing.drainAt:
			sess.end(causeGoingAway)
			continue
		case sess.state < stateRelay && now > sess.deadline:
			sess.setupTimeout()
			continue
		}
		if sess.mem.holder != 0 {
			sess.noteQueued() // output drains between reads
		}
		if !sess.client.keepalive(now, cfg.ClientPingInterval.Nanoseconds(), cfg.ClientPongTimeout.Nanoseconds()) {
			sess.end(causeClientPongTimeout)
			continue
		}
		if sess.state == stateRelay && !sess.up.keepalive(now, cfg.UpstreamPingInterval.Nanoseconds(), cfg.UpstreamPongTimeout.Nanoseconds()) {
			sess.end(causeUpstreamPongTimeout)
			continue
		}
		if sess.client.stalled(now, cfg.WriteTimeout.Nanoseconds()) {
			sess.end(causeClientWriteTimeout)
			continue
		}
		if sess.up.stalled(now, cfg.WriteTimeout.Nanoseconds()) {
			sess.end(causeUpstreamWriteTimeout)
			continue
		}
		if sess.state == stateRelay && cfg.CipherIdleRelease > 0 {
			sess.releaseIdleCiphers(now, cfg.CipherIdleRelease.Nanoseconds())
		}
	}
}

// idleCiphers is what the sweep needs to notice a relaying session that
// has gone quiet (releaseIdleCiphers).
type idleCiphers struct {
	count     uint64 // MTE messages (encoder + decoder sequence numbers) at the last sweep that saw them change
	quietFrom int64  // unix nanos of that sweep; 0 = not yet sampled
}

// releaseIdleCiphers drops the session's AES-GCM objects once no message
// has been sealed or opened for idle nanoseconds. Sequence numbers only
// grow, so their sum changes exactly when a message went through. Release
// reports false once there is nothing left to drop, so a session stays
// counted once per idle period.
func (sess *session) releaseIdleCiphers(now, idle int64) {
	n := sess.mte.Encoder().Seq() + sess.mte.Decoder().Next()
	if n != sess.ciphers.count || sess.ciphers.quietFrom == 0 {
		sess.ciphers.count, sess.ciphers.quietFrom = n, now
		return
	}
	if now-sess.ciphers.quietFrom >= idle && sess.mte.Release() {
		sess.loop.stats.CipherReleases.Add(1)
	}
}

// keepalive pings a WebSocket leg on schedule and reports false when it has
// been silent (no frame of any kind, pongs included) past the timeout.
func (lg *leg) keepalive(now, interval, timeout int64) bool {
	if !lg.isOpen() || !lg.ws {
		return true
	}
	if lg.active {
		lg.active = false
		lg.lastSeen = now
	}
	if now-lg.lastSeen > timeout {
		return false
	}
	if lg.nextPing == 0 {
		lg.nextPing = now + interval
	} else if now >= lg.nextPing {
		lg.nextPing = now + interval
		_, _ = lg.conn.Write(lg.sess.loop.controlFrame(lg.upstream, codec.OpPing, nil))
	}
	return true
}

// stalled reports whether the leg's queued output has not drained within
// the write timeout.
func (lg *leg) stalled(now, timeout int64) bool {
	if !lg.isOpen() {
		return false
	}
	if lg.conn.OutboundBuffered() == 0 {
		lg.stallSince = 0
		return false
	}
	if lg.stallSince == 0 {
		lg.stallSince = now
		return false
	}
	return now-lg.stallSince > timeout
}
