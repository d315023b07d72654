package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/mte"
)

// readClient consumes whatever the client leg has buffered: the HTTP head,
// then frames. Bytes that arrive while the upstream is being connected stay
// in gnet's inbound buffer (bounded, and counted against the memory
// budget) until the upstream is ready.
func (sess *session) readClient() {
	lg := &sess.client
	c := lg.conn
	switch sess.state {
	case stateClosed:
		_, _ = c.Discard(-1)
		return
	case stateDialing, stateUpgrading:
		sess.holdPipelined()
		return
	case statePair:
		if sess.pairQueued() {
			sess.holdPipelined()
			return
		}
	}
	// Time the batch, not each message: two clock reads per read (only
	// relayed proxyData counts, so handshake reads account nothing).
	start, before := time.Now(), sess.audit.msgsUp
	if lg.pend.left > 0 && !sess.continueAssembly(lg, (*clientSide)(sess)) {
		sess.flush()
		sess.accountBatch(&sess.loop.metrics.decode, &sess.loop.metrics.decodeNs, &sess.audit.decodeNs, start, sess.audit.msgsUp-before)
		return
	}
	if sess.state == stateClosed {
		_, _ = c.Discard(-1)
		return
	}
	buf, _ := c.Peek(-1)
	off := 0
	if sess.state == stateHead {
		n, upgraded := sess.readHead(buf)
		if !upgraded {
			switch {
			case sess.state == stateClosed:
				_, _ = c.Discard(-1)
			case n > 0: // a PROXY header; keep the partial head after it
				_, _ = c.Discard(n)
			}
			return
		}
		off = n
	}
	off += sess.clientFrames(buf[off:])
	sess.flush()
	sess.accountBatch(&sess.loop.metrics.decode, &sess.loop.metrics.decodeNs, &sess.audit.decodeNs, start, sess.audit.msgsUp-before)
	if off > 0 {
		_, _ = c.Discard(off)
	}
	if sess.state == stateDialing || sess.state == stateUpgrading || sess.pairQueued() {
		sess.holdPipelined()
	}
}

// holdPipelined bounds what a client may send before the upstream is
// ready, or while its pairRequest is queued (pairqueue.go): the bytes wait
// in gnet's inbound buffer (appended as they come, never re-read) and
// count against the memory budget.
func (sess *session) holdPipelined() {
	c := sess.client.conn
	in := int64(c.InboundBuffered())
	limit, cause := sess.client.maxMsg, causeTooMuchPipelined
	if sess.state == statePair {
		limit, cause = maxHandshakeMessage, causeTooMuchBeforePairResponse
	}
	if in > limit+codec.MaxHeaderLen {
		sess.end(cause)
		_, _ = c.Discard(-1)
		return
	}
	if !sess.loop.reserve(sess, in-sess.mem.pipelined) {
		_, _ = c.Discard(-1)
		return
	}
	sess.mem.pipelined = in
	sess.memChanged()
}

// clientFrames handles the client frames in buf and returns the bytes
// consumed. It stops early when the session leaves a state in which it can
// take client messages.
func (sess *session) clientFrames(buf []byte) int {
	return sess.frames(&sess.client, (*clientSide)(sess), buf)
}

// maxHandshakeMessage is the largest client message accepted before
// relaying: the largest handshake message (action 4: header, sequence, tag
// and an 8 KiB pathname request; a pairRequest is at most header + 8 KiB),
// docs/PROTOCOL.md §11. A longer frame or fragmented message is refused
// from its header with 1009, so an unpaired peer can make the proxy hold
// at most this much.
const maxHandshakeMessage = mte.HeaderLen + mte.Overhead + mte.MaxPathnameRequest

// clientMessageCap is the largest client message the session's state
// accepts.
func (sess *session) clientMessageCap() int64 {
	if sess.state < stateRelay {
		return maxHandshakeMessage
	}
	return sess.client.maxMsg
}

// frameSink is what one leg does with its frames; clientSide and
// upstreamSide are the session seen from each leg (pointer conversions, so
// passing them allocates nothing).
type frameSink interface {
	running() bool // may more frames be handled in the current state
	limits() codec.Limits
	control(op codec.OpCode, payload []byte) bool
	message(op codec.OpCode, msg []byte) bool
	protocolError(err error)
}

type (
	clientSide   session
	upstreamSide session
)

