package codec

import (
	"crypto/sha1"
	"encoding/base64"
)

// websocketGUID is the fixed string of RFC 6455 §1.3 appended to the key.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// acceptLen is the length of a Sec-WebSocket-Accept value: base64 of a
// 20-byte SHA-1 digest.
const acceptLen = 28

// keyLen is the length of a valid Sec-WebSocket-Key: base64 of 16 bytes.
const keyLen = 24

// CheckUpgrade validates a parsed request as a WebSocket opening handshake
// (RFC 6455 §4.2.1). It returns nil or one of these *HTTPError, checked in
// this order:
//
//   - 405 "websocket upgrade requires GET" (AppendErrorResponse adds Allow: GET);
//   - 400 "websocket upgrade requires HTTP/1.1" (HTTP/1.0 is a client error
//     here, not an unsupported version, so 400 rather than 505);
//   - 400 "invalid request target" for "*" (an upgrade names a resource);
//   - 400 "missing Upgrade: websocket header", "missing Connection: Upgrade header";
//   - 400 "upgrade request has a body" for a Content-Length other than 0 or
//     any Transfer-Encoding (the bytes after the head are WebSocket frames);
//   - 400 "duplicate Sec-WebSocket-Key header", "duplicate
//     Sec-WebSocket-Version header", "duplicate Sec-WebSocket-Protocol header";
//   - 400 "invalid Sec-WebSocket-Protocol header" unless the value is a
//     comma-separated list of tokens (RFC 6455 §4.1, §11.3.4: 1#token;
//     optional white space around the commas, empty elements ignored as
//     RFC 9110 §5.6.1.2 asks, at least one token);
//   - 426 "unsupported Sec-WebSocket-Version" when the version is absent or
//     not exactly "13" (AppendErrorResponse adds Sec-WebSocket-Version: 13);
//   - 400 "invalid Sec-WebSocket-Key" unless the key is base64 of exactly 16
//     bytes (24 characters ending in "==").
func CheckUpgrade(r *Request) error {
	switch {
	case string(r.Method) != "GET":
		return errNotGet
	case string(r.Proto) != "HTTP/1.1":
		return errNotHTTP11
	case len(r.Target) == 0 || r.Target[0] != '/':
		return errBadTarget
	case !(r.flags&upgradeWebSocket != 0 || hasToken(r.Upgrade, "websocket")):
		return errNoUpgradeHdr
	case !(r.flags&connectionUpgrade != 0 || hasToken(r.Connection, "upgrade")):
		return errNoConnHdr
	case r.ContentLength > 0 || r.flags&seenTransferEncoding != 0:
		return errUpgradeBody
	case r.flags&dupKey != 0:
		return errDupKey
	case r.flags&dupVersion != 0:
		return errDupVersion
	case r.flags&dupProtocol != 0:
		return errDupProtocol
	case r.flags&seenProtocol != 0 && !validTokenList(r.Protocol):
		return errBadProtocol
	case string(r.SecVersion) != "13":
		return errBadVersionWS
	case !validKey(r.SecKey):
		return errBadKey
	}
	return nil
}

// validTokenList reports whether list is a comma-separated list of tokens
// with optional white space around each, holding at least one token; empty
// elements are allowed.
func validTokenList(list []byte) bool {
	tokens := 0
	for len(list) > 0 {
		var elem []byte
		elem, list = nextElement(list)
		if len(elem) == 0 {
			continue
		}
		if !allIn(elem, classToken) {
			return false
		}
		tokens++
	}
	return tokens > 0
}

// FirstProtocol returns the first subprotocol in a Sec-WebSocket-Protocol
// value that CheckUpgrade accepted (nil when list is nil). The result
// aliases list.
func FirstProtocol(list []byte) []byte {
	for len(list) > 0 {
		var elem []byte
		if elem, list = nextElement(list); len(elem) > 0 {
			return elem
		}
	}
	return nil
}

// validKey reports whether key is the base64 encoding (standard alphabet,
// padded) of exactly 16 bytes.
func validKey(key []byte) bool {
	if len(key) != keyLen || key[22] != '=' || key[23] != '=' {
		return false
	}
	for _, c := range key[:22] {
		if !isBase64(c) {
			return false
		}
	}
	return true
}

func isBase64(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/'
}

// appendAccept appends the Sec-WebSocket-Accept value for key:
// base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2 step 5.4). Keys of up to 64
// bytes (valid ones have 24) are hashed from a stack array, so nothing is
// allocated; longer ones borrow dst's spare capacity as scratch.
func appendAccept(dst, key []byte) []byte {
	var sum [sha1.Size]byte
	if len(key) <= 64 {
		var buf [64 + len(websocketGUID)]byte
		n := copy(buf[:], key)
		n += copy(buf[n:], websocketGUID)
		sum = sha1.Sum(buf[:n])
	} else {
		scratch := append(append(dst[len(dst):], key...), websocketGUID...)
		sum = sha1.Sum(scratch)
	}
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}
