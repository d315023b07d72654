package engine

import (
	"go.uber.org/zap"

	"github.com/socketx/socketx-server/codec"
)

// Why sessions end, and what each leg is told. Every close the engine
// decides is a closeCause below; its two halves have different types, so
// the client's close and the upstream's cannot be swapped. A zero code
// means no close frame on that leg (none is possible, or the peer is gone);
// the client-side code and reason are also what the audit line and the
// close-code metric record, even when no frame goes out.
//
// A few causes take part of their close from elsewhere: a reason suffix
// (withDetail), or a code and reason that an error carries (mte.CloseCode,
// *codec.CloseError: withClient, withUpstream). A close frame received from
// one peer is forwarded to the other (clientClosed, upstreamClosed).

// toClient is the close frame for the client leg.
type toClient struct {
	code   uint16
	reason string
}

// toUpstream is the close frame for the upstream leg.
type toUpstream struct {
	code   uint16
	reason string
}

// closeCause is one way a session ends.
type closeCause struct {
	by     side // who ended it, for the audit trail
	client toClient
	up     toUpstream
}

var (
	// Lifecycle.
	causeGoingAway               = closeCause{sideProxy, toClient{codec.CloseGoingAway, "going away"}, toUpstream{codec.CloseGoingAway, "going away"}} // drain, Stop
	causeClientGone              = closeCause{sideClient, toClient{}, toUpstream{codec.CloseGoingAway, "client went away"}}
	causeUpstreamLost            = closeCause{sideUpstream, toClient{codec.CloseInternalError, "upstream connection lost"}, toUpstream{}}
	causeUpstreamLostInHandshake = closeCause{sideUpstream, toClient{codec.CloseBadGateway, "upstream closed during handshake"}, toUpstream{}}
	causeEvicted                 = closeCause{sideProxy, toClient{codec.CloseTryAgainLater, "server busy"}, toUpstream{}} // descriptor budget
	causeEvictedHTTP             = closeCause{sideProxy, toClient{0, "server busy"}, toUpstream{}}                        // the same, before the upgrade
	causeMemoryBudget            = closeCause{sideProxy, toClient{codec.CloseTryAgainLater, "proxy memory budget exceeded"}, toUpstream{codec.CloseGoingAway, "proxy memory budget exceeded"}}

	// Timeouts and slow peers (the sweep, flush).
	causeClientPongTimeout         = closeCause{sideProxy, toClient{codec.CloseGoingAway, "pong timeout"}, toUpstream{codec.CloseGoingAway, "client pong timeout"}}
	causeUpstreamPongTimeout       = closeCause{sideProxy, toClient{codec.CloseInternalError, "upstream pong timeout"}, toUpstream{codec.CloseGoingAway, "pong timeout"}}
	causeClientWriteTimeout        = closeCause{sideProxy, toClient{}, toUpstream{codec.CloseGoingAway, "client write timeout"}}
	causeUpstreamWriteTimeout      = closeCause{sideProxy, toClient{codec.CloseTryAgainLater, "upstream write timeout"}, toUpstream{}}
	causeClientTooSlow             = closeCause{sideProxy, toClient{codec.ClosePolicyViolation, "client not reading fast enough"}, toUpstream{codec.CloseInternalError, "client too slow"}}
	causeUpstreamTooSlow           = closeCause{sideProxy, toClient{codec.CloseTryAgainLater, "upstream too slow"}, toUpstream{codec.CloseTryAgainLater, "not reading fast enough"}}
	causeTooMuchPipelined          = closeCause{sideProxy, toClient{codec.ClosePolicyViolation, "too much data before upstream ready"}, toUpstream{}}
	causeTooMuchBeforePairResponse = closeCause{sideProxy, toClient{codec.ClosePolicyViolation, "too much data before pairResponse"}, toUpstream{}}

	// Bad input while relaying.
	causeClientProtocolError   = closeCause{sideProxy, toClient{codec.CloseProtocolError, "protocol error"}, toUpstream{codec.CloseGoingAway, "client protocol error"}} // or the *codec.CloseError's
	causeClientNotBinary       = closeCause{sideProxy, toClient{codec.CloseUnsupportedData, "socketx messages must be binary"}, toUpstream{codec.CloseGoingAway, "client protocol error"}}
	causeClientBadAction       = closeCause{sideProxy, toClient{codec.CloseProtocolError, "unexpected action "}, toUpstream{codec.CloseGoingAway, "client protocol error"}} // + the action
	causeClientInvalidMessage  = closeCause{sideProxy, toClient{}, toUpstream{codec.CloseGoingAway, "client sent an invalid message"}}                                      // client: mte.CloseCode
	causeClientInvalidUTF8     = closeCause{sideProxy, toClient{codec.CloseInvalidPayload, "text message is not valid UTF-8"}, toUpstream{codec.CloseGoingAway, "client sent invalid data"}}
	causeUpstreamProtocolError = closeCause{sideProxy, toClient{codec.CloseBadGateway, "upstream sent an invalid frame"}, toUpstream{codec.CloseProtocolError, "protocol error"}} // or the *codec.CloseError's
	causeUpstreamInvalidUTF8   = closeCause{sideProxy, toClient{codec.CloseBadGateway, "upstream sent invalid UTF-8"}, toUpstream{codec.CloseInvalidPayload, "text message is not valid UTF-8"}}
	causeEncodeFailed          = closeCause{sideProxy, toClient{codec.CloseInternalError, "encode failed"}, toUpstream{codec.CloseInternalError, "proxy error"}}

	// Setup failures (rejectSetup; the upstream, if connected, does not
	// speak WebSocket yet).
	causePairingFailed          = closeCause{sideProxy, toClient{}, toUpstream{codec.CloseGoingAway, "proxy closing"}} // client: mte.CloseCode, or 1002 for a message out of order
	causePairingTimeout         = closeCause{sideProxy, toClient{codec.ClosePolicyViolation, "pairing timeout"}, toUpstream{codec.CloseGoingAway, "proxy closing"}}
	causePathnameRefused        = closeCause{sideProxy, toClient{codec.ClosePolicyViolation, "pathname not allowed"}, toUpstream{codec.CloseGoingAway, "proxy closing"}}
	causeKeyFailed              = closeCause{sideProxy, toClient{codec.CloseInternalError, "proxy error"}, toUpstream{codec.CloseGoingAway, "proxy closing"}}
	causeUpstreamUnavailable    = closeCause{sideProxy, toClient{codec.CloseBadGateway, "upstream unavailable: "}, toUpstream{codec.CloseGoingAway, "proxy closing"}}    // + upstream.Reason
	causeUpstreamBackingOff     = closeCause{sideProxy, toClient{codec.CloseTryAgainLater, "upstream unavailable: "}, toUpstream{codec.CloseGoingAway, "proxy closing"}} // + upstream.Reason
	causeUpstreamConnectTimeout = closeCause{sideProxy, toClient{codec.CloseBadGateway, "upstream connect timeout"}, toUpstream{codec.CloseGoingAway, "proxy closing"}}
	causeUpstreamRejected       = closeCause{sideProxy, toClient{codec.CloseBadGateway, "upstream rejected the upgrade"}, toUpstream{codec.CloseGoingAway, "proxy closing"}}
	causeUpstreamStatus         = closeCause{sideProxy, toClient{codec.CloseBadGateway, "upstream answered "}, toUpstream{codec.CloseGoingAway, "proxy closing"}} // + the HTTP status
	causeNoSubprotocol          = closeCause{sideProxy, toClient{codec.CloseBadGateway, "upstream did not accept subprotocol"}, toUpstream{codec.CloseGoingAway, "proxy closing"}}
	causeWrongSubprotocol       = closeCause{sideProxy, toClient{codec.CloseBadGateway, "upstream selected a subprotocol not offered"}, toUpstream{codec.CloseGoingAway, "proxy closing"}}
)

