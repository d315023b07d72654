package engine

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/routing"
	"github.com/socketx/socketx-server/upstream"
)

// startDial connects the upstream. A ws:// upstream named by an IP
// address is connected on this loop (connectDirect); anything else — a
// wss:// upstream, a host name to resolve, an address whose dial slots are
// all taken — by a dialer goroutine, which only dials and enrolls: the new
// conn arrives in OnOpen on this session's loop (context = &sess.up), a
// failure in dialFailed through EventLoop.Execute. It reports false if the
// session ended at once.
func (sess *session) startDial(t routing.Target) bool {
	s := sess.server()
	sess.state = stateDialing
	sess.audit.dialAt = time.Now().UnixNano()
	sess.target = t.URL
	sess.setup.upHost = t.Host
	sess.setup.upURI = t.RequestURI
	sess.deadline = time.Now().UnixNano() + int64(s.cfg.DialTimeout+s.cfg.HandshakeTimeout)
	if err := codec.NewKey(rand.Reader, &sess.setup.upKey); err != nil {
		sess.rejectSetup(reasonUpstream, causeKeyFailed)
		return false
	}
	ep := upstream.Endpoint{Addr: t.Addr, TLS: t.TLS, ServerName: t.ServerName}
	if s.direct != nil {
		d, addr, ok, err := s.direct.StartDirect(ep)
		switch {
		case err != nil:
			sess.dialFailed(err)
			return false
		case ok:
			return sess.connectDirect(d, addr)
		}
	}
	el := sess.loop.el
	up := &sess.up
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
	return true
}

// connectDirect connects the upstream on this loop: a non-blocking
// socket(2) and connect(2), then gnet's EnrollFD adds the socket to this
// loop and runs OnOpen (upstreamOpened) at once, which queues the upstream
// handshake until the connection is established. No goroutine, no dup(2),
// no hand-over: the handshake goes out as soon as the kernel completes the
// connect. Until the upstream's first bytes arrive the dial is open
// (sess.direct): a connect that fails closes the leg (directConnectFailed),
// DialTimeout without a connection ends it as a timed-out dial
// (directDeadline), and a session ending first abandons it (abandonDirect).
func (sess *session) connectDirect(d upstream.DirectDial, addr *net.TCPAddr) bool {
	s := sess.server()
	sess.direct = d
	fd, err := dialSocket(addr)
	if err != nil {
		sess.directFailed(err)
		return false
	}
	sess.directDialStarted()
	if err := sess.loop.el.EnrollFD(fd, addr, &sess.up); err != nil {
		// gnet closed fd. If OnOpen ran, OnClose has ended the session.
		if sess.up.state == legUnconnected {
			sess.upstreamEnrolled(false)
		}
		if sess.direct.Active() {
			sess.directFailed(err)
		}
		return false
	}
	if sess.state == stateClosed {
		return false
	}
	// Until connected, the dial's own deadline applies (directDeadline).
	sess.deadline = sess.audit.dialAt + int64(s.cfg.DialTimeout)
	return true
}

// dialSocket opens a non-blocking TCP socket with TCP_NODELAY and starts
// connecting it to addr. The caller owns the descriptor it returns.
func dialSocket(addr *net.TCPAddr) (int, error) {
	var sa unix.Sockaddr
	family := unix.AF_INET
	if ip4 := addr.IP.To4(); ip4 != nil {
		sa4 := &unix.SockaddrInet4{Port: addr.Port}
		copy(sa4.Addr[:], ip4)
		sa = sa4
	} else {
		family = unix.AF_INET6
		sa6 := &unix.SockaddrInet6{Port: addr.Port}
		copy(sa6.Addr[:], addr.IP.To16())
		sa = sa6
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if err := unix.Connect(fd, sa); err != nil && err != unix.EINPROGRESS {
		_ = unix.Close(fd)
		return -1, os.NewSyscallError("connect", err)
	}
	return fd, nil
}

// directFailed ends a session whose direct dial failed with err: the dial
// is recorded (backoff, statistics) and the client told as for any
// unreachable upstream.
func (sess *session) directFailed(err error) {
	if derr := sess.server().direct.FinishDirect(&sess.direct, err); derr != nil {
		err = derr
	}
	sess.upstreamUnavailable(err)
}

// directConnectFailed runs in OnClose for the leg of a direct dial that
// closed before the upstream sent anything: the connect failed (refused,
// reset, unreachable). gnet reports the read or write error; a bare EOF or
// nil is replaced by the socket's pending error when it has one.
func (sess *session) directConnectFailed(c gnet.Conn, err error) {
	if err == nil || errors.Is(err, io.EOF) {
		if soErr, e := unix.GetsockoptInt(c.Fd(), unix.SOL_SOCKET, unix.SO_ERROR); e == nil && soErr != 0 {
			err = os.NewSyscallError("connect", syscall.Errno(soErr))
		} else if err == nil {
			err = io.EOF
		}
	}
	sess.up.state = legGone // gnet is closing it: end must not shut it down
	sess.directFailed(err)
}

// directDeadline runs when a direct dial's DialTimeout has passed without
// any byte from the upstream: an established connection goes on with the
// rest of the setup time, as after a dial; anything else is a dial that
// timed out.
func (sess *session) directDeadline() {
	s := sess.server()
	if sess.upEstablished() {
		_ = s.direct.FinishDirect(&sess.direct, nil)
		sess.deadline = sess.audit.dialAt + int64(s.cfg.DialTimeout+s.cfg.HandshakeTimeout)
		return
	}
	sess.directFailed(context.DeadlineExceeded)
}

// abandonDirect records a direct dial that the session gave up on (the
// client left, the engine stops): a success if the connection was
// established by then, else canceled.
func (sess *session) abandonDirect() {
	if !sess.direct.Active() {
		return
	}
	var err error
	if !sess.upEstablished() {
		err = context.Canceled
	}
	_ = sess.server().direct.FinishDirect(&sess.direct, err)
}

// upEstablished reports whether the upstream leg's TCP connection is
// established (TCP_INFO).
func (sess *session) upEstablished() bool {
	if !sess.up.isOpen() {
		return false
	}
	info, err := unix.GetsockoptTCPInfo(sess.up.conn.Fd(), unix.IPPROTO_TCP, unix.TCP_INFO)
	return err == nil && info.State == tcpEstablished
}

// tcpEstablished is TCP_ESTABLISHED in tcp_info.tcpi_state (linux/tcp_states.h).
const tcpEstablished = 1

// dialFailed runs on the loop when the upstream could not be reached.
func (sess *session) dialFailed(err error) {
	if sess.state != stateDialing {
		return
	}
	sess.upstreamUnavailable(err)
}

// upstreamUnavailable ends a session whose upstream dial failed with err.
func (sess *session) upstreamUnavailable(err error) {
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
	if sess.direct.Active() { // the upstream's first bytes: connected
		_ = s.direct.FinishDirect(&sess.direct, nil)
		sess.deadline = time.Now().UnixNano() + int64(s.cfg.HandshakeTimeout)
	}
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