func (c *clientSide) running() bool {
	st := c.state
	return st != stateDialing && st != stateUpgrading && st != stateClosed && c.pairReq == nil
}
func (c *clientSide) limits() codec.Limits {
	return codec.Limits{MaxPayload: (*session)(c).clientMessageCap(), RequireMask: true}
}
func (c *clientSide) control(op codec.OpCode, p []byte) bool {
	return (*session)(c).clientControl(op, p)
}
func (c *clientSide) message(op codec.OpCode, m []byte) bool {
	return (*session)(c).clientMessage(op, m)
}
func (c *clientSide) protocolError(err error) { (*session)(c).clientProtocolError(err) }

func (u *upstreamSide) running() bool { return u.state == stateRelay }
func (u *upstreamSide) limits() codec.Limits {
	return codec.Limits{MaxPayload: u.up.maxMsg, ForbidMask: true}
}
func (u *upstreamSide) control(op codec.OpCode, p []byte) bool {
	return (*session)(u).upstreamControl(op, p)
}
func (u *upstreamSide) message(op codec.OpCode, m []byte) bool {
	return (*session)(u).upstreamMessage(op, m)
}
func (u *upstreamSide) protocolError(err error) { (*session)(u).upstreamProtocolError(err) }

// frames walks the frames at the start of buf, unmasking complete ones in
// place and handing each to sink; a data frame whose payload is not all
// there is moved into the leg's message buffer (assemble.go). It returns
// the bytes consumed (all of buf once the session ended or a frame is
// being assembled). What stays in gnet's buffer is at most a partial frame
// header or an incomplete control frame.
func (sess *session) frames(lg *leg, sink frameSink, buf []byte) int {
	off := 0
	for off < len(buf) && sink.running() {
		lim := sink.limits()
		var h codec.Header
		n, err := codec.ParseHeader(buf[off:], lim, &h)
		if err == codec.ErrNeedMore {
			break
		}
		if err != nil {
			sink.protocolError(err)
			return len(buf)
		}
		end := off + n + int(h.Length)
		if end > len(buf) && h.Op.IsControl() {
			break // at most 139 bytes: wait for the rest where they are
		}
		kind, err := lg.asm.Next(&h, lim.MaxPayload)
		if err != nil {
			sink.protocolError(err)
			return len(buf)
		}
		lg.active = true
		if end > len(buf) {
			sess.startAssembly(lg, &h, kind, buf[off+n:], lim.MaxPayload)
			return len(buf)
		}
		payload := buf[off+n : end]
		if h.Masked {
			codec.Unmask(payload, h.Mask, 0)
		}
		off = end
		if !sess.frame(lg, sink, kind, h.Op, payload) {
			return len(buf)
		}
	}
	return off
}

// frame handles one complete frame: control frames at once, data frames
// whole or appended to the message being assembled. False means the
// session ended.
func (sess *session) frame(lg *leg, sink frameSink, kind codec.Kind, op codec.OpCode, payload []byte) bool {
	switch kind {
	case codec.KindControl:
		return sink.control(op, payload)
	case codec.KindWhole:
		return sink.message(op, payload)
	}
	if !sess.appendFrag(lg, payload, sink.limits().MaxPayload) {
		return false
	}
	if kind == codec.KindLast {
		ok := sink.message(lg.asm.Op(), *lg.frag) // staged output copies it
		sess.releaseFrag(lg)
		return ok
	}
	return true
}

func (sess *session) clientProtocolError(err error) {
	cause := causeClientProtocolError
	if ce, ok := err.(*codec.CloseError); ok {
		cause = cause.withClient(toClient{ce.Code, ce.Reason})
	}
	sess.end(cause)
}

// clientControl answers pings, notes pongs and relays a close.
func (sess *session) clientControl(op codec.OpCode, payload []byte) bool {
	switch op {
	case codec.OpPing:
		sess.queueClient(sess.loop.controlFrame(false, codec.OpPong, payload))
	case codec.OpPong:
	case codec.OpClose:
		code, reason, err := codec.ParseClosePayload(payload)
		if err != nil {
			sess.clientProtocolError(err)
			return false
		}
		sess.flush()
		// Echo the client's close and forward it to the upstream.
		sess.end(clientClosed(code, string(reason)))
		return false
	}
	return true
}

