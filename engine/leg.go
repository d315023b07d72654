package engine

import (
	"time"

	"github.com/panjf2000/gnet/v2"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/socketx/socketx-server/codec"
)

// leg is one TCP connection of a session. Its gnet.Conn's context points
// back here.
type leg struct {
	sess     *session
	conn     gnet.Conn // nil while legUnconnected
	state    legState
	upstream bool // the upstream leg (frames to it are masked)
	// ws is set once the leg speaks WebSocket and stays set after it
	// closes: it decides whether a close frame goes out, and the audit and
	// metrics count WebSocket connections by it. It is independent of
	// state (a leg is open before and after its upgrade).
	ws bool
	// active is a frame arrived since the last sweep (keepalive); it only
	// matters while the leg is open.
	active bool

	lingerUntil int64 // unix nanos; legLingering and legWriteShut end by then
	lastSeen    int64 // unix nanos of the last sweep that saw activity
	nextPing    int64
	stallSince  int64 // first sweep that saw output queued, 0 when drained

	maxMsg  int64 // largest WebSocket message accepted on this leg once relaying
	asm     codec.Assembler
	frag    *[]byte  // the message being assembled (assemble.go), pooled
	fragCap int64    // cap(*frag), as counted against the memory budget
	pend    assembly // the frame being copied into frag
	queued  int64    // outbound bytes gnet held at the last sample (membudget.go)
}

// legState is where a leg is in its life. It only moves forward, though
// not through every state: the client leg starts open; a peer that drops
// TCP takes a leg straight to legGone; a leg dropped at once (memory
// budget, eviction, linger timeout) goes to legClosing from either
// lingering state.
//
//	legUnconnected → legOpen → legLingering → legWriteShut → legClosing → legGone
type legState uint8

const (
	// legUnconnected: no TCP connection yet (the upstream leg until its
	// conn is enrolled, for ever if the dial fails).
	legUnconnected legState = iota
	// legOpen: TCP open and not closed by us; frames flow.
	legOpen
	// legLingering: closed by us (shutdown). Our last output (a close frame
	// or an HTTP response) is flushing; input is discarded.
	legLingering
	// legWriteShut: still lingering, with everything flushed and the write
	// side shut, so the peer has seen EOF right after our last byte. Input
	// is discarded until the peer closes or lingerUntil passes.
	legWriteShut
	// legClosing: conn.Close called (the linger ran out, or the leg was
	// dropped at once); gnet reports the close next.
	legClosing
	// legGone: gnet reported the close (OnClose).
	legGone
)

func (lg *leg) isOpen() bool { return lg.state == legOpen }

// lingering reports whether the sweep still has to watch the leg's close.
func (lg *leg) lingering() bool { return lg.state == legLingering || lg.state == legWriteShut }

// opened marks the leg's TCP connection open (accepted, or enrolled by the
// dialer).
func (lg *leg) opened(c gnet.Conn, now int64) {
	lg.conn = c
	lg.state = legOpen
	lg.lastSeen = now
}

// shutdown sends a close frame (when code != 0 and the leg speaks
// WebSocket), then closes lingering: once the output is flushed the write
// side is shut (the peer sees EOF right after our last byte) and input is
// discarded until the peer closes or CloseTimeout passes. Closing with
// unread input would make the kernel send RST, which can destroy the close
// frame or HTTP response before the peer reads it. Only an open leg is
// shut down, so at most one close frame goes out.
func (lg *leg) shutdown(code uint16, reason string) {
	if !lg.isOpen() {
		return
	}
	if code != 0 && lg.ws {
		lg.writeClose(code, reason)
	}
	lg.sess.releaseFrag(lg)
	lg.state = legLingering
	lg.lingerUntil = time.Now().UnixNano() + int64(lg.sess.server().cfg.CloseTimeout)
	lg.shutWriteIfFlushed()
}

// shutWriteIfFlushed half-closes a lingering leg once gnet has written
// everything queued.
func (lg *leg) shutWriteIfFlushed() {
	if lg.state != legLingering || lg.conn.OutboundBuffered() > 0 {
		return
	}
	lg.state = legWriteShut
	if err := unix.Shutdown(lg.conn.Fd(), unix.SHUT_WR); err != nil {
		_ = lg.conn.Close()
	}
}

// linger runs from the sweep for a leg we are closing.
func (lg *leg) linger(now int64) {
	if !lg.lingering() {
		return
	}
	if now > lg.lingerUntil {
		lg.closeNow()
		return
	}
	lg.shutWriteIfFlushed()
}

// closeNow drops the leg's TCP connection without lingering (any output
// still queued is lost); gnet reports the close later.
func (lg *leg) closeNow() {
	lg.state = legClosing
	_ = lg.conn.Close()
}

// writeClose queues a close frame on the leg.
func (lg *leg) writeClose(code uint16, reason string) {
	l := lg.sess.loop
	var payload [125]byte
	p := codec.AppendClosePayload(payload[:0], code, reason)
	_, _ = lg.conn.Write(l.controlFrame(lg.upstream, codec.OpClose, p))
}

// closed runs from OnClose: the TCP connection is gone, by our Close or
// the peer's.
func (lg *leg) closed() {
	sess := lg.sess
	if sess.state != stateClosed && sess.server().stopping.Load() {
		// The engine is stopping and closes every connection itself. gnet
		// flushes what OnClose writes, so this leg still gets its 1001.
		sess.end(causeGoingAway)
	}
	lg.state = legGone
	sess.releaseFrag(lg)
	if sess.state != stateClosed {
		// The peer dropped TCP without (or after) a close frame we did not
		// act on: tell the other side.
		switch {
		case !lg.upstream:
			sess.end(causeClientGone)
		case sess.state < stateRelay:
			if ce := sess.server().logRejection("Upstream handshake failed"); ce != nil {
				ce.Write(zap.String("connection_id", connID(sess.id)), zap.String("upstream_server", sess.target),
					zap.String("detail", causeUpstreamLostInHandshake.client.reason))
			}
			sess.countReject(reasonUpstream)
			sess.end(causeUpstreamLostInHandshake)
		default:
			sess.end(causeUpstreamLost)
		}
	}
	if sess.client.state == legGone && (sess.up.state == legUnconnected || sess.up.state == legGone) {
		sess.loop.removeSession(sess)
	}
}
