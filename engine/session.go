package engine

import (
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"github.com/panjf2000/gnet/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/routing"
)

type state uint8

const (
	stateHead state = iota
	stateHello
	statePair
	statePathname
	stateDialing
	stateUpgrading
	stateRelay
	stateClosed
)

var stateNames = [...]string{"head", "hello", "pair", "pathname", "dialing", "upgrading", "relay", "closed"}

func (st state) String() string { return stateNames[st] }

// Sides that can end a session, for the audit trail.
const (
	sideNone     = ""
	sideClient   = "client"
	sideUpstream = "upstream"
	sideProxy    = "proxy"
)

// session is one proxied connection: the client leg, the upstream leg and
// the MTE state. It lives on one event loop and is touched only there.
type session struct {
	loop  *loop
	index int // position in loop.sessions, for O(1) removal
	id    uint64
	state state

	client leg
	up     leg

	route *routing.Route
	mte   mte.Session

	remoteIP string     // client address (PROXY protocol / trusted X-Forwarded-For applied)
	peer     netip.Addr // TCP peer
	proxied  bool       // PROXY protocol header consumed
	host     string     // Host header, for logs
	origin   string     // Origin header, forwarded and logged

	// Setup-time facts, dropped once the upstream handshake is answered.
	protocol  string
	forwarded string // X-Forwarded-For to send upstream
	fwdProto  string // X-Forwarded-Proto to send upstream
	upHost    string // Host header for the upstream
	upURI     string // request-target for the upstream
	upKey     [24]byte
	target    string // upstream URL, for logs

	deadline int64 // unix nanos; setup phases and the closing grace period

	closeCode   uint16
	closeReason string
	closedBy    string

	// Idle cipher release: the MTE message count at the last sweep that saw
	// it change, and when.
	mteCount     uint64
	mteQuietFrom int64

	// Memory budget (membudget.go): what the session holds, its place in
	// loop.holders (index+1, 0 = holds nothing), and client bytes waiting
	// while the upstream is connected.
	mem       int64
	holder    int
	pipelined int64

	msgsUp, msgsDown   uint64
	bytesUp, bytesDown uint64
	decodeNs, encodeNs uint64 // relay time spent per direction

	openedAt, upgradedAt, pairedAt, dialAt, readyAt int64 // unix nanos
	drainAt                                         int64 // when draining: our 1001 goes out then

	budget budgetHold // descriptor budget (fdbudget.go)
}

// leg is one TCP connection of a session. Its gnet.Conn's context points
// back here.
type leg struct {
	sess      *session
	conn      gnet.Conn
	upstream  bool
	open      bool // TCP open and not yet closed by us
	ws        bool // WebSocket established on this leg
	sentClose bool

	gone        bool  // gnet reported the close
	lingering   bool  // we closed: discard input until EOF or lingerUntil
	writeShut   bool  // write side shut down
	lingerUntil int64 // unix nanos

	active     bool  // a frame arrived since the last sweep
	lastSeen   int64 // unix nanos of the last sweep that saw activity
	nextPing   int64
	stallSince int64 // first sweep that saw output queued, 0 when drained

	maxMsg  int64 // largest WebSocket message accepted on this leg once relaying
	asm     codec.Assembler
	frag    *[]byte  // the message being assembled (assemble.go), pooled
	fragCap int64    // cap(*frag), as counted against the memory budget
	pend    assembly // the frame being copied into frag
	queued  int64    // outbound bytes gnet held at the last sample (membudget.go)
}

func (sess *session) server() *Server { return sess.loop.srv }

// fail ends the session because of a proxy-side decision (bad input,
// timeout, upstream failure). Codes of 0 mean "no close frame on that leg".
func (sess *session) fail(toClient uint16, clientReason string, toUp uint16, upReason string) {
	sess.end(sideProxy, toClient, clientReason, toUp, upReason)
}

// end sends close frames where a WebSocket is established and closes both
// TCP connections. It is idempotent.
func (sess *session) end(side string, toClient uint16, clientReason string, toUp uint16, upReason string) {
	if sess.state == stateClosed {
		return
	}
	if sess.closedBy == sideNone {
		sess.closedBy = side
		sess.closeCode = toClient
		sess.closeReason = clientReason
	}
	sess.state = stateClosed
	sess.dropMem()
	if sess.client.ws && sess.client.open {
		sess.loop.metrics.closeCodes[closeClass(toClient)].Add(1)
	}
	sess.client.shutdown(toClient, clientReason)
	sess.up.shutdown(toUp, upReason)
	if ce := sess.server().log.Check(zap.DebugLevel, "Connection ending"); ce != nil {
		ce.Write(zap.String("connection_id", connID(sess.id)), zap.String("closed_by", side),
			zap.Uint16("close_code", toClient), zap.String("close_reason", clientReason))
	}
}

