package hardening

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/engine"
	"github.com/socketx/socketx-server/internal/enginetest"
	"github.com/socketx/socketx-server/internal/testupstream"
	"github.com/socketx/socketx-server/internal/testwait"
	"github.com/socketx/socketx-server/internal/wstest"
	"github.com/socketx/socketx-server/mte"
)

// Limits of the hostile-table proxy: small so that the limit cases are
// cheap and the timeout cases short.
const (
	tableHandshakeTimeout = time.Second
	tableMaxMessage       = 64 << 10
	tableWindow           = 64
	// tableMaxFrame is the largest client message: the application
	// message plus the SocketX framing (engine: client frames may add it).
	tableMaxFrame = tableMaxMessage + mte.HeaderLen + mte.Overhead
)

// hostileEnv is the proxy every hostile case runs against, with a witness
// session that must keep working after every case.
type hostileEnv struct {
	px      *enginetest.Proxy
	echo    *testupstream.Echo
	witness *wstest.Client
}

// The table proxy's server authentication key, and one it does not hold
// (fixed seeds: the key IDs are the same in every run).
var (
	tableServerKey = mustServerKey(1)
	otherServerKey = mustServerKey(2)
)

func mustServerKey(b byte) *mte.ServerPrivateKey {
	k, err := mte.NewServerPrivateKey(bytes.Repeat([]byte{b}, mte.ServerKeySeedSize))
	if err != nil {
		panic(err)
	}
	return k
}

// hostileCase drives one hostile client and asserts what it gets back; the
// runner then checks the log lines, leaks and the witness.
type hostileCase struct {
	name string
	do   func(t *testing.T, h *hostileEnv)
	logs []logLine
}

func rejected(reason string, status int, detail string) logLine {
	return logLine{"Request rejected", map[string]any{"reason": reason, "status": status, "detail": detail}}
}

func closed(code uint16, reason, by string) logLine {
	return logLine{"Connection closed", map[string]any{"audit.close_code": code, "audit.close_reason": reason, "audit.closed_by": by}}
}

func pairFailed(state, err string) logLine {
	return logLine{"Pairing failed", map[string]any{"state": state, "error": err}}
}

// notSocketX is the line of a first message that is not a SocketX hello.
func notSocketX(first string, code uint16, reason string) logLine {
	return logLine{"Client is not a SocketX client (plain WebSocket?)",
		map[string]any{"first_message": first, "close_code": code, "close_reason": reason}}
}

// proxyClosed is the audit line of a WebSocket the proxy closed.
func proxyClosed(code uint16, reason string) []logLine {
	return []logLine{closed(code, reason, "proxy")}
}

// httpReject sends a raw request and expects exactly the error response.
func httpReject(raw string, status int, reason string) func(*testing.T, *hostileEnv) {
	return func(t *testing.T, h *hostileEnv) {
		c := wstest.Dial(t, h.px.Addr)
		c.Write([]byte(raw))
		if got, want := c.ReadAll(), errorResponse(status, reason); got != want {
			t.Fatalf("response:\n%q\nwant\n%q", got, want)
		}
	}
}

// upgradeReject sends a valid upgrade head with extra lines.
func upgradeReject(status int, reason string, headers ...string) func(*testing.T, *hostileEnv) {
	return httpReject(wstest.UpgradeHead("/", headers...), status, reason)
}

// replaceHead is a valid upgrade head with one line replaced.
func replaceHead(old, new string) string {
	h := wstest.UpgradeHead("/", wstest.GoodOrigin)
	if !strings.Contains(h, old) {
		panic("replaceHead: no " + old)
	}
	return strings.Replace(h, old, new, 1)
}

// afterUpgrade sends raw bytes right after the 101 and expects a close.
func afterUpgrade(wire []byte, code uint16, reason string) func(*testing.T, *hostileEnv) {
	return func(t *testing.T, h *hostileEnv) {
		c := wstest.Dial(t, h.px.Addr)
		c.Upgrade("/", wstest.GoodOrigin)
		c.Write(wire)
		c.ExpectClose(code, reason)
	}
}

// afterPairing runs a whole pairing, then does f and expects a close.
func afterPairing(f func(c *wstest.Client), code uint16, reason string) func(*testing.T, *hostileEnv) {
	return func(t *testing.T, h *hostileEnv) {
		c := wstest.Dial(t, h.px.Addr)
		c.Upgrade("/", wstest.GoodOrigin)
		c.Pair(h.px.Profile, "/room")
		c.RoundTrip(mte.TypeText, []byte("before"))
		f(c)
		c.ExpectClose(code, reason)
	}
}

// duringPairing runs hello then sends a pairRequest payload.
func badPairRequest(payload []byte, code uint16, reason string) func(*testing.T, *hostileEnv) {
	return func(t *testing.T, h *hostileEnv) {
		c := wstest.Dial(t, h.px.Addr)
		c.Upgrade("/", wstest.GoodOrigin)
		c.Hello()
		c.SendHandshake(mte.ActionPairRequest, payload)
		c.ExpectClose(code, reason)
	}
}

// rawFrame builds a masked frame with a hand-written first byte and length
// encoding, so reserved bits and non-minimal lengths can be sent.
func rawFrame(b0 byte, lenBytes []byte, payload []byte) []byte {
	var m [4]byte
	_, _ = rand.Read(m[:])
	out := append([]byte{b0}, lenBytes...)
	out[1] |= 0x80
	out = append(out, m[:]...)
	start := len(out)
	out = append(out, payload...)
	codec.Unmask(out[start:], m, 0)
	return out
}

// headerOnly is a masked frame header claiming n payload bytes (64-bit
// length form) with no payload.
func headerOnly(n uint64) []byte {
	out := []byte{0x82, 0x80 | 127}
	out = binary.BigEndian.AppendUint64(out, n)
	return append(out, 1, 2, 3, 4)
}

