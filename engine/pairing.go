package engine

import (
	"crypto/rand"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/mte"
)

// handshakeMessage runs the SocketX pairing: hello → response, pairRequest
// → pairResponse, then the encoded upstream request that starts the dial.
func (sess *session) handshakeMessage(msg []byte) bool {
	hdr, payload, err := mte.ParseHeader(msg)
	if err == nil {
		err = hdr.Validate()
	}
	if err != nil {
		if sess.state == stateHello && (errors.Is(err, mte.ErrBadMagic) || errors.Is(err, mte.ErrShortMessage)) {
			code, reason := mte.CloseCode(err)
			return sess.notSocketX("binary without a SocketX header", causePairingFailed.withClient(toClient{code, reason}))
		}
		return sess.pairingFailed(err)
	}
	want := [...]mte.Action{stateHello: mte.ActionRequest, statePair: mte.ActionPairRequest, statePathname: mte.ActionUpstreamRequest}
	if int(sess.state) >= len(want) || hdr.Action != want[sess.state] {
		return sess.pairingFailed(&orderError{action: hdr.Action, state: sess.state})
	}
	switch sess.state {
	case stateHello:
		sess.sendHandshake(mte.ActionResponse, nil)
		sess.state = statePair
	case statePair:
		// The key exchange runs from the loop's pairing task
		// (pairqueue.go), not on this read.
		return sess.parkPairRequest(payload)
	case statePathname:
		h, plain, err := sess.mte.Decoder().OpenUpstreamRequest(msg)
		if err != nil {
			return sess.pairingFailed(err)
		}
		if h.Action != mte.ActionUpstreamRequest {
			return sess.pairingFailed(&orderError{action: h.Action, state: sess.state})
		}
		pathname, err := mte.ParsePathname(plain)
		if err != nil {
			return sess.pairingFailed(err)
		}
		target, err := sess.route.Resolve(pathname)
		if err != nil {
			if ce := sess.server().logRejection("Pathname refused"); ce != nil {
				ce.Write(zap.String("connection_id", connID(sess.id)), zap.String("client_addr", sess.remote.addr), zap.Error(err))
			}
			sess.rejectSetup(reasonPathname, causePathnameRefused)
			return false
		}
		return sess.startDial(target)
	}
	return true
}

// pair answers the session's queued pairRequest (action 3), from the
// loop's pairing task, then reads what the client sent meanwhile.
func (sess *session) pair() {
	l := sess.loop
	resp, err := sess.mte.Respond(sess.server().profile, *sess.pairReq, rand.Reader, l.scratch[:0])
	sess.releasePairRequest()
	sess.mem.pipelined = 0
	sess.memChanged()
	if err != nil {
		sess.pairingFailed(err)
		return
	}
	l.scratch = resp[:0]
	sess.sendHandshake(mte.ActionPairResponse, resp)
	sess.state = statePathname
	l.stats.Paired.Add(1)
	sess.audit.pairedAt = time.Now().UnixNano()
	l.metrics.pairing.observe(uint64(sess.audit.pairedAt - sess.audit.upgradedAt))
	keyID, authed := sess.mte.ServerKey()
	if authed {
		l.metrics.pairedAuth.Add(1)
	}
	if ce := sess.server().log.Check(zap.DebugLevel, "Paired"); ce != nil {
		fields := []zap.Field{zap.String("connection_id", connID(sess.id)), zap.Stringer("eeid", sess.mte.EEID()),
			zap.String("mte_key_exchange", sess.server().profile.Strength().KeyExchange()),
			zap.Bool("server_authenticated", authed)}
		if authed { // the key ID is public; the key never leaves mte
			fields = append(fields, zap.Stringer("server_key_id", keyID))
		}
		ce.Write(fields...)
	}
	sess.flush()
	if sess.state == statePathname && sess.client.isOpen() && sess.client.conn.InboundBuffered() > 0 {
		sess.readClient()
	}
}

