package engine

import (
	"encoding/json"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/socketx/socketx-server/codec"
)

// readHead parses the HTTP request head at the start of buf. It answers
// built-in routes and rejections itself. It returns the bytes consumed and
// whether the connection was upgraded (false also when more bytes are
// needed: then consumed is 0 and the session is still in stateHead).
func (sess *session) readHead(buf []byte) (consumed int, upgraded bool) {
	s := sess.server()
	off := 0
	if s.cfg.ProxyProtocol && !sess.remote.proxied {
		n, src, err := codec.ParseProxyHeader(buf)
		if err == codec.ErrNeedMore {
			return 0, false
		}
		if err != nil {
			sess.reject(reasonBadRequest, err, nil)
			return len(buf), false
		}
		sess.remote.proxied = true
		if src.IsValid() {
			sess.remote.addr = src.Addr().Unmap().String()
			sess.remote.peer = src.Addr().Unmap()
		}
		off = n
	}
	var req codec.Request
	n, err := codec.ParseRequest(buf[off:], s.cfg.MaxHeadSize, &req)
	if err == codec.ErrNeedMore {
		if off > 0 {
			return off, false // keep the session; the PROXY header is consumed
		}
		return 0, false
	}
	n += off
	if err != nil {
		sess.reject(reasonBadRequest, err, &req)
		return len(buf), false
	}
	if !req.IsUpgrade() {
		sess.serveHTTP(&req)
		return len(buf), false
	}
	if err := codec.CheckUpgrade(&req); err != nil {
		sess.reject(reasonBadRequest, err, &req)
		return len(buf), false
	}
	if s.draining.Load() {
		sess.reject(reasonDraining, &codec.HTTPError{Status: 503, Reason: "server is draining", RetryAfter: 1}, &req)
		return len(buf), false
	}
	if s.cfg.MaxConnections > 0 && s.activeWebSockets() >= int64(s.cfg.MaxConnections) {
		sess.reject(reasonTooMany, &codec.HTTPError{Status: 503, Reason: "too many connections", RetryAfter: 5}, &req)
		return len(buf), false
	}
	route, ok := s.routes.Load().Match(req.Host)
	if !ok {
		sess.reject(reasonUnknownHost, &codec.HTTPError{Status: 404, Reason: "unknown host"}, &req)
		return len(buf), false
	}
	if !route.AllowOrigin(req.Origin) {
		sess.reject(reasonOrigin, &codec.HTTPError{Status: 403, Reason: "origin not allowed"}, &req)
		return len(buf), false
	}

	sess.route = route
	sess.remote.host = string(req.Host)
	sess.remote.origin = string(req.Origin)
	// Pairing comes before the upstream exists, so the 101 selects the
	// first protocol offered and only that one is offered upstream; an
	// upstream that does not select it ends the session (upstreamHandshake).
	sess.setup.protocol = string(codec.FirstProtocol(req.Protocol))
	// X-Forwarded-* towards the upstream. Only a trusted proxy's chain is
	// passed on (with the peer appended); anyone else's is dropped, so the
	// leftmost entry the upstream sees was written by the proxy or by a
	// proxy it trusts.
	peerIP := sess.remote.addr
	trusted := s.trusted(sess.remote.peer)
	sess.setup.forwarded = peerIP
	if trusted && len(req.XForwardedFor) > 0 {
		sess.setup.forwarded = string(req.XForwardedFor) + ", " + peerIP
		sess.remote.addr = clientFromXFF(req.XForwardedFor, s.cfg.TrustedProxies, peerIP)
	}
	sess.setup.fwdProto = "http"
	if trusted && len(req.XForwardedProto) > 0 {
		sess.setup.fwdProto = string(req.XForwardedProto)
	}

	out := codec.AppendUpgradeResponse(sess.loop.toClient[:0], req.SecKey, []byte(sess.setup.protocol))
	_, _ = sess.client.conn.Write(out)
	sess.loop.toClient = out[:0]
	sess.client.ws = true
	sess.state = stateHello
	sess.audit.upgradedAt = time.Now().UnixNano()
	sess.deadline = sess.audit.upgradedAt + int64(s.cfg.HandshakeTimeout)
	sess.loop.stats.Upgrades.Add(1)
	return n, true
}

// trusted reports whether the TCP peer is a configured proxy whose
// X-Forwarded-* headers are believed.
func (s *Server) trusted(peer netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(peer) {
			return true
		}
	}
	return false
}