// withDetail returns c with detail appended to the client's reason.
func (c closeCause) withDetail(detail string) closeCause {
	c.client.reason += detail
	return c
}

// withClient returns c with the client told t (a close an error carries).
func (c closeCause) withClient(t toClient) closeCause {
	c.client = t
	return c
}

// withUpstream returns c with the upstream told t (a close an error carries).
func (c closeCause) withUpstream(t toUpstream) closeCause {
	c.up = t
	return c
}

// clientClosed is the client's close frame, echoed to it and forwarded to
// the upstream.
func clientClosed(code uint16, reason string) closeCause {
	fwd := codec.ForwardableCode(code)
	return closeCause{sideClient, toClient{fwd, reason}, toUpstream{fwd, reason}}
}

// upstreamClosed is the upstream's close frame, echoed to it and forwarded
// to the client, whose reason says it came from the upstream when the code
// is one the proxy also sends (forwardedReason).
func upstreamClosed(code uint16, reason []byte) closeCause {
	return closeCause{sideUpstream, toClient{codec.ForwardableCode(code), forwardedReason(code, reason)}, toUpstream{code, string(reason)}}
}

// Sides that can end a session, for the audit trail.
type side uint8

const (
	sideNone side = iota
	sideClient
	sideUpstream
	sideProxy
)

var sideNames = [...]string{sideNone: "", sideClient: "client", sideUpstream: "upstream", sideProxy: "proxy"}

func (s side) String() string { return sideNames[s] }

// closing is how a session ended (the first cause wins), and when a drain
// closes it.
type closing struct {
	code    uint16 // sent to the client; 0 when no close frame went out
	by      side
	reason  string
	drainAt int64 // unix nanos; when draining, causeGoingAway goes out then
}

// end ends the session for cause c: it sends close frames where a WebSocket is established and closes both
// TCP connections. It is idempotent: the first cause is the one recorded.
func (sess *session) end(c closeCause) {
	if sess.state == stateClosed {
		return
	}
	sess.decide(outcomeOfState(sess.state))
	if sess.closing.by == sideNone {
		sess.closing.by = c.by
		sess.closing.code = c.client.code
		sess.closing.reason = c.client.reason
	}
	sess.state = stateClosed
	sess.abandonDirect()
	sess.dropMem()
	if sess.client.ws && sess.client.isOpen() {
		sess.loop.metrics.closeCodes[closeClass(c.client.code)].Add(1)
	}
	sess.client.shutdown(c.client.code, c.client.reason)
	sess.up.shutdown(c.up.code, c.up.reason)
	if ce := sess.server().log.Check(zap.DebugLevel, "Connection ending"); ce != nil {
		ce.Write(zap.String("connection_id", connID(sess.id)), zap.String("closed_by", c.by.String()),
			zap.Uint16("close_code", c.client.code), zap.String("close_reason", c.client.reason))
	}
}