// sendHandshake stages one handshake message (type 254) to the client.
func (sess *session) sendHandshake(a mte.Action, payload []byte) {
	l := sess.loop
	out := codec.AppendFrameHeader(l.toClient, true, codec.OpBinary, mte.HeaderLen+len(payload), nil)
	out = mte.AppendHeader(out, a, mte.TypeHandshake)
	l.toClient = append(out, payload...)
}

// orderError is a handshake message out of order (close 1002).
type orderError struct {
	action mte.Action
	state  state
}

func (e *orderError) Error() string {
	return "unexpected action " + e.action.String() + " during " + e.state.String()
}

func (sess *session) pairingFailed(err error) bool {
	code, reason := mte.CloseCode(err)
	var oe *orderError
	if errors.As(err, &oe) {
		code, reason = codec.CloseProtocolError, oe.Error()
	}
	if ce := sess.server().logRejection("Pairing failed"); ce != nil {
		ce.Write(zap.String("connection_id", connID(sess.id)), zap.String("client_addr", sess.remote.addr),
			zap.String("state", sess.state.String()), zap.Error(err))
	}
	r := reasonPairing
	switch {
	case errors.Is(err, mte.ErrUnknownServerKey):
		r = reasonUnknownServerKey
	case errors.Is(err, mte.ErrBadServerAuth):
		r = reasonBadServerAuth
	}
	sess.rejectSetup(r, causePairingFailed.withClient(toClient{code, reason}))
	return false
}

// notSocketX ends a session whose first message is not a SocketX hello (a
// text message, or a binary one without the SocketX header): most likely a
// plain WebSocket client pointed at the proxy. first says what it sent.
func (sess *session) notSocketX(first string, c closeCause) bool {
	if ce := sess.server().logRejection("Client is not a SocketX client (plain WebSocket?)"); ce != nil {
		ce.Write(zap.String("connection_id", connID(sess.id)), zap.String("client_addr", sess.remote.addr),
			zap.String("host", sess.remote.host), zap.String("origin", sess.remote.origin), zap.String("first_message", first),
			zap.Uint16("close_code", c.client.code), zap.String("close_reason", c.client.reason))
	}
	sess.rejectSetup(reasonNotSocketX, c)
	return false
}

// countReject counts a failed setup by reason.
func (sess *session) countReject(r reason) {
	l := sess.loop
	l.stats.Rejected.Add(1)
	l.metrics.rejected[r].Add(1)
	sess.decide(rejected(r))
}

// rejectSetup ends a session that failed before relaying.
func (sess *session) rejectSetup(r reason, c closeCause) {
	sess.countReject(r)
	sess.flush()
	sess.end(c)
}

// setupTimeout ends a session whose current setup phase ran out of time.
func (sess *session) setupTimeout() {
	switch sess.state {
	case stateHead:
		if ce := sess.server().logRejection("Request head timeout"); ce != nil {
			ce.Write(zap.String("connection_id", connID(sess.id)), zap.String("client_addr", sess.remote.addr))
		}
		sess.countReject(reasonHeadTimeout)
		sess.respond(codec.AppendErrorResponse(sess.loop.toClient[:0], &codec.HTTPError{Status: 408, Reason: "request head timeout"}))
	case stateHello, statePair, statePathname:
		if ce := sess.server().logRejection("Pairing timeout"); ce != nil {
			ce.Write(zap.String("connection_id", connID(sess.id)), zap.String("client_addr", sess.remote.addr), zap.String("state", sess.state.String()))
		}
		sess.rejectSetup(reasonPairTimeout, causePairingTimeout)
	default:
		if sess.direct.Active() {
			sess.directDeadline()
			return
		}
		if ce := sess.server().logRejection("Upstream connect timeout"); ce != nil {
			ce.Write(zap.String("connection_id", connID(sess.id)), zap.String("upstream_server", sess.target))
		}
		sess.rejectSetup(reasonUpstreamTimeout, causeUpstreamConnectTimeout)
	}
}

func (sess *session) resetDeadline() {
	sess.deadline = time.Now().UnixNano() + int64(sess.server().cfg.HandshakeTimeout)
}
