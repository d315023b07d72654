package codec

import (
	"bytes"
	"strings"
)

// MaxHeaders is the most header fields a request or an upstream response
// head may carry; more is rejected (431 for requests).
const MaxHeaders = 100

// Character classes, RFC 9110 §5.6.2 (tchar), §5.5 (field-value) and
// RFC 3986 §3.2.2 (host).
const (
	classToken      = 1 << iota
	classValue      // HTAB, SP, VCHAR, obs-text
	classHost       // reg-name, IP-literal and port characters
	classTarget     // request-target bytes accepted from clients: VCHAR
	classSafeTarget // request-target bytes written to upstreams unescaped
)

var charClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		if c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f) {
			t[c] |= classValue
		}
		if c > 0x20 && c < 0x7f {
			t[c] |= classTarget
			if !strings.ContainsRune("#\"<>\\^`{|}", rune(c)) {
				t[c] |= classSafeTarget
			}
		}
	}
	for _, c := range []byte("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		t[c] |= classToken
	}
	for _, c := range []byte("-._~%!$&'()*+,;=:[]0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		t[c] |= classHost
	}
	return t
}()

func isToken(c byte) bool { return charClass[c]&classToken != 0 }

// allIn reports whether every byte of b is in class.
func allIn(b []byte, class uint8) bool {
	for _, c := range b {
		if charClass[c]&class == 0 {
			return false
		}
	}
	return true
}

// window limits b to the first maxHead bytes: a head must end within them.
func window(b []byte, maxHead int) []byte {
	if maxHead < 0 {
		maxHead = 0
	}
	if len(b) > maxHead {
		return b[:maxHead]
	}
	return b
}

// lineStatus is the outcome of nextLine.
type lineStatus uint8

const (
	lineOK lineStatus = iota
	lineIncomplete
	lineBareLF
)

// nextLine returns the line that starts at b[off:], without its CRLF, and
// the offset just after the CRLF. A line must end in CRLF: an LF without the
// CR before it is lineBareLF; no LF yet is lineIncomplete.
func nextLine(b []byte, off int) (line []byte, next int, st lineStatus) {
	i := bytes.IndexByte(b[off:], '\n')
	if i < 0 {
		return nil, off, lineIncomplete
	}
	end := off + i
	if i == 0 || b[end-1] != '\r' {
		return nil, off, lineBareLF
	}
	return b[off : end-1], end + 1, lineOK
}

// field splits a header line into name and value, trimming optional white
// space around the value. ok is false when there is no colon, the name is
// empty, or white space precedes the colon (RFC 9112 §5.1).
func field(line []byte) (name, value []byte, ok bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return nil, nil, false
	}
	name = line[:i]
	if c := name[i-1]; c == ' ' || c == '\t' {
		return nil, nil, false
	}
	return name, trimOWS(line[i+1:]), true
}

func trimOWS(v []byte) []byte {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

// equalFold reports whether b equals lower, ignoring ASCII case. lower must
// be lower case; b is compared byte by byte with its ASCII letters folded.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// nextElement splits the first element off a comma-separated list and
// returns it without the optional white space around it (RFC 9110 §5.6.1);
// both results alias list.
func nextElement(list []byte) (elem, rest []byte) {
	if i := bytes.IndexByte(list, ','); i >= 0 {
		return trimOWS(list[:i]), list[i+1:]
	}
	return trimOWS(list), nil
}

// hasToken reports whether the comma-separated list holds token (compared
// case-insensitively, optional white space ignored). token must be lower case.
func hasToken(list []byte, token string) bool {
	for len(list) > 0 {
		var elem []byte
		elem, list = nextElement(list)
		if equalFold(elem, token) {
			return true
		}
	}
	return false
}

// Header names the parsers recognise.
type headerName uint8

const (
	hOther headerName = iota
	hHost
	hOrigin
	hUpgrade
	hConnection
	hUserAgent
	hContentLength
	hTransferEncoding
	hSecKey
	hSecVersion
	hSecProtocol
	hSecExtensions
	hSecAccept
	hXForwardedFor
	hXForwardedProto
)

// lookupHeader maps a header name (already checked to be a token) to its
// headerName, ignoring case.
func lookupHeader(name []byte) headerName {
	switch len(name) {
	case 4:
		if equalFold(name, "host") {
			return hHost
		}
	case 6:
		if equalFold(name, "origin") {
			return hOrigin
		}
	case 7:
		if equalFold(name, "upgrade") {
			return hUpgrade
		}
	case 10:
		if equalFold(name, "connection") {
			return hConnection
		}
		if equalFold(name, "user-agent") {
			return hUserAgent
		}
	case 14:
		if equalFold(name, "content-length") {
			return hContentLength
		}
	case 15:
		if equalFold(name, "x-forwarded-for") {
			return hXForwardedFor
		}
	case 17:
		if equalFold(name, "sec-websocket-key") {
			return hSecKey
		}
		if equalFold(name, "transfer-encoding") {
			return hTransferEncoding
		}
		if equalFold(name, "x-forwarded-proto") {
			return hXForwardedProto
		}
	case 20:
		if equalFold(name, "sec-websocket-accept") {
			return hSecAccept
		}
	case 21:
		if equalFold(name, "sec-websocket-version") {
			return hSecVersion
		}
	case 22:
		if equalFold(name, "sec-websocket-protocol") {
			return hSecProtocol
		}
	case 24:
		if equalFold(name, "sec-websocket-extensions") {
			return hSecExtensions
		}
	}
	return hOther
}
