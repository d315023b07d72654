package codec

import "bytes"

// Request is a parsed HTTP/1.1 request head. Every []byte field aliases the
// slice given to ParseRequest and is valid only until the caller discards or
// reuses those bytes. Absent headers are nil. Values have the optional white
// space around them removed and are otherwise as received.
//
// Request is a fixed-size struct meant to live inside the per-connection
// state (or on the stack); ParseRequest overwrites all of it.
type Request struct {
	Method []byte // request method, a token, e.g. "GET"
	Target []byte // request-target: origin-form ("/path?query") or "*"
	Proto  []byte // "HTTP/1.1" or "HTTP/1.0"

	Host       []byte // Host
	Origin     []byte // Origin
	Upgrade    []byte // first Upgrade line
	Connection []byte // first Connection line
	SecKey     []byte // Sec-WebSocket-Key
	SecVersion []byte // Sec-WebSocket-Version
	Protocol   []byte // Sec-WebSocket-Protocol, first line (duplicates fail CheckUpgrade)
	Extensions []byte // Sec-WebSocket-Extensions, first line (never negotiated)

	XForwardedFor   []byte // X-Forwarded-For, LAST line: it holds the nearest hops
	XForwardedProto []byte // X-Forwarded-Proto, first line
	UserAgent       []byte // User-Agent

	TransferEncoding []byte // Transfer-Encoding, first line
	ContentLength    int64  // Content-Length, -1 when absent

	HeadLen int // length of the head including the final CRLFCRLF
	Headers int // number of header fields in the head

	flags reqFlags
}

type reqFlags uint16

const (
	seenHost reqFlags = 1 << iota
	seenOrigin
	seenKey
	seenVersion
	seenProtocol
	seenContentLength
	seenTransferEncoding
	dupKey
	dupVersion
	dupProtocol
	upgradeWebSocket  // some Upgrade line lists "websocket"
	connectionUpgrade // some Connection line lists "upgrade"
)

// ParseRequest parses the HTTP/1.1 request head at the start of b into r and
// returns its length n, including the final CRLFCRLF. Bytes after the head
// (a body, or pipelined data) are not looked at. The fields of r alias b.
//
// A head must end within the first maxHead bytes. When b holds no complete
// head, ParseRequest returns ErrNeedMore if len(b) < maxHead and an
// *HTTPError{431, "request header too large"} otherwise. A malformed line is
// reported as soon as it is complete, so a peer sending garbage is rejected
// before maxHead bytes arrive.
//
// Every rejection is an *HTTPError (status and reason for AppendErrorResponse):
//
//   - 400: a request line that is not "METHOD SP target SP HTTP/d.d"; a
//     method that is not a token; a target that is not origin-form or "*"
//     or holds a byte outside 0x21–0x7E; a line ending in a bare LF;
//     obs-fold; a header name that is not a token or white space before the
//     colon; a control character (CR, LF, NUL, …) in a value; a duplicate Host
//     or Origin; a Host that is not a reg-name or a bracketed IPv6 address
//     with an optional port ("invalid Host header"), or whose port is not
//     1–65535 ("invalid port in Host header"); no (or an empty) Host in
//     HTTP/1.1; an invalid or duplicate Content-Length; Content-Length with
//     Transfer-Encoding.
//   - 505: an HTTP version other than 1.0 and 1.1.
//   - 431: the head does not fit in maxHead, or it has more than MaxHeaders
//     fields.
//
// HTTP/1.0 parses; CheckUpgrade rejects it. Duplicate Sec-WebSocket-Key,
// -Version and -Protocol are recorded and rejected by CheckUpgrade.
func ParseRequest(b []byte, maxHead int, r *Request) (n int, err error) {
	*r = Request{ContentLength: -1}
	w := window(b, maxHead)

	// Reject a bad method before the request line is complete: a TLS
	// ClientHello or other binary garbage fails at its first byte.
	for i, c := range w {
		if c == ' ' && i > 0 {
			break
		}
		if !isToken(c) {
			return 0, errBadMethod
		}
	}

	line, off, st := nextLine(w, 0)
	switch st {
	case lineIncomplete:
		return 0, needMore(b, maxHead, errHeadTooLarge)
	case lineBareLF:
		return 0, errBareLF
	}
	if err := parseRequestLine(line, r); err != nil {
		return 0, err
	}

	for {
		line, next, st := nextLine(w, off)
		switch st {
		case lineIncomplete:
			return 0, needMore(b, maxHead, errHeadTooLarge)
		case lineBareLF:
			return 0, errBareLF
		}
		off = next
		if len(line) == 0 {
			break
		}
		if r.Headers == MaxHeaders {
			return 0, errTooManyHeaders
		}
		r.Headers++
		if err := r.addHeader(line); err != nil {
			return 0, err
		}
	}

	if r.flags&seenHost == 0 || len(r.Host) == 0 {
		if r.Proto[7] == '1' {
			return 0, errNoHost
		}
	}
	if r.flags&seenContentLength != 0 && r.flags&seenTransferEncoding != 0 {
		return 0, errLengthAndChunked
	}
	r.HeadLen = off
	return off, nil
}

