package codec

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
)

// ClientHandshake is the client side of the WebSocket opening handshake:
// what the proxy sends to an upstream, where it is the WebSocket client.
// (What clients send the proxy is a Request; see ParseRequest.)
type ClientHandshake struct {
	Host            string // Host header: host[:port] of the upstream
	RequestURI      string // origin-form target, "/path?query"; "" means "/"
	Key             string // Sec-WebSocket-Key, 24 base64 characters (NewKey)
	Origin          string // Origin, omitted when ""
	Protocol        string // Sec-WebSocket-Protocol, omitted when ""
	XForwardedFor   string // X-Forwarded-For, omitted when ""
	XForwardedProto string // X-Forwarded-Proto, omitted when ""
	UserAgent       string // User-Agent; "" means "socketx"
}

// AppendClientHandshake appends the opening handshake request:
//
//	GET <RequestURI> HTTP/1.1\r\n
//	Host: <Host>\r\n
//	Upgrade: websocket\r\n
//	Connection: Upgrade\r\n
//	Sec-WebSocket-Key: <Key>\r\n
//	Sec-WebSocket-Version: 13\r\n
//	Origin: <Origin>\r\n                    (each optional line only when set)
//	Sec-WebSocket-Protocol: <Protocol>\r\n
//	X-Forwarded-For: <XForwardedFor>\r\n
//	X-Forwarded-Proto: <XForwardedProto>\r\n
//	User-Agent: <UserAgent or socketx>\r\n
//	\r\n
//
// The request target comes from the client (the decrypted pathname), so it
// is made safe rather than trusted: a missing leading '/' is added, and every
// byte that may not appear in a request-target (controls, space, non-ASCII,
// '#', '"', '<', '>', '\\', '^', '`', '{', '|', '}') is percent-encoded;
// existing %XX escapes are kept as they are. Control characters are dropped
// from the other fields, so no field can add a header line.
func AppendClientHandshake(dst []byte, h *ClientHandshake) []byte {
	dst = append(dst, "GET "...)
	dst = appendTarget(dst, h.RequestURI)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = appendSafe(dst, h.Host)
	dst = append(dst, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "...)
	dst = appendSafe(dst, h.Key)
	dst = append(dst, "\r\nSec-WebSocket-Version: 13\r\n"...)
	dst = appendOptional(dst, "Origin: ", h.Origin)
	dst = appendOptional(dst, "Sec-WebSocket-Protocol: ", h.Protocol)
	dst = appendOptional(dst, "X-Forwarded-For: ", h.XForwardedFor)
	dst = appendOptional(dst, "X-Forwarded-Proto: ", h.XForwardedProto)
	ua := h.UserAgent
	if ua == "" {
		ua = "socketx"
	}
	dst = appendOptional(dst, "User-Agent: ", ua)
	return append(dst, "\r\n"...)
}

func appendOptional(dst []byte, name, value string) []byte {
	if value == "" {
		return dst
	}
	dst = append(dst, name...)
	dst = appendSafe(dst, value)
	return append(dst, "\r\n"...)
}

// appendTarget appends uri as a safe origin-form request-target.
func appendTarget(dst []byte, uri string) []byte {
	if len(uri) == 0 || uri[0] != '/' {
		dst = append(dst, '/')
	}
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(uri); i++ {
		c := uri[i]
		if charClass[c]&classSafeTarget == 0 {
			dst = append(dst, '%', hex[c>>4], hex[c&15])
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// NewKey fills dst with a fresh Sec-WebSocket-Key: 16 bytes from rand
// (crypto/rand.Reader in production), base64-encoded (RFC 6455 §4.1).
func NewKey(rand io.Reader, dst *[24]byte) error {
	var raw [16]byte
	if _, err := io.ReadFull(rand, raw[:]); err != nil {
		return fmt.Errorf("codec: reading random key: %w", err)
	}
	base64.StdEncoding.Encode(dst[:], raw[:])
	return nil
}

// HandshakeResponse is an upstream's accepted answer to the opening
// handshake. Protocol aliases the slice given to ParseHandshakeResponse.
type HandshakeResponse struct {
	Status   int    // always 101 when ParseHandshakeResponse succeeds
	Protocol []byte // Sec-WebSocket-Protocol the upstream chose; nil if none
	HeadLen  int    // length of the head including the final CRLFCRLF
}

type respFlags uint8

const (
	respUpgrade respFlags = 1 << iota
	respConnection
	respAccept
	respProtocol
)

// ParseHandshakeResponse parses an upstream's answer to the opening
// handshake sent with Sec-WebSocket-Key key, and returns the head length n.
// Bytes after the head (a frame the upstream sent right after its 101) are
// not consumed. r.Protocol aliases b; the caller checks it is one it offered.
//
// It returns ErrNeedMore while the head is incomplete and shorter than
// maxHead, and then:
//
//   - *UpstreamError{Status} as soon as the status line is complete, when the
//     status is not 101 (no need to wait for the rest of the head);
//   - ErrResponseTooLarge when the head does not fit in maxHead or has more
//     than MaxHeaders fields;
//   - ErrMalformedResponse for a head that does not start with "HTTP/", a bad
//     status line, a 101 not in HTTP/1.1, a bare LF, obs-fold, a bad header
//     line, a control character in a value, or a repeated
//     Sec-WebSocket-Protocol;
//   - ErrExtension when the upstream lists an extension (none is offered);
//   - ErrNoUpgrade, ErrNoConnection when Upgrade does not list "websocket" or
//     Connection does not list "upgrade";
//   - ErrBadAccept when Sec-WebSocket-Accept is missing, repeated or wrong.
func ParseHandshakeResponse(b []byte, maxHead int, key []byte, r *HandshakeResponse) (n int, err error) {
	*r = HandshakeResponse{}
	w := window(b, maxHead)
	if p := w[:min(len(w), 5)]; string(p) != "HTTP/"[:len(p)] {
		return 0, ErrMalformedResponse
	}
	line, off, st := nextLine(w, 0)
	switch st {
	case lineIncomplete:
		return 0, needMore(b, maxHead, ErrResponseTooLarge)
	case lineBareLF:
		return 0, ErrMalformedResponse
	}
	status, ok := parseStatusLine(line)
	if !ok {
		return 0, ErrMalformedResponse
	}
	if status != 101 {
		return 0, &UpstreamError{Status: status}
	}
	if string(line[:8]) != "HTTP/1.1" {
		return 0, ErrMalformedResponse
	}

	var flags respFlags
	var accept []byte
	headers := 0
	for {
		line, next, st := nextLine(w, off)
		switch st {
		case lineIncomplete:
			return 0, needMore(b, maxHead, ErrResponseTooLarge)
		case lineBareLF:
			return 0, ErrMalformedResponse
		}
		off = next
		if len(line) == 0 {
			break
		}
		if headers == MaxHeaders {
			return 0, ErrResponseTooLarge
		}
		headers++
		if line[0] == ' ' || line[0] == '\t' {
			return 0, ErrMalformedResponse
		}
		name, value, ok := field(line)
		if !ok || !allIn(name, classToken) || !allIn(value, classValue) {
			return 0, ErrMalformedResponse
		}
		switch lookupHeader(name) {
		case hUpgrade:
			if hasToken(value, "websocket") {
				flags |= respUpgrade
			}
		case hConnection:
			if hasToken(value, "upgrade") {
				flags |= respConnection
			}
		case hSecAccept:
			if flags&respAccept != 0 {
				accept = nil // repeated: fails below
			} else {
				accept = value
			}
			flags |= respAccept
		case hSecProtocol:
			if flags&respProtocol != 0 {
				return 0, ErrMalformedResponse
			}
			flags |= respProtocol
			r.Protocol = value
		case hSecExtensions:
			if len(value) > 0 {
				return 0, ErrExtension
			}
		}
	}

	switch {
	case flags&respUpgrade == 0:
		return 0, ErrNoUpgrade
	case flags&respConnection == 0:
		return 0, ErrNoConnection
	}
	var buf [acceptLen]byte
	if want := appendAccept(buf[:0], key); !bytes.Equal(accept, want) {
		return 0, ErrBadAccept
	}
	r.Status = 101
	r.HeadLen = off
	return off, nil
}

// parseStatusLine parses "HTTP/d.d SP 3DIGIT [SP reason-phrase]"
// (RFC 9112 §4; the reason may be empty or, leniently, absent).
func parseStatusLine(line []byte) (status int, ok bool) {
	if len(line) < 12 || string(line[:5]) != "HTTP/" || !isDigit(line[5]) ||
		line[6] != '.' || !isDigit(line[7]) || line[8] != ' ' {
		return 0, false
	}
	for _, c := range line[9:12] {
		if !isDigit(c) {
			return 0, false
		}
		status = status*10 + int(c-'0')
	}
	if rest := line[12:]; len(rest) > 0 && (rest[0] != ' ' || !allIn(rest, classValue)) {
		return 0, false
	}
	return status, status >= 100
}