// clientMessage handles one complete client message.
func (sess *session) clientMessage(op codec.OpCode, msg []byte) bool {
	if op != codec.OpBinary {
		if sess.state == stateHello {
			return sess.notSocketX("text", causeClientNotBinary)
		}
		sess.end(causeClientNotBinary)
		return false
	}
	if sess.state != stateRelay {
		return sess.handshakeMessage(msg)
	}
	var t0 time.Time
	if sess.loop.debug {
		t0 = time.Now()
	}
	hdr, plain, err := sess.mte.Decoder().Open(msg)
	if err != nil {
		code, reason := mte.CloseCode(err)
		if ce := sess.server().logRejection("Client message rejected"); ce != nil {
			ce.Write(zap.String("connection_id", connID(sess.id)), zap.String("eeid", sess.eeidString()), zap.Error(err))
		}
		sess.end(causeClientInvalidMessage.withClient(toClient{code, reason}))
		return false
	}
	if sess.loop.debug {
		sess.logEvent("decode", plain, time.Since(t0))
	}
	if hdr.Action != mte.ActionProxyData {
		sess.end(causeClientBadAction.withDetail(hdr.Action.String()))
		return false
	}
	op = codec.OpBinary
	if hdr.Type == mte.TypeText {
		if !utf8.Valid(plain) {
			sess.end(causeClientInvalidUTF8)
			return false
		}
		op = codec.OpText
	}
	st := &sess.loop.stats
	st.Decoded.Add(1)
	st.DecodedBytes.Add(uint64(len(plain)))
	sess.loop.metrics.payloadUp.observe(uint64(len(plain)))
	sess.audit.msgsUp++
	sess.audit.bytesUp += uint64(len(plain))
	sess.queueUpFrame(op, plain)
	return true
}

// queueUpFrame stages one masked frame to the upstream, masking while
// copying out of the client's inbound buffer.
func (sess *session) queueUpFrame(op codec.OpCode, payload []byte) {
	l := sess.loop
	if len(l.toUp) > maxStaged {
		sess.flushUp()
	}
	m := l.mask()
	out := codec.AppendFrameHeader(l.toUp, true, op, len(payload), &m)
	start := len(out)
	out = append(out, payload...)
	codec.Unmask(out[start:], m, 0) // masking and unmasking are the same XOR
	l.toUp = out
}

// queueUpControl stages a control frame to the upstream, in order with
// the data frames.
func (sess *session) queueUpControl(op codec.OpCode, payload []byte) {
	m := sess.loop.mask()
	sess.loop.toUp = codec.AppendControlFrame(sess.loop.toUp, op, payload, &m)
}

// queueClient stages bytes to the client.
func (sess *session) queueClient(b []byte) {
	l := sess.loop
	l.toClient = append(l.toClient, b...)
}

// flush writes everything staged: one Write per leg. It then checks each
// leg's queue against the high-water mark and the memory budget.
func (sess *session) flush() {
	sess.flushUp()
	sess.flushClient()
	sess.noteQueued()
}

func (sess *session) flushUp() {
	l := sess.loop
	if sess.up.write(&l.toUp) {
		sess.end(causeUpstreamTooSlow)
	}
}

func (sess *session) flushClient() {
	l := sess.loop
	if sess.client.write(&l.toClient) {
		sess.end(causeClientTooSlow)
	}
}

// write sends what is staged for the leg (if it is still open), empties
// the stage, and reports whether the leg's queued output now exceeds
// WS_MAX_QUEUED_BYTES: a peer that does not read is closed, never buffered
// without bound.
func (lg *leg) write(staged *[]byte) (overHighWater bool) {
	if len(*staged) > 0 {
		if lg.isOpen() {
			_, _ = lg.conn.Write(*staged)
		}
		*staged = (*staged)[:0]
	}
	if lg.isOpen() && lg.conn.OutboundBuffered() > lg.sess.server().cfg.MaxQueuedBytes {
		lg.sess.loop.metrics.highWater.Add(1)
		return true
	}
	return false
}