// parseRequestLine parses "METHOD SP request-target SP HTTP-version"
// (RFC 9112 §3). The method bytes were already checked to be token bytes.
func parseRequestLine(line []byte, r *Request) error {
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return errBadRequestLine
	}
	r.Method = line[:sp]
	rest := line[sp+1:]
	sp = bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return errBadRequestLine
	}
	target, proto := rest[:sp], rest[sp+1:]
	if len(proto) != 8 || string(proto[:5]) != "HTTP/" || proto[6] != '.' ||
		!isDigit(proto[5]) || !isDigit(proto[7]) {
		return errBadRequestLine
	}
	if !allIn(target, classTarget) || (target[0] != '/' && !(len(target) == 1 && target[0] == '*')) {
		return errBadTarget
	}
	if proto[5] != '1' || (proto[7] != '0' && proto[7] != '1') {
		return errBadVersion
	}
	r.Target, r.Proto = target, proto
	return nil
}

// needMore is the error for a head that is not complete in b: wait for more
// bytes while the head may still fit in maxHead, else tooLarge.
func needMore(b []byte, maxHead int, tooLarge error) error {
	if len(b) < maxHead {
		return ErrNeedMore
	}
	return tooLarge
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// addHeader parses one header line (without its CRLF) into r.
func (r *Request) addHeader(line []byte) error {
	if line[0] == ' ' || line[0] == '\t' {
		return errObsFold
	}
	name, value, ok := field(line)
	if !ok {
		return errBadHeaderLine
	}
	if !allIn(name, classToken) {
		return errBadHeaderName
	}
	if !allIn(value, classValue) {
		return errBadHeaderValue
	}
	switch lookupHeader(name) {
	case hHost:
		if r.flags&seenHost != 0 {
			return errDupHost
		}
		if !allIn(value, classHost) {
			return errBadHost
		}
		if err := checkHost(value); err != nil {
			return err
		}
		r.flags |= seenHost
		r.Host = value
	case hOrigin:
		if r.flags&seenOrigin != 0 {
			return errDupOrigin
		}
		r.flags |= seenOrigin
		r.Origin = value
	case hUpgrade:
		if r.Upgrade == nil {
			r.Upgrade = value
		}
		if hasToken(value, "websocket") {
			r.flags |= upgradeWebSocket
		}
	case hConnection:
		if r.Connection == nil {
			r.Connection = value
		}
		if hasToken(value, "upgrade") {
			r.flags |= connectionUpgrade
		}
	case hSecKey:
		if r.flags&seenKey != 0 {
			r.flags |= dupKey
		}
		r.flags |= seenKey
		if r.SecKey == nil {
			r.SecKey = value
		}
	case hSecVersion:
		if r.flags&seenVersion != 0 {
			r.flags |= dupVersion
		}
		r.flags |= seenVersion
		if r.SecVersion == nil {
			r.SecVersion = value
		}
	case hSecProtocol:
		if r.flags&seenProtocol != 0 {
			r.flags |= dupProtocol
		}
		r.flags |= seenProtocol
		if r.Protocol == nil {
			r.Protocol = value
		}
	case hSecExtensions:
		if r.Extensions == nil {
			r.Extensions = value
		}
	case hXForwardedFor:
		r.XForwardedFor = value
	case hXForwardedProto:
		if r.XForwardedProto == nil {
			r.XForwardedProto = value
		}
	case hUserAgent:
		if r.UserAgent == nil {
			r.UserAgent = value
		}
	case hContentLength:
		if r.flags&seenContentLength != 0 {
			return errDupContentLength
		}
		n, ok := parseDecimal(value)
		if !ok {
			return errBadContentLength
		}
		r.flags |= seenContentLength
		r.ContentLength = n
	case hTransferEncoding:
		r.flags |= seenTransferEncoding
		if r.TransferEncoding == nil {
			r.TransferEncoding = value
		}
	}
	return nil
}

// parseDecimal parses 1 to 18 ASCII digits.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// IsUpgrade reports whether the request asks for a WebSocket upgrade: an
// Upgrade header lists "websocket" and a Connection header lists "upgrade"
// (comma-separated lists, case-insensitive; repeated lines all count).
func (r *Request) IsUpgrade() bool {
	return (r.flags&upgradeWebSocket != 0 || hasToken(r.Upgrade, "websocket")) &&
		(r.flags&connectionUpgrade != 0 || hasToken(r.Connection, "upgrade"))
}

// SplitTarget splits a request-target at the first '?' into path and query
// (without the '?'). query is nil when there is no '?'. Both alias target.
func SplitTarget(target []byte) (path, query []byte) {
	if i := bytes.IndexByte(target, '?'); i >= 0 {
		return target[:i], target[i+1:]
	}
	return target, nil
}
