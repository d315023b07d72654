package engine

import (
	"net/netip"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/routing"
	"github.com/socketx/socketx-server/upstream"
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

// session is one proxied connection: the client leg, the upstream leg and
// the MTE state. It lives on one event loop and is touched only there.
type session struct {
	loop    *loop
	index   int // position in loop.sessions, for O(1) removal
	id      uint64
	state   state
	outcome outcome // how the connection ended, for the metrics (outcome.go)

	client leg
	up     leg

	route  *routing.Route
	mte    mte.Session
	target string // upstream URL, for logs

	pairReq *[]byte // the pairRequest waiting in the loop's pairing FIFO (pairqueue.go)

	deadline int64 // unix nanos; the current setup phase ends by then

	remote  remoteInfo
	setup   setupFacts
	direct  upstream.DirectDial // the upstream connect in flight on this loop (dial.go)
	closing closing             // closes.go
	ciphers idleCiphers         // loop.go
	mem     memHold             // memory budget (membudget.go)
	budget  budgetHold          // descriptor budget (fdbudget.go)
	audit   audit
}

// remoteInfo is what the session knows of its client, for logs and for
// the X-Forwarded-* headers; set while the request head is read.
type remoteInfo struct {
	addr    string     // client address (PROXY protocol / trusted X-Forwarded-For applied)
	peer    netip.Addr // TCP peer
	host    string     // Host header, for logs
	origin  string     // Origin header, forwarded and logged
	proxied bool       // PROXY protocol header consumed
}

// setupFacts are what the upstream handshake needs; the session drops them
// once the upstream has answered it.
type setupFacts struct {
	protocol  string // subprotocol selected in the client's 101, the only one offered upstream
	forwarded string // X-Forwarded-For to send upstream
	fwdProto  string // X-Forwarded-Proto to send upstream
	upHost    string // Host header for the upstream
	upURI     string // request-target for the upstream
	upKey     [24]byte
}

// audit is the connection's accounting, logged once at close.
type audit struct {
	msgsUp, msgsDown   uint64
	bytesUp, bytesDown uint64
	decodeNs, encodeNs uint64 // relay time spent per direction

	openedAt, upgradedAt, pairedAt, dialAt, readyAt int64 // unix nanos
}

func (sess *session) server() *Server { return sess.loop.srv }

// logClosed writes the end-of-connection audit line.
func (sess *session) logClosed() {
	now := time.Now().UnixNano()
	if sess.client.ws {
		sess.loop.metrics.session.observe(uint64(now - sess.audit.upgradedAt))
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
		zap.String("client_addr", sess.remote.addr),
		zap.String("host", sess.remote.host),
		zap.String("origin", sess.remote.origin),
		zap.String("upstream_server", sess.target),
		zap.Object("audit", auditLine{sess, now}),
	)
}

func (sess *session) eeidString() string {
	if !sess.mte.Paired() {
		return ""
	}
	return sess.mte.EEID().String()
}

// auditLine renders a session's audit, closing included, for the
// "Connection closed" line.
type auditLine struct {
	sess *session
	now  int64
}

func (a auditLine) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	s, au := a.sess, &a.sess.audit
	ts := func(key string, t int64) {
		if t != 0 {
			enc.AddString(key, time.Unix(0, t).UTC().Format(time.RFC3339Nano))
		}
	}
	ts("connected_at", au.openedAt)
	ts("paired_at", au.pairedAt)
	ts("upstream_ready_at", au.readyAt)
	ts("closed_at", a.now)
	enc.AddFloat64("duration_ms", float64(a.now-au.openedAt)/1e6)
	enc.AddUint64("messages_client_to_upstream", au.msgsUp)
	enc.AddUint64("messages_upstream_to_client", au.msgsDown)
	enc.AddUint64("bytes_client_to_upstream", au.bytesUp)
	enc.AddUint64("bytes_upstream_to_client", au.bytesDown)
	enc.AddFloat64("decode_time_ms", float64(au.decodeNs)/1e6)
	enc.AddFloat64("encode_time_ms", float64(au.encodeNs)/1e6)
	enc.AddUint16("close_code", s.closing.code)
	enc.AddString("close_reason", s.closing.reason)
	enc.AddString("closed_by", s.closing.by.String())
	return nil
}