// shutdown sends a close frame (when code != 0 and the leg speaks
// WebSocket), then closes lingering: once the output is flushed the write
// side is shut (the peer sees EOF right after our last byte) and input is
// discarded until the peer closes or CloseTimeout passes. Closing with
// unread input would make the kernel send RST, which can destroy the close
// frame or HTTP response before the peer reads it.
func (lg *leg) shutdown(code uint16, reason string) {
	if !lg.open {
		return
	}
	if code != 0 && lg.ws && !lg.sentClose {
		lg.writeClose(code, reason)
	}
	lg.sess.releaseFrag(lg)
	lg.open = false
	lg.lingering = true
	lg.lingerUntil = time.Now().UnixNano() + int64(lg.sess.server().cfg.CloseTimeout)
	lg.shutWriteIfFlushed()
}

// shutWriteIfFlushed half-closes a lingering leg once gnet has written
// everything queued.
func (lg *leg) shutWriteIfFlushed() {
	if lg.writeShut || lg.conn.OutboundBuffered() > 0 {
		return
	}
	lg.writeShut = true
	if err := unix.Shutdown(lg.conn.Fd(), unix.SHUT_WR); err != nil {
		_ = lg.conn.Close()
	}
}

// linger runs from the sweep for a leg we are closing.
func (lg *leg) linger(now int64) {
	if !lg.lingering {
		return
	}
	if now > lg.lingerUntil {
		lg.lingering = false
		_ = lg.conn.Close()
		return
	}
	lg.shutWriteIfFlushed()
}

// writeClose queues a close frame on the leg.
func (lg *leg) writeClose(code uint16, reason string) {
	lg.sentClose = true
	l := lg.sess.loop
	var payload [125]byte
	p := codec.AppendClosePayload(payload[:0], code, reason)
	_, _ = lg.conn.Write(l.controlFrame(lg.upstream, codec.OpClose, p))
}

// legClosed runs from OnClose: the TCP connection is gone, by our Close or
// the peer's.
func (lg *leg) legClosed(err error) {
	sess := lg.sess
	if sess.state != stateClosed && sess.server().stopping.Load() {
		// The engine is stopping and closes every connection itself. gnet
		// flushes what OnClose writes, so this leg still gets its 1001.
		sess.end(sideProxy, 1001, "going away", 1001, "going away")
	}
	lg.open = false
	lg.lingering = false
	sess.releaseFrag(lg)
	if sess.state != stateClosed {
		// The peer dropped TCP without (or after) a close frame we did not
		// act on: tell the other side.
		if lg.upstream {
			code := uint16(1011)
			reason := "upstream connection lost"
			if sess.state < stateRelay {
				code, reason = 1014, "upstream closed during handshake"
			}
			sess.end(sideUpstream, code, reason, 0, "")
		} else {
			sess.end(sideClient, 0, "", 1001, "client went away")
		}
	}
	lg.gone = true
	if sess.client.gone && (sess.up.conn == nil || sess.up.gone) {
		sess.loop.removeSession(sess)
	}
}

// logClosed writes the end-of-connection audit line.
func (sess *session) logClosed() {
	now := time.Now().UnixNano()
	if sess.client.ws {
		sess.loop.metrics.session.observe(uint64(now - sess.upgradedAt))
	}
	log := sess.server().log
	lvl := zap.InfoLevel
	if !sess.client.ws {
		lvl = zap.DebugLevel // plain HTTP: health checks and the echo route
	}
	ce := log.Check(lvl, "Connection closed")
	if ce == nil {
		return
	}
	ce.Write(
		zap.String("connection_id", connID(sess.id)),
		zap.String("eeid", sess.eeidString()),
		zap.String("client_addr", sess.remoteIP),
		zap.String("host", sess.host),
		zap.String("origin", sess.origin),
		zap.String("upstream_server", sess.target),
		zap.Object("audit", auditOf(sess, now)),
	)
}

func (sess *session) eeidString() string {
	if !sess.mte.Paired() {
		return ""
	}
	return sess.mte.EEID().String()
}

// audit is the connection's accounting, logged once at close.
type audit struct {
	sess *session
	now  int64
}

func auditOf(sess *session, now int64) audit { return audit{sess, now} }

func (a audit) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	s := a.sess
	ts := func(key string, t int64) {
		if t != 0 {
			enc.AddString(key, time.Unix(0, t).UTC().Format(time.RFC3339Nano))
		}
	}
	ts("connected_at", s.openedAt)
	ts("paired_at", s.pairedAt)
	ts("upstream_ready_at", s.readyAt)
	ts("closed_at", a.now)
	enc.AddFloat64("duration_ms", float64(a.now-s.openedAt)/1e6)
	enc.AddUint64("messages_client_to_upstream", s.msgsUp)
	enc.AddUint64("messages_upstream_to_client", s.msgsDown)
	enc.AddUint64("bytes_client_to_upstream", s.bytesUp)
	enc.AddUint64("bytes_upstream_to_client", s.bytesDown)
	enc.AddFloat64("decode_time_ms", float64(s.decodeNs)/1e6)
	enc.AddFloat64("encode_time_ms", float64(s.encodeNs)/1e6)
	enc.AddUint16("close_code", s.closeCode)
	enc.AddString("close_reason", s.closeReason)
	enc.AddString("closed_by", s.closedBy)
	return nil
}