// pairRequestWith returns a valid pairRequest JSON with fields changed
// (a nil value deletes the field).
func pairRequestWith(t *testing.T, p *mte.Profile, change map[string]any) []byte {
	t.Helper()
	in, err := mte.NewInitiator(p, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return changeFields(t, in.Request(), change)
}

// pinnedRequestWith returns the pairRequest of a client pinning pin, with
// fields changed as pairRequestWith does.
func pinnedRequestWith(t *testing.T, p *mte.Profile, pin mte.ServerPublicKey, change map[string]any) []byte {
	t.Helper()
	in, err := mte.NewPinnedInitiator(p, pin, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return changeFields(t, in.Request(), change)
}

// changeFields re-encodes the JSON object req with fields changed (a nil
// value deletes the field).
func changeFields(t *testing.T, req []byte, change map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(req, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range change {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// serverAuthRefused is a pinned pairRequest with fields changed, refused
// with code and reason (which is also the logged error).
func serverAuthRefused(pin *mte.ServerPrivateKey, change map[string]any, code uint16, reason string) hostileCase {
	return hostileCase{do: func(t *testing.T, h *hostileEnv) {
		badPairRequest(pinnedRequestWith(t, h.px.Profile, pin.Public(), change), code, reason)(t, h)
	}, logs: []logLine{pairFailed("pair", reason), closed(code, reason, "proxy")}}
}

func named(name string, c hostileCase) hostileCase {
	c.name = name
	return c
}

func hostileCases() []hostileCase {
	var tooManyHeaders strings.Builder
	for i := range codec.MaxHeaders + 1 {
		fmt.Fprintf(&tooManyHeaders, "X-H%d: v\r\n", i)
	}
	return []hostileCase{
		// ---- HTTP request head ----
		{"oversized head", upgradeReject(431, "request header too large", wstest.GoodOrigin, "X-Pad: "+strings.Repeat("a", 8<<10)),
			[]logLine{rejected("bad_request", 431, "request header too large")}},
		{"too many header fields", upgradeReject(431, "too many header fields", strings.TrimSuffix(tooManyHeaders.String(), "\r\n")),
			[]logLine{rejected("bad_request", 431, "too many header fields")}},
		{"request line without version", httpReject("GET /\r\nHost: app.example.com\r\n\r\n", 400, "malformed request line"),
			[]logLine{rejected("bad_request", 400, "malformed request line")}},
		{"request line with extra space", httpReject("GET  / HTTP/1.1\r\nHost: app.example.com\r\n\r\n", 400, "malformed request line"),
			[]logLine{rejected("bad_request", 400, "malformed request line")}},
		{"NUL in method", httpReject("G\x00T / HTTP/1.1\r\n\r\n", 400, "invalid request method"),
			[]logLine{rejected("bad_request", 400, "invalid request method")}},
		{"TLS ClientHello on the plain port", httpReject("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, "invalid request method"),
			[]logLine{rejected("bad_request", 400, "invalid request method")}},
		{"absolute-form target", httpReject(strings.Replace(wstest.UpgradeHead("/", wstest.GoodOrigin), "GET / ", "GET http://evil.example/ ", 1), 400, "invalid request target"),
			[]logLine{rejected("bad_request", 400, "invalid request target")}},
		{"HTTP/2.0 request line", httpReject(strings.Replace(wstest.UpgradeHead("/", wstest.GoodOrigin), "HTTP/1.1", "HTTP/2.0", 1), 505, "HTTP version not supported"),
			[]logLine{rejected("bad_request", 505, "HTTP version not supported")}},
		{"bare LF line ending", httpReject("GET / HTTP/1.1\nHost: app.example.com\n\n", 400, "bare LF in request head"),
			[]logLine{rejected("bad_request", 400, "bare LF in request head")}},
		{"obsolete line folding", httpReject(replaceHead("Upgrade: websocket\r\n", "Upgrade:\r\n websocket\r\n"), 400, "obsolete line folding"),
			[]logLine{rejected("bad_request", 400, "obsolete line folding")}},
		{"Content-Length with Transfer-Encoding", upgradeReject(400, "Content-Length with Transfer-Encoding", wstest.GoodOrigin, "Content-Length: 5", "Transfer-Encoding: chunked"),
			[]logLine{rejected("bad_request", 400, "Content-Length with Transfer-Encoding")}},

		{"upgrade with Content-Length 5 and a body", httpReject(wstest.UpgradeHead("/", wstest.GoodOrigin, "Content-Length: 5")+"hello", 400, "upgrade request has a body"),
			[]logLine{rejected("bad_request", 400, "upgrade request has a body")}},
		{"upgrade with a chunked body", httpReject(wstest.UpgradeHead("/", wstest.GoodOrigin, "Transfer-Encoding: chunked")+"5\r\nhello\r\n0\r\n\r\n", 400, "upgrade request has a body"),
			[]logLine{rejected("bad_request", 400, "upgrade request has a body")}},

		// ---- header injection ----
		{"CR inside Host", httpReject(replaceHead("Host: app.example.com\r\n", "Host: app.example.com\rX-Injected: 1\r\n"), 400, "invalid character in header value"),
			[]logLine{rejected("bad_request", 400, "invalid character in header value")}},
		{"LF inside Host", httpReject(replaceHead("Host: app.example.com\r\n", "Host: app.example.com\nX-Injected: 1\r\n"), 400, "bare LF in request head"),
			[]logLine{rejected("bad_request", 400, "bare LF in request head")}},
		{"NUL inside Host", httpReject(replaceHead("Host: app.example.com\r\n", "Host: app.example.com\x00.evil\r\n"), 400, "invalid character in header value"),
			[]logLine{rejected("bad_request", 400, "invalid character in header value")}},
		{"CR inside Origin", httpReject(replaceHead(wstest.GoodOrigin+"\r\n", wstest.GoodOrigin+"\rSet-Cookie: x=1\r\n"), 400, "invalid character in header value"),
			[]logLine{rejected("bad_request", 400, "invalid character in header value")}},
		{"LF inside Origin", httpReject(replaceHead(wstest.GoodOrigin+"\r\n", wstest.GoodOrigin+"\nX-Injected: 1\r\n"), 400, "bare LF in request head"),
			[]logLine{rejected("bad_request", 400, "bare LF in request head")}},
		{"NUL inside Origin", httpReject(replaceHead(wstest.GoodOrigin+"\r\n", wstest.GoodOrigin+"\x00\r\n"), 400, "invalid character in header value"),
			[]logLine{rejected("bad_request", 400, "invalid character in header value")}},
		{"Host with a space", httpReject(replaceHead("Host: app.example.com\r\n", "Host: app example.com\r\n"), 400, "invalid Host header"),
			[]logLine{rejected("bad_request", 400, "invalid Host header")}},
		{"Host port not a number", httpReject(replaceHead("Host: app.example.com\r\n", "Host: app.example.com:abc\r\n"), 400, "invalid port in Host header"),
			[]logLine{rejected("bad_request", 400, "invalid port in Host header")}},
		{"Host port 0", httpReject(replaceHead("Host: app.example.com\r\n", "Host: app.example.com:0\r\n"), 400, "invalid port in Host header"),
			[]logLine{rejected("bad_request", 400, "invalid port in Host header")}},
		{"Host port over 65535", httpReject(replaceHead("Host: app.example.com\r\n", "Host: app.example.com:99999\r\n"), 400, "invalid port in Host header"),
			[]logLine{rejected("bad_request", 400, "invalid port in Host header")}},
		{"Host with an empty port", httpReject(replaceHead("Host: app.example.com\r\n", "Host: app.example.com:\r\n"), 400, "invalid port in Host header"),
			[]logLine{rejected("bad_request", 400, "invalid port in Host header")}},
		{"Host with an unclosed IPv6 literal", httpReject(replaceHead("Host: app.example.com\r\n", "Host: [::1\r\n"), 400, "invalid Host header"),
			[]logLine{rejected("bad_request", 400, "invalid Host header")}},
		{"duplicate Host", upgradeReject(400, "duplicate Host header", wstest.GoodOrigin, "Host: evil.example"),
			[]logLine{rejected("bad_request", 400, "duplicate Host header")}},
		{"missing Host", httpReject(replaceHead("Host: app.example.com\r\n", ""), 400, "missing Host header"),
			[]logLine{rejected("bad_request", 400, "missing Host header")}},
		{"duplicate Origin", upgradeReject(400, "duplicate Origin header", wstest.GoodOrigin, "Origin: https://evil.example"),
			[]logLine{rejected("bad_request", 400, "duplicate Origin header")}},

		// ---- WebSocket upgrade ----
		{"missing Sec-WebSocket-Key", httpReject(replaceHead("Sec-WebSocket-Key: "+wstest.TestKey+"\r\n", ""), 400, "invalid Sec-WebSocket-Key"),
			[]logLine{rejected("bad_request", 400, "invalid Sec-WebSocket-Key")}},
		{"duplicate Sec-WebSocket-Key", upgradeReject(400, "duplicate Sec-WebSocket-Key header", wstest.GoodOrigin, "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=="),
			[]logLine{rejected("bad_request", 400, "duplicate Sec-WebSocket-Key header")}},
		{"Sec-WebSocket-Key of 15 bytes", httpReject(replaceHead(wstest.TestKey, "AAAAAAAAAAAAAAAAAAAA"), 400, "invalid Sec-WebSocket-Key"),
			[]logLine{rejected("bad_request", 400, "invalid Sec-WebSocket-Key")}},
		{"Sec-WebSocket-Key not base64", httpReject(replaceHead(wstest.TestKey, "!!!!!!!!!!!!!!!!!!!!!!=="), 400, "invalid Sec-WebSocket-Key"),
			[]logLine{rejected("bad_request", 400, "invalid Sec-WebSocket-Key")}},
		{"Sec-WebSocket-Protocol not a token", upgradeReject(400, "invalid Sec-WebSocket-Protocol header", wstest.GoodOrigin, `Sec-WebSocket-Protocol: a"b;c`),
			[]logLine{rejected("bad_request", 400, "invalid Sec-WebSocket-Protocol header")}},
		{"Sec-WebSocket-Protocol with a space inside", upgradeReject(400, "invalid Sec-WebSocket-Protocol header", wstest.GoodOrigin, "Sec-WebSocket-Protocol: chat, v 2"),
			[]logLine{rejected("bad_request", 400, "invalid Sec-WebSocket-Protocol header")}},
		{"subprotocol the upstream does not accept", func(t *testing.T, h *hostileEnv) {
			c := wstest.Dial(t, h.px.Addr)
			c.Upgrade("/", wstest.GoodOrigin, "Sec-WebSocket-Protocol: nochat, chat")
			c.Hello()
			c.Keys(h.px.Profile)
			c.SendPathname("/room")
			c.ExpectClose(1014, "upstream did not accept subprotocol")
		}, []logLine{{"Upstream handshake failed", map[string]any{"detail": "upstream did not accept subprotocol", "offered": "nochat"}},
			closed(1014, "upstream did not accept subprotocol", "proxy")}},
		{"missing Sec-WebSocket-Version", httpReject(replaceHead("Sec-WebSocket-Version: 13\r\n", ""), 426, "unsupported Sec-WebSocket-Version"),
			[]logLine{rejected("bad_request", 426, "unsupported Sec-WebSocket-Version")}},
		{"Sec-WebSocket-Version 8", httpReject(replaceHead("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"), 426, "unsupported Sec-WebSocket-Version"),
			[]logLine{rejected("bad_request", 426, "unsupported Sec-WebSocket-Version")}},
		{"duplicate Sec-WebSocket-Version", upgradeReject(400, "duplicate Sec-WebSocket-Version header", wstest.GoodOrigin, "Sec-WebSocket-Version: 13"),
			[]logLine{rejected("bad_request", 400, "duplicate Sec-WebSocket-Version header")}},
		{"POST upgrade", httpReject(strings.Replace(wstest.UpgradeHead("/", wstest.GoodOrigin), "GET", "POST", 1), 405, "websocket upgrade requires GET"),
			[]logLine{rejected("bad_request", 405, "websocket upgrade requires GET")}},
		{"HTTP/1.0 upgrade", httpReject(strings.Replace(wstest.UpgradeHead("/", wstest.GoodOrigin), "HTTP/1.1", "HTTP/1.0", 1), 400, "websocket upgrade requires HTTP/1.1"),
			[]logLine{rejected("bad_request", 400, "websocket upgrade requires HTTP/1.1")}},
		{"unknown host", httpReject(replaceHead("Host: app.example.com", "Host: other.example.com"), 404, "unknown host"),
			[]logLine{rejected("unknown_host", 404, "unknown host")}},
		{"origin not allowed", upgradeReject(403, "origin not allowed", "Origin: https://evil.example"),
			[]logLine{rejected("origin", 403, "origin not allowed")}},
		{"missing Origin", upgradeReject(403, "origin not allowed"),
			[]logLine{rejected("origin", 403, "origin not allowed")}},
		{"Upgrade header without Connection: Upgrade", httpReject(replaceHead("Connection: Upgrade\r\n", ""), 400, "invalid websocket upgrade request"),
			[]logLine{rejected("bad_request", 400, "invalid websocket upgrade request")}},
		{"slowloris head", func(t *testing.T, h *hostileEnv) {
			c := wstest.Dial(t, h.px.Addr)
			head := wstest.UpgradeHead("/", wstest.GoodOrigin)
			// Drip one byte every 50 ms: the head deadline does not move.
			stop := make(chan struct{})
			dripped := make(chan struct{})
			go func() {
				defer close(dripped)
				for i := 0; i < len(head)-1; i++ {
					select {
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
					}
					if _, err := c.Conn.Write([]byte{head[i]}); err != nil {
						return
					}
				}
			}()
			got := c.ReadAll()
			close(stop)
			<-dripped
			if want := errorResponse(408, "request head timeout"); got != want {
				t.Fatalf("response %q, want %q", got, want)
			}
		}, []logLine{{"Request head timeout", nil}}},
		{"upgrade with pipelined garbage", func(t *testing.T, h *hostileEnv) {
			// The head and a text frame in one segment: the frame is parsed
			// after the 101, in the same read.
			c := wstest.Dial(t, h.px.Addr)
			c.Write(append([]byte(wstest.UpgradeHead("/", wstest.GoodOrigin)), wstest.Frame(true, codec.OpText, []byte("hi"))...))
			if got := c.ReadAll(); !strings.HasPrefix(got, "HTTP/1.1 101 Switching Protocols\r\n") ||
				!strings.HasSuffix(got, "\x88\x21\x03\xebsocketx messages must be binary") {
				t.Fatalf("got %q", got)
			}
		}, []logLine{notSocketX("text", 1003, "socketx messages must be binary"), closed(1003, "socketx messages must be binary", "proxy")}},

		// ---- WebSocket frames (right after the upgrade) ----
		{"unmasked client frame", afterUpgrade([]byte{0x82, 0x02, 'h', 'i'}, 1002, "frame not masked"),
			proxyClosed(1002, "frame not masked")},
		{"RSV1 set", afterUpgrade(rawFrame(0x80|0x40|0x2, []byte{2}, []byte("hi")), 1002, "reserved bits set"),
			proxyClosed(1002, "reserved bits set")},
		{"RSV3 set on a ping", afterUpgrade(rawFrame(0x80|0x10|0x9, []byte{0}, nil), 1002, "reserved bits set"),
			proxyClosed(1002, "reserved bits set")},
		{"reserved data opcode 0x3", afterUpgrade(rawFrame(0x80|0x3, []byte{0}, nil), 1002, "reserved opcode"),
			proxyClosed(1002, "reserved opcode")},
		{"reserved control opcode 0xB", afterUpgrade(rawFrame(0x80|0xB, []byte{0}, nil), 1002, "reserved opcode"),
			proxyClosed(1002, "reserved opcode")},
		{"ping of 126 bytes", afterUpgrade(rawFrame(0x80|0x9, []byte{126, 0, 126}, make([]byte, 126)), 1002, "control frame too long"),
			proxyClosed(1002, "control frame too long")},
		{"fragmented ping", afterUpgrade(rawFrame(0x9, []byte{1}, []byte("p")), 1002, "fragmented control frame"),
			proxyClosed(1002, "fragmented control frame")},
		{"close with code 1005", afterUpgrade(wstest.Frame(true, codec.OpClose, closePayload(1005, "")), 1002, "invalid close code"),
			proxyClosed(1002, "invalid close code")},
		{"close with code 999", afterUpgrade(wstest.Frame(true, codec.OpClose, closePayload(999, "x")), 1002, "invalid close code"),
			proxyClosed(1002, "invalid close code")},
		{"close with a 1-byte payload", afterUpgrade(wstest.Frame(true, codec.OpClose, []byte{3}), 1002, "invalid close payload"),
			proxyClosed(1002, "invalid close payload")},
		{"close reason not UTF-8", afterUpgrade(wstest.Frame(true, codec.OpClose, closePayload(1000, "bad \xff\xfe")), 1007, "invalid UTF-8 in close reason"),
			proxyClosed(1007, "invalid UTF-8 in close reason")},
		{"frame claiming 2^63 bytes", afterUpgrade(headerOnly(1<<63), 1002, "invalid payload length"),
			proxyClosed(1002, "invalid payload length")},
		{"frame claiming 2^63-1 bytes", afterUpgrade(headerOnly(1<<63-1), 1009, "message too big"),
			proxyClosed(1009, "message too big")},
		{"frame one byte over WS_MAX_MESSAGE_SIZE", afterUpgrade(headerOnly(tableMaxFrame+1), 1009, "message too big"),
			proxyClosed(1009, "message too big")},
		{"non-minimal 16-bit length", afterUpgrade(rawFrame(0x82, []byte{126, 0, 5}, []byte("hello")), 1002, "non-minimal length encoding"),
			proxyClosed(1002, "non-minimal length encoding")},
		{"continuation without a first frame", afterUpgrade(wstest.Frame(true, codec.OpContinuation, []byte("x")), 1002, "unexpected continuation frame"),
			proxyClosed(1002, "unexpected continuation frame")},
		{"new message inside a fragmented one", afterUpgrade(append(wstest.Frame(false, codec.OpBinary, []byte("a")), wstest.Frame(true, codec.OpBinary, []byte("b"))...), 1002, "expected continuation frame"),
			proxyClosed(1002, "expected continuation frame")},
		{"text frame during pairing", afterUpgrade(wstest.Frame(true, codec.OpText, []byte("hello")), 1003, "socketx messages must be binary"),
			[]logLine{notSocketX("text", 1003, "socketx messages must be binary"), closed(1003, "socketx messages must be binary", "proxy")}},
		{"fragmented message never finished", func(t *testing.T, h *hostileEnv) {
			c := wstest.Dial(t, h.px.Addr)
			c.Upgrade("/", wstest.GoodOrigin)
			c.WriteFrame(false, codec.OpBinary, wstest.HandshakeMsg(mte.ActionRequest, nil)[:3])
			c.ExpectClose(1008, "pairing timeout")
		}, []logLine{{"Pairing timeout", map[string]any{"state": "hello"}}, closed(1008, "pairing timeout", "proxy")}},
		{"fragments summing over WS_MAX_MESSAGE_SIZE", func(t *testing.T, h *hostileEnv) {
			c := wstest.Dial(t, h.px.Addr)
			c.Upgrade("/", wstest.GoodOrigin)
			c.Pair(h.px.Profile, "/room")
			chunk := make([]byte, 16<<10)
			c.WriteFrame(false, codec.OpBinary, chunk)
			for range 3 {
				c.WriteFrame(false, codec.OpContinuation, chunk)
			}
			c.WriteFrame(false, codec.OpContinuation, make([]byte, tableMaxFrame-4*len(chunk)+1))
			c.ExpectClose(1009, "message too big")
		}, proxyClosed(1009, "message too big")},

		// ---- SocketX handshake ----
		{"slow pairing (nothing after the upgrade)", func(t *testing.T, h *hostileEnv) {
			c := wstest.Dial(t, h.px.Addr)
			c.Upgrade("/", wstest.GoodOrigin)
			c.ExpectClose(1008, "pairing timeout")
		}, []logLine{{"Pairing timeout", map[string]any{"state": "hello"}}, closed(1008, "pairing timeout", "proxy")}},
		{"slow pairing (stops after hello)", func(t *testing.T, h *hostileEnv) {
			c := wstest.Dial(t, h.px.Addr)
			c.Upgrade("/", wstest.GoodOrigin)
			c.Hello()
			c.ExpectClose(1008, "pairing timeout")
		}, []logLine{{"Pairing timeout", map[string]any{"state": "pair"}}, closed(1008, "pairing timeout", "proxy")}},
		{"data before pairing", afterUpgrade(wstest.Frame(true, codec.OpBinary, mte.AppendHeader(nil, mte.ActionProxyData, mte.TypeBinary)), 1002, "unexpected action proxyData during hello"),
			append([]logLine{pairFailed("hello", "unexpected action proxyData during hello")}, proxyClosed(1002, "unexpected action proxyData during hello")...)},
		{"wrong SocketX magic", afterUpgrade(wstest.Frame(true, codec.OpBinary, []byte{0x4D, 0x54, 0x45, 0x03, 1, 0, 254}), 1002, "mte: bad header magic"),
			[]logLine{notSocketX("binary without a SocketX header", 1002, "mte: bad header magic"), closed(1002, "mte: bad header magic", "proxy")}},
		{"wrong SocketX version", afterUpgrade(wstest.Frame(true, codec.OpBinary, []byte{0x4D, 0x54, 0x45, 0x02, 2, 0, 254}), 1002, "mte: unsupported header version"),
			[]logLine{pairFailed("hello", "mte: unsupported header version"), closed(1002, "mte: unsupported header version", "proxy")}},
		{"hello with messageType text", afterUpgrade(wstest.Frame(true, codec.OpBinary, mte.AppendHeader(nil, mte.ActionRequest, mte.TypeText)), 1002, "mte: invalid action/messageType combination"),
			[]logLine{pairFailed("hello", "mte: invalid action/messageType combination"), closed(1002, "mte: invalid action/messageType combination", "proxy")}},
		{"unknown action 7", afterUpgrade(wstest.Frame(true, codec.OpBinary, mte.AppendHeader(nil, 7, mte.TypeHandshake)), 1002, "mte: invalid action/messageType combination"),
			[]logLine{pairFailed("hello", "mte: invalid action/messageType combination"), closed(1002, "mte: invalid action/messageType combination", "proxy")}},
		{"SocketX message of 3 bytes", afterUpgrade(wstest.Frame(true, codec.OpBinary, []byte{0x4D, 0x54, 0x45}), 1002, "mte: message too short"),
			[]logLine{notSocketX("binary without a SocketX header", 1002, "mte: message too short"), closed(1002, "mte: message too short", "proxy")}},
		{"pairRequest before hello", func(t *testing.T, h *hostileEnv) {
			c := wstest.Dial(t, h.px.Addr)
			c.Upgrade("/", wstest.GoodOrigin)
			c.SendHandshake(mte.ActionPairRequest, pairRequestWith(t, h.px.Profile, nil))
			c.ExpectClose(1002, "unexpected action pairRequest during hello")
		}, append([]logLine{pairFailed("hello", "unexpected action pairRequest during hello")}, proxyClosed(1002, "unexpected action pairRequest during hello")...)},
		{"hello twice", func(t *testing.T, h *hostileEnv) {
			c := wstest.Dial(t, h.px.Addr)
			c.Upgrade("/", wstest.GoodOrigin)
			c.Hello()
			c.SendHandshake(mte.ActionRequest, nil)
			c.ExpectClose(1002, "unexpected action request during pair")
		}, append([]logLine{pairFailed("pair", "unexpected action request during pair")}, proxyClosed(1002, "unexpected action request during pair")...)},
		{"duplicated pairing", func(t *testing.T, h *hostileEnv) {
			c := wstest.Dial(t, h.px.Addr)
			c.Upgrade("/", wstest.GoodOrigin)
			c.Hello()
			c.Keys(h.px.Profile)
			c.SendHandshake(mte.ActionPairRequest, pairRequestWith(t, h.px.Profile, nil))
			c.ExpectClose(1002, "unexpected action pairRequest during pathname")
		}, append([]logLine{pairFailed("pathname", "unexpected action pairRequest during pathname")}, proxyClosed(1002, "unexpected action pairRequest during pathname")...)},
		{"server-only action from the client", afterUpgrade(wstest.Frame(true, codec.OpBinary, wstest.HandshakeMsg(mte.ActionPairResponse, nil)), 1002, "unexpected action pairResponse during hello"),
			append([]logLine{pairFailed("hello", "unexpected action pairResponse during hello")}, proxyClosed(1002, "unexpected action pairResponse during hello")...)},
		{"ML-KEM-768 keys to a 512 proxy", func(t *testing.T, h *hostileEnv) {
			p768, err := mte.NewProfile(mte.Params{Strength: mte.Strength768})
			if err != nil {
				t.Fatal(err)
			}
			badPairRequest(pairRequestWith(t, p768, nil), 1002, "mte: encoderPublicKey is 1184 bytes, want 800 for ML-KEM-512")(t, h)
		}, []logLine{pairFailed("pair", "mte: encoderPublicKey is 1184 bytes, want 800 for ML-KEM-512"), closed(1002, "mte: encoderPublicKey is 1184 bytes, want 800 for ML-KEM-512", "proxy")}},
		{"short decoderPublicKey", func(t *testing.T, h *hostileEnv) {
			badPairRequest(pairRequestWith(t, h.px.Profile, map[string]any{"decoderPublicKey": "AAAA"}), 1002, "mte: decoderPublicKey is 3 bytes, want 800 for ML-KEM-512")(t, h)
		}, []logLine{pairFailed("pair", "mte: decoderPublicKey is 3 bytes, want 800 for ML-KEM-512"), closed(1002, "mte: decoderPublicKey is 3 bytes, want 800 for ML-KEM-512", "proxy")}},
		{"public key not base64", func(t *testing.T, h *hostileEnv) {
			badPairRequest(pairRequestWith(t, h.px.Profile, map[string]any{"encoderPublicKey": "not base64!"}), 1002, "mte: encoderPublicKey is not standard padded base64")(t, h)
		}, []logLine{pairFailed("pair", "mte: encoderPublicKey is not standard padded base64"), closed(1002, "mte: encoderPublicKey is not standard padded base64", "proxy")}},
		{"pairRequest truncated JSON", badPairRequest([]byte(`{"encoderPublicKey":`), 1002, "mte: pairRequest is not valid JSON"),
			[]logLine{pairFailed("pair", "mte: pairRequest is not valid JSON"), closed(1002, "mte: pairRequest is not valid JSON", "proxy")}},
		{"pairRequest not an object", badPairRequest([]byte(`["encoderPublicKey"]`), 1002, "mte: pairRequest is not a JSON object"),
			[]logLine{pairFailed("pair", "mte: pairRequest is not a JSON object"), closed(1002, "mte: pairRequest is not a JSON object", "proxy")}},
		{"pairRequest missing a field", func(t *testing.T, h *hostileEnv) {
			badPairRequest(pairRequestWith(t, h.px.Profile, map[string]any{"decoderPersonalization": nil}), 1002, "mte: pairRequest lacks field decoderPersonalization")(t, h)
		}, []logLine{pairFailed("pair", "mte: pairRequest lacks field decoderPersonalization"), closed(1002, "mte: pairRequest lacks field decoderPersonalization", "proxy")}},
		{"pairRequest with a duplicate field", func(t *testing.T, h *hostileEnv) {
			req := pairRequestWith(t, h.px.Profile, nil)
			dup := append([]byte(`{"encoderPersonalization":"x",`), req[1:]...)
			badPairRequest(dup, 1002, "mte: pairRequest has duplicate field encoderPersonalization")(t, h)
		}, []logLine{pairFailed("pair", "mte: pairRequest has duplicate field encoderPersonalization"), closed(1002, "mte: pairRequest has duplicate field encoderPersonalization", "proxy")}},
		{"personalization is a number", func(t *testing.T, h *hostileEnv) {
			badPairRequest(pairRequestWith(t, h.px.Profile, map[string]any{"encoderPersonalization": 12345678901234567890.0}), 1002, "mte: pairRequest field encoderPersonalization is not a string")(t, h)
		}, []logLine{pairFailed("pair", "mte: pairRequest field encoderPersonalization is not a string"), closed(1002, "mte: pairRequest field encoderPersonalization is not a string", "proxy")}},
		{"personalization with a control byte", func(t *testing.T, h *hostileEnv) {
			badPairRequest(pairRequestWith(t, h.px.Profile, map[string]any{"decoderPersonalization": "ab\x01"}), 1002, "mte: decoderPersonalization has byte 0x1 at offset 2, want printable ASCII")(t, h)
		}, []logLine{pairFailed("pair", "mte: decoderPersonalization has byte 0x1 at offset 2, want printable ASCII"), closed(1002, "mte: decoderPersonalization has byte 0x1 at offset 2, want printable ASCII", "proxy")}},
		{"empty personalization", func(t *testing.T, h *hostileEnv) {
			badPairRequest(pairRequestWith(t, h.px.Profile, map[string]any{"encoderPersonalization": ""}), 1002, "mte: encoderPersonalization is 0 bytes, want 1 to 256")(t, h)
		}, []logLine{pairFailed("pair", "mte: encoderPersonalization is 0 bytes, want 1 to 256"), closed(1002, "mte: encoderPersonalization is 0 bytes, want 1 to 256", "proxy")}},
		{"data after the pairRequest object", func(t *testing.T, h *hostileEnv) {
			badPairRequest(append(pairRequestWith(t, h.px.Profile, nil), "{}"...), 1002, "mte: pairRequest has data after the JSON object")(t, h)
		}, []logLine{pairFailed("pair", "mte: pairRequest has data after the JSON object"), closed(1002, "mte: pairRequest has data after the JSON object", "proxy")}},

		// ---- server authentication (docs/PROTOCOL.md §6.1): the proxy holds one server key ----
		{"pinned pairing relays", func(t *testing.T, h *hostileEnv) {
			c := wstest.Dial(t, h.px.Addr)
			c.Upgrade("/", wstest.GoodOrigin)
			c.Hello()
			in, err := mte.NewPinnedInitiator(h.px.Profile, tableServerKey.Public(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			c.SendHandshake(mte.ActionPairRequest, in.Request())
			if err := in.Finish(c.ExpectHandshake(mte.ActionPairResponse), &c.Session); err != nil {
				t.Fatal(err)
			}
			c.Pathname("/pinned")
			c.RoundTrip(mte.TypeText, []byte("authenticated"))
			c.WriteFrame(true, codec.OpClose, closePayload(1000, ""))
			c.ExpectClose(1000, "")
		}, []logLine{closed(1000, "", "client")}},
		named("pinned to a key the proxy does not hold", serverAuthRefused(otherServerKey, nil, 1008, "mte: unknown server key")),
		named("serverKeyId of another key", serverAuthRefused(tableServerKey, map[string]any{"serverKeyId": "0123456789abcdef"}, 1008, "mte: unknown server key")),
		named("serverKeyId in upper case", serverAuthRefused(tableServerKey, map[string]any{"serverKeyId": strings.ToUpper(tableServerKey.ID().String())}, 1002, "mte: serverKeyId is not 16 lowercase hex digits")),
		named("serverKeyId of 15 digits", serverAuthRefused(tableServerKey, map[string]any{"serverKeyId": "0123456789abcde"}, 1002, "mte: serverKeyId is not 16 lowercase hex digits")),
		named("serverKeyId is a number", serverAuthRefused(tableServerKey, map[string]any{"serverKeyId": 1}, 1002, "mte: pairRequest field serverKeyId is not a string")),
		named("serverSecret 3 bytes short", serverAuthRefused(tableServerKey, map[string]any{"serverSecret": base64.StdEncoding.EncodeToString(make([]byte, mte.ServerSecretSize-3))}, 1002, "mte: serverSecret is 1085 bytes, want 1088 for ML-KEM-768")),
		named("serverSecret not base64", serverAuthRefused(tableServerKey, map[string]any{"serverSecret": "not base64!"}, 1002, "mte: serverSecret is not standard padded base64")),
		named("serverKeyId without serverSecret", serverAuthRefused(tableServerKey, map[string]any{"serverSecret": nil}, 1002, "mte: pairRequest has serverKeyId without serverSecret")),
		named("serverSecret without serverKeyId", serverAuthRefused(tableServerKey, map[string]any{"serverKeyId": nil}, 1002, "mte: pairRequest has serverSecret without serverKeyId")),

		// ---- pathname (action 4) ----
		{"pathname climbing above the base", func(t *testing.T, h *hostileEnv) {
			c := wstest.Dial(t, h.px.Addr)
			c.Upgrade("/", wstest.GoodOrigin)
			c.Hello()
			c.Keys(h.px.Profile)
			c.SendPathname("/../admin")
			c.ExpectClose(1008, "pathname not allowed")
		}, []logLine{{"Pathname refused", map[string]any{"error": "routing: pathname escapes the base path: dot segments climb above the base path"}}, closed(1008, "pathname not allowed", "proxy")}},
		{"pathname with an encoded slash", func(t *testing.T, h *hostileEnv) {
			c := wstest.Dial(t, h.px.Addr)
			c.Upgrade("/", wstest.GoodOrigin)
			c.Hello()
			c.Keys(h.px.Profile)
			c.SendPathname("/..%2Fadmin")
			c.ExpectClose(1008, "pathname not allowed")
		}, []logLine{{"Pathname refused", map[string]any{"error": "routing: pathname escapes the base path: encoded slash or backslash"}}, closed(1008, "pathname not allowed", "proxy")}},
		{"pathname with a control byte", func(t *testing.T, h *hostileEnv) {
			c := wstest.Dial(t, h.px.Addr)
			c.Upgrade("/", wstest.GoodOrigin)
			c.Hello()
			c.Keys(h.px.Profile)
			body := []byte(`{"pathname":"/a\u0001b"}`)
			msg, err := c.Session.Seal(nil, mte.ActionUpstreamRequest, mte.TypeHandshake, body)
			if err != nil {
				t.Fatal(err)
			}
			c.WriteFrame(true, codec.OpBinary, msg)
			c.ExpectClose(1002, "mte: pathname has control byte 0x1 at offset 2")
		}, []logLine{pairFailed("pathname", "mte: pathname has control byte 0x1 at offset 2"), closed(1002, "mte: pathname has control byte 0x1 at offset 2", "proxy")}},
		{"pathname request not encoded", func(t *testing.T, h *hostileEnv) {
			c := wstest.Dial(t, h.px.Addr)
			c.Upgrade("/", wstest.GoodOrigin)
			c.Hello()
			c.Keys(h.px.Profile)
			// seq 0 and then plain JSON where the AES-GCM ciphertext belongs.
			c.SendHandshake(mte.ActionUpstreamRequest, append(make([]byte, 8), `{"pathname":"/plain/text/is/not/encoded"}`...))
			c.ExpectClose(1008, "mte: message authentication failed")
		}, []logLine{pairFailed("pathname", "mte: message authentication failed"), closed(1008, "mte: message authentication failed", "proxy")}},
		{"pathname request shorter than the MTE overhead", func(t *testing.T, h *hostileEnv) {
			c := wstest.Dial(t, h.px.Addr)
			c.Upgrade("/", wstest.GoodOrigin)
			c.Hello()
			c.Keys(h.px.Profile)
			c.SendHandshake(mte.ActionUpstreamRequest, []byte(`{}`))
			c.ExpectClose(1002, "mte: message too short")
		}, []logLine{pairFailed("pathname", "mte: message too short"), closed(1002, "mte: message too short", "proxy")}},
		{"pathname request at seq 5 (inside the window)", func(t *testing.T, h *hostileEnv) {
			c := wstest.Dial(t, h.px.Addr)
			c.Upgrade("/", wstest.GoodOrigin)
			c.Hello()
			c.Keys(h.px.Profile)
			for range 5 { // seqs 0–4 never sent: action 4 must be seq 0 even though 5 is within the window
				if _, err := c.Session.Seal(nil, mte.ActionProxyData, mte.TypeText, nil); err != nil {
					t.Fatal(err)
				}
			}
			c.SendPathname("/room")
			c.ExpectClose(1002, "mte: action 4 is sequence 5, want 0")
		}, []logLine{pairFailed("pathname", "mte: action 4 is sequence 5, want 0"), closed(1002, "mte: action 4 is sequence 5, want 0", "proxy")}},

		// ---- proxyData (after pairing) ----
		{"tampered proxyData", afterPairing(func(c *wstest.Client) {
			msg := c.Seal(mte.TypeText, []byte("tamper me"))
			msg[len(msg)-20] ^= 1
			c.WriteFrame(true, codec.OpBinary, msg)
		}, 1008, "mte: message authentication failed"),
			[]logLine{{"Client message rejected", map[string]any{"error": "mte: message authentication failed"}}, closed(1008, "mte: message authentication failed", "proxy")}},
		{"truncated proxyData", afterPairing(func(c *wstest.Client) {
			msg := c.Seal(mte.TypeText, []byte("cut me"))
			c.WriteFrame(true, codec.OpBinary, msg[:len(msg)-1])
		}, 1008, "mte: message authentication failed"),
			[]logLine{{"Client message rejected", map[string]any{"error": "mte: message authentication failed"}}, closed(1008, "mte: message authentication failed", "proxy")}},
		{"proxyData cut to its header", afterPairing(func(c *wstest.Client) {
			c.WriteFrame(true, codec.OpBinary, c.Seal(mte.TypeText, nil)[:mte.HeaderLen+3])
		}, 1002, "mte: message too short"),
			[]logLine{{"Client message rejected", map[string]any{"error": "mte: message too short"}}, closed(1002, "mte: message too short", "proxy")}},
		{"replayed proxyData", afterPairing(func(c *wstest.Client) {
			msg := c.Seal(mte.TypeText, []byte("once"))
			c.WriteFrame(true, codec.OpBinary, msg)
			if _, got := c.Recv(); string(got) != "once" {
				c.T.Fatalf("echo %q", got)
			}
			c.WriteFrame(true, codec.OpBinary, msg)
		}, 1008, "mte: replayed message"),
			[]logLine{{"Client message rejected", map[string]any{"error": "mte: replayed message"}}, closed(1008, "mte: replayed message", "proxy")}},
		{"reordered beyond the window (too old)", afterPairing(func(c *wstest.Client) {
			old := c.Seal(mte.TypeText, []byte("old"))
			var batch []byte
			for range tableWindow {
				batch = append(batch, wstest.Frame(true, codec.OpBinary, c.Seal(mte.TypeText, []byte("new")))...)
			}
			c.Write(batch)
			for range tableWindow {
				if _, got := c.Recv(); string(got) != "new" {
					c.T.Fatalf("echo %q", got)
				}
			}
			c.WriteFrame(true, codec.OpBinary, old)
		}, 1008, "mte: sequence number outside window"),
			[]logLine{{"Client message rejected", map[string]any{"error": "mte: sequence number outside window"}}, closed(1008, "mte: sequence number outside window", "proxy")}},
		{"sequence jump beyond the window (too far ahead)", afterPairing(func(c *wstest.Client) {
			var last []byte
			for range tableWindow + 1 {
				last = c.Seal(mte.TypeText, []byte("skipped"))
			}
			c.WriteFrame(true, codec.OpBinary, last)
		}, 1008, "mte: sequence number outside window"),
			[]logLine{{"Client message rejected", map[string]any{"error": "mte: sequence number outside window"}}, closed(1008, "mte: sequence number outside window", "proxy")}},
		{"reordered within the window is accepted", func(t *testing.T, h *hostileEnv) {
			c := wstest.Dial(t, h.px.Addr)
			c.Upgrade("/", wstest.GoodOrigin)
			c.Pair(h.px.Profile, "/room")
			a := c.Seal(mte.TypeText, []byte("a"))
			b := c.Seal(mte.TypeText, []byte("b"))
			c.Write(append(wstest.Frame(true, codec.OpBinary, b), wstest.Frame(true, codec.OpBinary, a)...))
			for _, want := range []string{"b", "a"} {
				if _, got := c.Recv(); string(got) != want {
					t.Fatalf("echo %q, want %q", got, want)
				}
			}
			c.WriteFrame(true, codec.OpClose, closePayload(1000, "done"))
			c.ExpectClose(1000, "done")
		}, []logLine{closed(1000, "done", "client")}},
		{"handshake message after pairing", afterPairing(func(c *wstest.Client) {
			c.SendHandshake(mte.ActionRequest, nil)
		}, 1002, "mte: invalid action/messageType combination"),
			[]logLine{{"Client message rejected", map[string]any{"error": "mte: invalid action/messageType combination"}}, closed(1002, "mte: invalid action/messageType combination", "proxy")}},
		{"text proxyData that is not UTF-8", afterPairing(func(c *wstest.Client) {
			c.Send(mte.TypeText, []byte{0xff, 0xfe})
		}, 1007, "text message is not valid UTF-8"),
			proxyClosed(1007, "text message is not valid UTF-8")},
		{"text WebSocket frame after pairing", afterPairing(func(c *wstest.Client) {
			c.WriteFrame(true, codec.OpText, []byte("plain"))
		}, 1003, "socketx messages must be binary"),
			proxyClosed(1003, "socketx messages must be binary")},
		{"unmasked frame after pairing", afterPairing(func(c *wstest.Client) {
			c.Write([]byte{0x82, 0x00})
		}, 1002, "frame not masked"),
			proxyClosed(1002, "frame not masked")},

		// ---- well-behaved but awkward clients ----
		{"byte-at-a-time client", func(t *testing.T, h *hostileEnv) {
			c := wstest.Dial(t, h.px.Addr)
			_ = c.Conn.(*net.TCPConn).SetNoDelay(true)
			c.Split = func(b []byte) [][]byte {
				out := make([][]byte, len(b))
				for i := range b {
					out[i] = b[i : i+1]
				}
				return out
			}
			c.Upgrade("/", wstest.GoodOrigin)
			c.Pair(h.px.Profile, "/bytes?x=1")
			for i := range 5 {
				c.RoundTrip(mte.TypeBinary, make([]byte, i*50))
			}
			c.WriteFrame(true, codec.OpClose, closePayload(1000, ""))
			c.ExpectClose(1000, "")
		}, []logLine{closed(1000, "", "client")}},
		{"hello and pairRequest pipelined in one write", func(t *testing.T, h *hostileEnv) {
			// docs/PROTOCOL.md §3: the client need not wait for action 1
			// before sending action 2; the replies come in order.
			c := wstest.Dial(t, h.px.Addr)
			c.Upgrade("/", wstest.GoodOrigin)
			in, err := mte.NewInitiator(h.px.Profile, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			c.Write(append(wstest.Frame(true, codec.OpBinary, wstest.HandshakeMsg(mte.ActionRequest, nil)),
				wstest.Frame(true, codec.OpBinary, wstest.HandshakeMsg(mte.ActionPairRequest, in.Request()))...))
			if got := c.ExpectHandshake(mte.ActionResponse); len(got) != 0 {
				t.Fatalf("action 1 payload %q", got)
			}
			if err := in.Finish(c.ExpectHandshake(mte.ActionPairResponse), &c.Session); err != nil {
				t.Fatal(err)
			}
			// Action 4 and a proxyData in one write: the proxyData waits
			// for the upstream and is relayed after action 5.
			body := []byte(`{"pathname":"/pipelined"}`)
			a4, err := c.Session.Seal(nil, mte.ActionUpstreamRequest, mte.TypeHandshake, body)
			if err != nil {
				t.Fatal(err)
			}
			c.Write(append(wstest.Frame(true, codec.OpBinary, a4), wstest.Frame(true, codec.OpBinary, c.Seal(mte.TypeText, []byte("early")))...))
			c.ExpectHandshake(mte.ActionUpstreamResponse)
			if _, got := c.Recv(); string(got) != "early" {
				t.Fatalf("echo %q", got)
			}
			c.WriteFrame(true, codec.OpClose, closePayload(1000, ""))
			c.ExpectClose(1000, "")
		}, []logLine{closed(1000, "", "client")}},
		{"whole session in one segment", func(t *testing.T, h *hostileEnv) {
			// Upgrade head and hello pipelined; pairRequest right after.
			c := wstest.Dial(t, h.px.Addr)
			c.Write(append([]byte(wstest.UpgradeHead("/", wstest.GoodOrigin)), wstest.Frame(true, codec.OpBinary, wstest.HandshakeMsg(mte.ActionRequest, nil))...))
			if line, _ := c.BR.ReadString('\n'); line != "HTTP/1.1 101 Switching Protocols\r\n" {
				t.Fatalf("status line %q", line)
			}
			for {
				line, err := c.BR.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				if line == "\r\n" {
					break
				}
			}
			c.ExpectHandshake(mte.ActionResponse)
			c.Keys(h.px.Profile)
			c.Pathname("/")
			c.RoundTrip(mte.TypeText, []byte("fast"))
			c.WriteFrame(true, codec.OpClose, closePayload(4321, "app close"))
			c.ExpectClose(4321, "app close")
		}, []logLine{closed(4321, "app close", "client")}},
	}
}

func TestHostileInput(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{
		domainMap: `{"app.example.com":{"upstream":"` + echo.URL + `/base","allowedOrigins":["https://app.example.com"]}}`,
		strength:  mte.Strength512,
		window:    tableWindow,
		keys:      []*mte.ServerPrivateKey{tableServerKey},
		mutate: func(c *engine.Config) {
			c.HandshakeTimeout = tableHandshakeTimeout
			c.MaxMessageSize = tableMaxMessage
		},
	})
	h := &hostileEnv{px: px, echo: echo}
	h.witness = wstest.Dial(t, px.Addr)
	_ = h.witness.Conn.SetDeadline(time.Time{})
	h.witness.Upgrade("/", wstest.GoodOrigin)
	h.witness.Pair(px.Profile, "/witness")
	h.witness.RoundTrip(mte.TypeText, []byte("warm-up"))
	baseG, _ := goroutines()
	const baseActive = 1 // the witness

	cases := hostileCases()
	passed := 0
	for i, tc := range cases {
		ok := t.Run(tc.name, func(t *testing.T) {
			before := px.Logs.Len()
			baseCase, _ := goroutines()
			tc.do(t, h)
			testwait.For(t, "the proxy to release the connection", 10*time.Second, func() bool {
				return px.Server.Stats().Active == baseActive
			})
			testwait.For(t, "the log lines", 5*time.Second, func() bool { return px.Logs.Len()-before >= len(tc.logs) })
			if err := matchLogs(px.Logs.All()[before:], tc.logs); err != nil {
				t.Fatal(err)
			}
			_ = h.witness.Conn.SetDeadline(time.Now().Add(10 * time.Second))
			h.witness.RoundTrip(mte.TypeBinary, fmt.Appendf(nil, "witness after case %d", i))
			waitGoroutines(t, baseCase)
		})
		if ok {
			passed++
		}
	}
	waitGoroutines(t, baseG)
	t.Logf("hostile cases: %d tried, %d passed; engine stats %+v", len(cases), passed, px.Server.Stats())
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
}
