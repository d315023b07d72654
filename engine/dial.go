package engine

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"time"

	"github.com/panjf2000/gnet/v2"
	"go.uber.org/zap"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/routing"
	"github.com/socketx/socketx-server/upstream"
)

// startDial connects the upstream off the loop. The dialer goroutine only
// dials and enrolls: the new conn arrives in OnOpen on this session's loop
// (context = &sess.up), a failure in dialFailed through EventLoop.Execute.
func (sess *session) startDial(t routing.Target) {
	s := sess.server()
	sess.state = stateDialing
	sess.audit.dialAt = time.Now().UnixNano()
	sess.target = t.URL
	sess.setup.upHost = t.Host
	sess.setup.upURI = t.RequestURI
	sess.deadline = time.Now().UnixNano() + int64(s.cfg.DialTimeout+s.cfg.HandshakeTimeout)
	if err := codec.NewKey(rand.Reader, &sess.setup.upKey); err != nil {
		sess.rejectSetup(reasonUpstream, causeKeyFailed)
		return
	}
	el := sess.loop.el
	up := &sess.up
	ep := upstream.Endpoint{Addr: t.Addr, TLS: t.TLS, ServerName: t.ServerName}
	hold := sess.dialStarted(ep)
	go func() {
		conn, err := s.dialer.Dial(s.ctx, ep)
		if err == nil {
			var ch <-chan gnet.RegisteredResult
			ch, err = el.Enroll(gnet.NewContext(s.ctx, up), conn)
			if err == nil {
				if res := <-ch; res.Err != nil {
					err = res.Err
				}
			} else {
				_ = conn.Close()
			}
		}
		s.dialDone(ep, hold, err == nil)
		if err != nil {
			_ = el.Execute(s.ctx, gnet.RunnableFunc(func(context.Context) error {
				up.sess.dialFailed(err)
				return nil
			}))
		}
	}()
}

// dialFailed runs on the loop when the upstream could not be reached.
func (sess *session) dialFailed(err error) {
	if sess.state != stateDialing {
		return
	}
	reason := upstream.Reason(err)
	if ce := sess.server().logRejection("Upstream connection failed"); ce != nil {
		ce.Write(zap.String("connection_id", connID(sess.id)), zap.String("upstream_server", sess.target),
			zap.String("reason", reason), zap.Error(err))
	}
	cause := causeUpstreamUnavailable
	if errors.Is(err, upstream.ErrBackoff) || errors.Is(err, upstream.ErrTooManyDials) {
		cause = causeUpstreamBackingOff
	}
	sess.rejectSetup(reasonUpstream, cause.withDetail(reason))
}

// upstreamOpened runs in OnOpen for an enrolled upstream conn: send the
// client-side WebSocket handshake.
func (s *Server) upstreamOpened(up *leg, c gnet.Conn) ([]byte, gnet.Action) {
	sess := up.sess
	if sess.state != stateDialing {
		sess.upstreamEnrolled(false)
		c.SetContext(nil)
		return nil, gnet.Close // the client left while we dialed
	}
	sess.upstreamEnrolled(true)
	up.opened(c, time.Now().UnixNano())
	up.asm.Reset()
	sess.state = stateUpgrading
	sess.resetDeadline()
	h := codec.ClientHandshake{
		Host:            sess.setup.upHost,
		RequestURI:      sess.setup.upURI,
		Key:             string(sess.setup.upKey[:]),
		Origin:          sess.remote.origin,
		Protocol:        sess.setup.protocol,
		XForwardedFor:   sess.setup.forwarded,
		XForwardedProto: sess.setup.fwdProto,
	}
	out := codec.AppendClientHandshake(sess.loop.scratch[:0], &h)
	sess.loop.scratch = out[:0]
	return out, gnet.None
}

// upstreamHandshake parses the upstream's 101. It returns the head length
// and true once relaying; false while more bytes are needed or on failure.
func (sess *session) upstreamHandshake(buf []byte) (int, bool) {
	s := sess.server()
	var resp codec.HandshakeResponse
	n, err := codec.ParseHandshakeResponse(buf, s.cfg.MaxHeadSize, sess.setup.upKey[:], &resp)
	if err == codec.ErrNeedMore {
		return 0, false
	}
	if err != nil {
		if ce := s.logRejection("Upstream handshake failed"); ce != nil {
			ce.Write(zap.String("connection_id", connID(sess.id)), zap.String("upstream_server", sess.target), zap.Error(err))
		}
		cause := causeUpstreamRejected
		var ue *codec.UpstreamError
		if errors.As(err, &ue) {
			cause = causeUpstreamStatus.withDetail(strconv.Itoa(ue.Status))
		}
		sess.rejectSetup(reasonUpstream, cause)
		return 0, false
	}
	// The client was told in its 101 that sess.setup.protocol is in use (or
	// that none is): the upstream must agree exactly (RFC 6455 §4.1).
	if string(resp.Protocol) != sess.setup.protocol {
		cause := causeWrongSubprotocol
		if len(resp.Protocol) == 0 {
			cause = causeNoSubprotocol
		}
		if ce := s.logRejection("Upstream handshake failed"); ce != nil {
			ce.Write(zap.String("connection_id", connID(sess.id)), zap.String("upstream_server", sess.target),
				zap.String("detail", cause.client.reason), zap.String("offered", sess.setup.protocol), zap.ByteString("selected", resp.Protocol))
		}
		sess.rejectSetup(reasonUpstream, cause)
		return 0, false
	}
	sess.up.ws = true
	sess.state = stateRelay
	sess.setup = setupFacts{}
	sess.audit.readyAt = time.Now().UnixNano()
	sess.loop.stats.UpstreamsReady.Add(1)
	sess.loop.metrics.dial.observe(uint64(sess.audit.readyAt - sess.audit.dialAt))
	sess.sendHandshake(mte.ActionUpstreamResponse, nil)
	sess.flush()
	// Setup used the decoder's AES-GCM object for the pathname; drop it so
	// a connection that stays idle holds only keys (the first message
	// rebuilds what it needs, ≈ 0.3 µs and one allocation per direction).
	sess.mte.Release()
	// Client messages that arrived while we connected are waiting in the
	// client's inbound buffer; they are read now.
	sess.mem.pipelined = 0
	sess.memChanged()
	if sess.client.isOpen() && sess.client.conn.InboundBuffered() > 0 {
		sess.readClient()
	}
	return n, sess.state == stateRelay
}