// clientFromXFF walks X-Forwarded-For from the right, skipping trusted
// proxies, and returns the first untrusted address (the client as seen by
// the outermost trusted hop).
func clientFromXFF(xff []byte, trusted []netip.Prefix, fallback string) string {
	parts := strings.Split(string(xff), ",")
	for i := len(parts) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(parts[i]))
		if err != nil {
			return fallback
		}
		a = a.Unmap()
		isTrusted := false
		for _, p := range trusted {
			if p.Contains(a) {
				isTrusted = true
				break
			}
		}
		if !isTrusted {
			return a.String()
		}
	}
	return fallback
}

// reject answers an HTTP error and closes.
func (sess *session) reject(r reason, err error, req *codec.Request) {
	s := sess.server()
	he, ok := err.(*codec.HTTPError)
	if !ok {
		he = &codec.HTTPError{Status: 400, Reason: "bad request"}
	}
	sess.countReject(r)
	if ce := s.logRejection("Request rejected"); ce != nil {
		fields := []zap.Field{zap.String("connection_id", connID(sess.id)), zap.String("reason", r.String()),
			zap.Int("status", he.Status), zap.String("detail", he.Reason), zap.String("client_addr", sess.remote.addr)}
		if req != nil {
			fields = append(fields, zap.String("host", string(req.Host)), zap.String("origin", string(req.Origin)))
		}
		ce.Write(fields...)
	}
	sess.respond(forMethod(req, codec.AppendErrorResponse(sess.loop.toClient[:0], he)))
}

// forMethod returns resp, a complete response, cut to its head when req is
// a HEAD request (RFC 9110 §9.3.2): same header fields, no body.
func forMethod(req *codec.Request, resp []byte) []byte {
	if req != nil && string(req.Method) == "HEAD" {
		return codec.HeadOnly(resp)
	}
	return resp
}

// respond writes a complete HTTP response and closes the connection.
func (sess *session) respond(out []byte) {
	_, _ = sess.client.conn.Write(out)
	sess.loop.toClient = out[:0]
	sess.decide(outcomeHTTP)    // unless a rejection decided first
	sess.closing.by = sideProxy // an HTTP response: no close code
	sess.state = stateClosed
	sess.client.shutdown(0, "")
}

// serveHTTP answers the built-in routes on the public port. HEAD gets the
// GET answer without its body.
func (sess *session) serveHTTP(req *codec.Request) {
	path, query := codec.SplitTarget(req.Target)
	get := string(req.Method) == "GET" || string(req.Method) == "HEAD"
	dst := sess.loop.toClient[:0]
	var out []byte
	switch string(path) {
	case "/health", "/healthz":
		if !get {
			out = codec.AppendErrorResponse(dst, &codec.HTTPError{Status: 405, Reason: "method not allowed"})
			break
		}
		out = codec.AppendResponse(dst, 200, "application/json", []byte(`{"status":"ok"}`))
	case "/ready", "/readyz":
		if !get {
			out = codec.AppendErrorResponse(dst, &codec.HTTPError{Status: 405, Reason: "method not allowed"})
			break
		}
		if sess.server().draining.Load() {
			out = codec.AppendResponse(dst, 503, "application/json", []byte(`{"status":"draining"}`))
			break
		}
		out = codec.AppendResponse(dst, 200, "application/json", []byte(`{"status":"ready"}`))
	case "/api/socketx-echo":
		if !get {
			out = codec.AppendErrorResponse(dst, &codec.HTTPError{Status: 405, Reason: "method not allowed"})
			break
		}
		out = codec.AppendResponse(dst, 200, "application/json", echoBody(query, time.Now()))
	default:
		if req.Upgrade != nil || req.SecKey != nil {
			// Asked for an upgrade but not properly: a rejection like any
			// other (logged, counted).
			sess.reject(reasonBadRequest, &codec.HTTPError{Status: 400, Reason: "invalid websocket upgrade request"}, req)
			return
		}
		out = codec.AppendErrorResponse(dst, &codec.HTTPError{Status: 404, Reason: "not found"})
	}
	sess.respond(forMethod(req, out))
}

// echoBody renders {"message":...,"timestamp":...} exactly as the product
// docs show, with the message JSON-escaped.
func echoBody(rawQuery []byte, now time.Time) []byte {
	q, _ := url.ParseQuery(string(rawQuery))
	body, _ := json.Marshal(struct {
		Message   string `json:"message"`
		Timestamp string `json:"timestamp"`
	}{q.Get("msg"), now.UTC().Format(time.RFC3339)})
	return body
}