// readUpstream consumes the upstream leg's bytes: the handshake response,
// then frames, each encoded to the client.
func (sess *session) readUpstream() {
	lg := &sess.up
	c := lg.conn
	if sess.state == stateClosed {
		_, _ = c.Discard(-1)
		return
	}
	start, before := time.Now(), sess.audit.msgsDown
	if lg.pend.left > 0 && !sess.continueAssembly(lg, (*upstreamSide)(sess)) {
		sess.flush()
		sess.accountBatch(&sess.loop.metrics.encode, &sess.loop.metrics.encodeNs, &sess.audit.encodeNs, start, sess.audit.msgsDown-before)
		return
	}
	if sess.state == stateClosed {
		_, _ = c.Discard(-1)
		return
	}
	buf, _ := c.Peek(-1)
	off := 0
	if sess.state == stateUpgrading {
		n, ok := sess.upstreamHandshake(buf)
		if !ok {
			if sess.state == stateClosed {
				_, _ = c.Discard(-1)
			}
			return
		}
		off = n
	}
	off += sess.upstreamFrames(buf[off:])
	sess.flush()
	sess.accountBatch(&sess.loop.metrics.encode, &sess.loop.metrics.encodeNs, &sess.audit.encodeNs, start, sess.audit.msgsDown-before)
	if off > 0 {
		_, _ = c.Discard(off)
	}
}

// accountBatch adds a read's relay time to the session and the loop's
// histogram (as n observations of the batch average).
func (sess *session) accountBatch(h *histogram, total *atomic.Uint64, sessTotal *uint64, start time.Time, n uint64) {
	if n == 0 {
		return
	}
	d := uint64(time.Since(start))
	*sessTotal += d
	total.Add(d)
	h.observeN(d/n, n)
}

// upstreamFrames encodes complete upstream frames to the client and
// returns the bytes consumed.
func (sess *session) upstreamFrames(buf []byte) int {
	return sess.frames(&sess.up, (*upstreamSide)(sess), buf)
}

func (sess *session) upstreamProtocolError(err error) {
	cause := causeUpstreamProtocolError
	if ce, ok := err.(*codec.CloseError); ok {
		cause = cause.withUpstream(toUpstream{ce.Code, ce.Reason})
	}
	sess.end(cause)
}

func (sess *session) upstreamControl(op codec.OpCode, payload []byte) bool {
	switch op {
	case codec.OpPing:
		sess.queueUpControl(codec.OpPong, payload)
	case codec.OpPong:
	case codec.OpClose:
		code, reason, err := codec.ParseClosePayload(payload)
		if err != nil {
			sess.upstreamProtocolError(err)
			return false
		}
		sess.flush()
		sess.end(upstreamClosed(code, reason))
		return false
	}
	return true
}

// upstreamMessage encodes one upstream message into a binary frame for the
// client, in send order.
func (sess *session) upstreamMessage(op codec.OpCode, plain []byte) bool {
	typ := mte.TypeBinary
	if op == codec.OpText {
		if !utf8.Valid(plain) {
			sess.end(causeUpstreamInvalidUTF8)
			return false
		}
		typ = mte.TypeText
	}
	l := sess.loop
	if len(l.toClient) > maxStaged {
		sess.flushClient()
	}
	var t0 time.Time
	if l.debug {
		t0 = time.Now()
	}
	out := codec.AppendFrameHeader(l.toClient, true, codec.OpBinary, mte.HeaderLen+mte.Overhead+len(plain), nil)
	out, err := sess.mte.Encoder().Seal(out, mte.ActionProxyData, typ, plain)
	if err != nil {
		sess.end(causeEncodeFailed)
		return false
	}
	l.toClient = out
	if l.debug {
		sess.logEvent("encode", plain, time.Since(t0))
	}
	st := &l.stats
	st.Encoded.Add(1)
	st.EncodedBytes.Add(uint64(len(plain)))
	l.metrics.payloadDown.observe(uint64(len(plain)))
	sess.audit.msgsDown++
	sess.audit.bytesDown += uint64(len(plain))
	return true
}

// logEvent writes a per-message debug event. Callers check loop.debug
// first, so nothing here runs (not even the hash) unless debug is on.
func (sess *session) logEvent(kind string, plain []byte, d time.Duration) {
	ce := sess.server().log.Check(zap.DebugLevel, "MTE "+kind)
	if ce == nil {
		return
	}
	sum := sha256.Sum256(plain)
	ce.Write(
		zap.String("connection_id", connID(sess.id)),
		zap.String("event_type", kind),
		zap.Float64("duration_ms", float64(d)/1e6),
		zap.Int("payload_size_bytes", len(plain)),
		zap.String("payload_sha256", hex.EncodeToString(sum[:])),
		zap.String("eeid", sess.eeidString()),
		zap.String("host", sess.remote.host),
		zap.String("origin", sess.remote.origin),
		zap.String("upstream_server", sess.target),
	)
}
