package codec

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// browserHead is a Chrome upgrade request as it arrives behind no proxy.
const browserHead = "GET /chat?room=1 HTTP/1.1\r\n" +
	"Host: proxy.example.com\r\n" +
	"Connection: Upgrade\r\n" +
	"Pragma: no-cache\r\n" +
	"Cache-Control: no-cache\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n" +
	"Upgrade: websocket\r\n" +
	"Origin: https://app.example.com\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
	"\r\n"

// reqView is a Request as comparable strings; "<nil>" marks an absent field.
type reqView struct {
	Method, Target, Proto                                    string
	Host, Origin, Upgrade, Connection, SecKey, SecVersion    string
	Protocol, Extensions, XForwardedFor, XForwardedProto, UA string
	TransferEncoding                                         string
	ContentLength                                            int64
	HeadLen, Headers                                         int
	IsUpgrade                                                bool
}

func s(b []byte) string {
	if b == nil {
		return "<nil>"
	}
	return string(b)
}

func view(r *Request) reqView {
	return reqView{
		s(r.Method), s(r.Target), s(r.Proto),
		s(r.Host), s(r.Origin), s(r.Upgrade), s(r.Connection), s(r.SecKey), s(r.SecVersion),
		s(r.Protocol), s(r.Extensions), s(r.XForwardedFor), s(r.XForwardedProto), s(r.UserAgent),
		s(r.TransferEncoding), r.ContentLength, r.HeadLen, r.Headers, r.IsUpgrade(),
	}
}

const nilS = "<nil>"

func TestParseRequestValid(t *testing.T) {
	tests := []struct {
		name string
		head string
		want reqView
	}{{
		name: "browser upgrade",
		head: browserHead,
		want: reqView{
			"GET", "/chat?room=1", "HTTP/1.1",
			"proxy.example.com", "https://app.example.com", "websocket", "Upgrade", "dGhlIHNhbXBsZSBub25jZQ==", "13",
			nilS, "permessage-deflate; client_max_window_bits", nilS, nilS,
			"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
			nilS, -1, 0, 12, true,
		},
	}, {
		name: "case-insensitive names, OWS, proxies, list tokens",
		head: "GET / HTTP/1.1\r\nhOsT:\t127.0.0.1:8080 \r\nCONNECTION: keep-alive, Upgrade\r\nupgrade:  WebSocket\r\n" +
			"sec-websocket-key:x\r\nSEC-WEBSOCKET-VERSION: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n" +
			"X-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2\r\nx-forwarded-proto: https\r\n" +
			"X-Forwarded-Proto: http\r\nEmpty:\r\n\r\n",
		want: reqView{
			"GET", "/", "HTTP/1.1",
			"127.0.0.1:8080", nilS, "WebSocket", "keep-alive, Upgrade", "x", "13",
			"chat, superchat", nilS, "10.0.0.1, 10.0.0.2", "https", nilS,
			nilS, -1, 0, 11, true,
		},
	}, {
		name: "repeated Connection and Upgrade lines all count",
		head: "GET /x HTTP/1.1\r\nHost: [::1]:80\r\nConnection: keep-alive\r\nConnection: upgrade\r\nUpgrade: h2c\r\nUpgrade: websocket\r\n\r\n",
		want: reqView{
			"GET", "/x", "HTTP/1.1",
			"[::1]:80", nilS, "h2c", "keep-alive", nilS, nilS,
			nilS, nilS, nilS, nilS, nilS,
			nilS, -1, 0, 5, true,
		},
	}, {
		name: "HTTP/1.0 without Host, body length, no upgrade",
		head: "POST /echo HTTP/1.0\r\nContent-Length: 42\r\n\r\nbody",
		want: reqView{
			"POST", "/echo", "HTTP/1.0",
			nilS, nilS, nilS, nilS, nilS, nilS,
			nilS, nilS, nilS, nilS, nilS,
			nilS, 42, 0, 1, false,
		},
	}, {
		name: "asterisk form, chunked",
		head: "OPTIONS * HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
		want: reqView{
			"OPTIONS", "*", "HTTP/1.1",
			"a", nilS, nilS, nilS, nilS, nilS,
			nilS, nilS, nilS, nilS, nilS,
			"chunked", -1, 0, 2, false,
		},
	}, {
		name: "obs-text in value, pipelined bytes after head",
		head: "GET /health HTTP/1.1\r\nHost: a\r\nX-Name: caf\xc3\xa9\r\n\r\nGET / HTTP/1.1\r\n",
		want: reqView{
			"GET", "/health", "HTTP/1.1",
			"a", nilS, nilS, nilS, nilS, nilS,
			nilS, nilS, nilS, nilS, nilS,
			nilS, -1, 0, 2, false,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The head ends at the first blank line: an independent oracle.
			tt.want.HeadLen = strings.Index(tt.head, "\r\n\r\n") + 4
			var r Request
			n, err := ParseRequest([]byte(tt.head), 4096, &r)
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if n != tt.want.HeadLen {
				t.Errorf("n = %d, want %d", n, tt.want.HeadLen)
			}
			if got := view(&r); got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseRequestInvalid(t *testing.T) {
	const ok = "GET / HTTP/1.1\r\nHost: a\r\n"
	tests := []struct {
		name    string
		head    string
		maxHead int
		status  int
		reason  string
	}{
		{"tls client hello", "\x16\x03\x01\x02\x00", 0, 400, "invalid request method"},
		{"leading space", " GET / HTTP/1.1\r\n\r\n", 0, 400, "invalid request method"},
		{"leading empty line", "\r\nGET / HTTP/1.1\r\n\r\n", 0, 400, "invalid request method"},
		{"method with slash", "G/T / HTTP/1.1\r\n\r\n", 0, 400, "invalid request method"},
		{"method only", "GET\r\n\r\n", 0, 400, "invalid request method"},
		{"no version", "GET /\r\n\r\n", 0, 400, "malformed request line"},
		{"double space", "GET  / HTTP/1.1\r\n\r\n", 0, 400, "malformed request line"},
		{"trailing space", "GET / HTTP/1.1 \r\n\r\n", 0, 400, "malformed request line"},
		{"lower-case proto", "GET / http/1.1\r\n\r\n", 0, 400, "malformed request line"},
		{"proto garbage", "GET / HTTP/1.x\r\n\r\n", 0, 400, "malformed request line"},
		{"absolute form", "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400, "invalid request target"},
		{"authority form", "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 0, 400, "invalid request target"},
		{"non-ascii target", "GET /\xc3\xa9 HTTP/1.1\r\n\r\n", 0, 400, "invalid request target"},
		{"DEL in target", "GET /\x7f HTTP/1.1\r\n\r\n", 0, 400, "invalid request target"},
		{"HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", 0, 505, "HTTP version not supported"},
		{"HTTP/1.2", "GET / HTTP/1.2\r\n\r\n", 0, 505, "HTTP version not supported"},
		{"bare LF request line", "GET / HTTP/1.1\n\r\n", 0, 400, "bare LF in request head"},
		{"bare LF header", ok + "X: y\n\r\n", 0, 400, "bare LF in request head"},
		{"bare LF end", ok + "\n", 0, 400, "bare LF in request head"},
		{"obs-fold", ok + "X: y\r\n z\r\n\r\n", 0, 400, "obsolete line folding"},
		{"obs-fold tab", ok + "\tz\r\n\r\n", 0, 400, "obsolete line folding"},
		{"no colon", ok + "X y\r\n\r\n", 0, 400, "malformed header line"},
		{"empty name", ok + ": y\r\n\r\n", 0, 400, "malformed header line"},
		{"space before colon", ok + "Host : b\r\n\r\n", 0, 400, "malformed header line"},
		{"space in name", ok + "X Y: z\r\n\r\n", 0, 400, "invalid header name"},
		{"non-token name", ok + "X(Y): z\r\n\r\n", 0, 400, "invalid header name"},
		{"NUL in value", ok + "X: a\x00b\r\n\r\n", 0, 400, "invalid character in header value"},
		{"CR in value", ok + "X: a\rb\r\n\r\n", 0, 400, "invalid character in header value"},
		{"DEL in value", ok + "X: a\x7fb\r\n\r\n", 0, 400, "invalid character in header value"},
		{"ESC in value", ok + "X: \x1b[31m\r\n\r\n", 0, 400, "invalid character in header value"},
		{"duplicate host", ok + "host: b\r\n\r\n", 0, 400, "duplicate Host header"},
		{"missing host", "GET / HTTP/1.1\r\nX: y\r\n\r\n", 0, 400, "missing Host header"},
		{"empty host", "GET / HTTP/1.1\r\nHost: \r\n\r\n", 0, 400, "missing Host header"},
		{"host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 0, 400, "invalid Host header"},
		{"host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 0, 400, "invalid Host header"},
		{"duplicate origin", ok + "Origin: x\r\norigin: y\r\n\r\n", 0, 400, "duplicate Origin header"},
		{"bad content-length", ok + "Content-Length: 1a\r\n\r\n", 0, 400, "invalid Content-Length"},
		{"negative content-length", ok + "Content-Length: -1\r\n\r\n", 0, 400, "invalid Content-Length"},
		{"huge content-length", ok + "Content-Length: 1234567890123456789\r\n\r\n", 0, 400, "invalid Content-Length"},
		{"empty content-length", ok + "Content-Length:\r\n\r\n", 0, 400, "invalid Content-Length"},
		{"duplicate content-length", ok + "Content-Length: 1\r\nContent-Length: 1\r\n\r\n", 0, 400, "duplicate Content-Length header"},
		{"smuggling", ok + "Transfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n", 0, 400, "Content-Length with Transfer-Encoding"},
		{"head too large", ok + "X: " + strings.Repeat("a", 100) + "\r\n\r\n", 64, 431, "request header too large"},
		{"head one byte over", ok + "\r\n", len(ok+"\r\n") - 1, 431, "request header too large"},
		{"too many headers", ok + strings.Repeat("X: y\r\n", MaxHeaders) + "\r\n", 0, 431, "too many header fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			maxHead := tt.maxHead
			if maxHead == 0 {
				maxHead = 4096
			}
			var r Request
			n, err := ParseRequest([]byte(tt.head), maxHead, &r)
			var he *HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("n, err = %d, %v; want *HTTPError", n, err)
			}
			if n != 0 || he.Status != tt.status || he.Reason != tt.reason {
				t.Errorf("n, err = %d, %d %q; want 0, %d %q", n, he.Status, he.Reason, tt.status, tt.reason)
			}
			if want := "codec: " + tt.reason; err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
}

func TestParseRequestLimits(t *testing.T) {
	head := "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	var r Request
	// A head of exactly maxHead bytes fits.
	if n, err := ParseRequest([]byte(head), len(head), &r); n != len(head) || err != nil {
		t.Errorf("exact fit: %d, %v", n, err)
	}
	// Exactly MaxHeaders fields are fine.
	many := "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: y\r\n", MaxHeaders-1) + "\r\n"
	if n, err := ParseRequest([]byte(many), 4096, &r); n != len(many) || err != nil || r.Headers != MaxHeaders {
		t.Errorf("MaxHeaders fields: %d, %v, %d", n, err, r.Headers)
	}
	// Incomplete and shorter than maxHead: wait.
	if _, err := ParseRequest([]byte(head[:20]), 4096, &r); err != ErrNeedMore {
		t.Errorf("short: %v", err)
	}
	// Incomplete and already maxHead long: reject.
	if _, err := ParseRequest([]byte(head[:20]), 20, &r); err != errHeadTooLarge {
		t.Errorf("short at limit: %v", err)
	}
	if _, err := ParseRequest(nil, 4096, &r); err != ErrNeedMore {
		t.Errorf("empty: %v", err)
	}
}

// TestParseRequestSplit checks that every prefix of a head gives ErrNeedMore
// or the same error, and that the full input gives the one-shot result.
func TestParseRequestSplit(t *testing.T) {
	inputs := []string{
		browserHead,
		browserHead + "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
		"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
		"GET / HTTP/1.1\r\n\r\n",
		"\x16\x03\x01",
	}
	for _, in := range inputs {
		checkRequestSplit(t, []byte(in), 4096)
		checkRequestSplit(t, []byte(in), 64)
	}
}

func checkRequestSplit(t *testing.T, b []byte, maxHead int) {
	t.Helper()
	var full Request
	n, err := ParseRequest(b, maxHead, &full)
	for k := 0; k <= len(b); k++ {
		var r Request
		nk, errk := ParseRequest(b[:k], maxHead, &r)
		switch {
		case errk == ErrNeedMore:
			if nk != 0 {
				t.Fatalf("k=%d: ErrNeedMore with n=%d", k, nk)
			}
		case errk != err || nk != n:
			t.Fatalf("maxHead=%d k=%d: %d, %v; one-shot %d, %v\ninput %q", maxHead, k, nk, errk, n, err, b)
		case err == nil && view(&r) != view(&full):
			t.Fatalf("k=%d: %+v != %+v", k, view(&r), view(&full))
		}
	}
}

func TestCheckUpgrade(t *testing.T) {
	const key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	const base = "Host: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	const good = "GET / HTTP/1.1\r\n" + base + key + "Sec-WebSocket-Version: 13\r\n"
	tests := []struct {
		name   string
		head   string
		status int
		reason string
	}{
		{"good", good, 0, ""},
		{"good with protocol", good + "Sec-WebSocket-Protocol: chat\r\n", 0, ""},
		{"POST", "POST / HTTP/1.1\r\n" + base + key + "Sec-WebSocket-Version: 13\r\n", 405, "websocket upgrade requires GET"},
		{"HTTP/1.0", "GET / HTTP/1.0\r\n" + base + key + "Sec-WebSocket-Version: 13\r\n", 400, "websocket upgrade requires HTTP/1.1"},
		{"asterisk target", "GET * HTTP/1.1\r\n" + base + key + "Sec-WebSocket-Version: 13\r\n", 400, "invalid request target"},
		{"no upgrade", "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n" + key + "Sec-WebSocket-Version: 13\r\n", 400, "missing Upgrade: websocket header"},
		{"upgrade h2c", "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n" + key + "Sec-WebSocket-Version: 13\r\n", 400, "missing Upgrade: websocket header"},
		{"no connection", "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n" + key + "Sec-WebSocket-Version: 13\r\n", 400, "missing Connection: Upgrade header"},
		{"connection keep-alive", "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n" + key + "Sec-WebSocket-Version: 13\r\n", 400, "missing Connection: Upgrade header"},
		{"Content-Length 0", good + "Content-Length: 0\r\n", 0, ""},
		{"Content-Length 5", good + "Content-Length: 5\r\n", 400, "upgrade request has a body"},
		{"Content-Length 1", good + "Content-Length: 1\r\n", 400, "upgrade request has a body"},
		{"chunked", good + "Transfer-Encoding: chunked\r\n", 400, "upgrade request has a body"},
		{"Transfer-Encoding identity", good + "Transfer-Encoding: identity\r\n", 400, "upgrade request has a body"},
		{"dup key", good + key, 400, "duplicate Sec-WebSocket-Key header"},
		{"dup version", good + "Sec-WebSocket-Version: 13\r\n", 400, "duplicate Sec-WebSocket-Version header"},
		{"dup protocol", good + "Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b\r\n", 400, "duplicate Sec-WebSocket-Protocol header"},
		{"protocol list with OWS", good + "Sec-WebSocket-Protocol: chat ,\tsuperchat,v2.json\r\n", 0, ""},
		{"protocol list with empty elements", good + "Sec-WebSocket-Protocol: , chat,,\r\n", 0, ""},
		{"protocol quote", good + "Sec-WebSocket-Protocol: a\"b;c\r\n", 400, "invalid Sec-WebSocket-Protocol header"},
		{"protocol with space", good + "Sec-WebSocket-Protocol: chat v2\r\n", 400, "invalid Sec-WebSocket-Protocol header"},
		{"protocol with slash", good + "Sec-WebSocket-Protocol: chat, a/b\r\n", 400, "invalid Sec-WebSocket-Protocol header"},
		{"protocol with semicolon", good + "Sec-WebSocket-Protocol: chat;q=1\r\n", 400, "invalid Sec-WebSocket-Protocol header"},
		{"protocol non-ASCII", good + "Sec-WebSocket-Protocol: caf\xc3\xa9\r\n", 400, "invalid Sec-WebSocket-Protocol header"},
		{"protocol empty", good + "Sec-WebSocket-Protocol:\r\n", 400, "invalid Sec-WebSocket-Protocol header"},
		{"protocol only commas", good + "Sec-WebSocket-Protocol: , ,\r\n", 400, "invalid Sec-WebSocket-Protocol header"},
		{"no version", "GET / HTTP/1.1\r\n" + base + key, 426, "unsupported Sec-WebSocket-Version"},
		{"version 8", "GET / HTTP/1.1\r\n" + base + key + "Sec-WebSocket-Version: 8\r\n", 426, "unsupported Sec-WebSocket-Version"},
		{"version list", "GET / HTTP/1.1\r\n" + base + key + "Sec-WebSocket-Version: 13, 8\r\n", 426, "unsupported Sec-WebSocket-Version"},
		{"no key", "GET / HTTP/1.1\r\n" + base + "Sec-WebSocket-Version: 13\r\n", 400, "invalid Sec-WebSocket-Key"},
		{"short key", "GET / HTTP/1.1\r\n" + base + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=\r\nSec-WebSocket-Version: 13\r\n", 400, "invalid Sec-WebSocket-Key"},
		{"17-byte key", "GET / HTTP/1.1\r\n" + base + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ1=\r\nSec-WebSocket-Version: 13\r\n", 400, "invalid Sec-WebSocket-Key"},
		{"bad char key", "GET / HTTP/1.1\r\n" + base + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ*==\r\nSec-WebSocket-Version: 13\r\n", 400, "invalid Sec-WebSocket-Key"},
		{"url-safe key", "GET / HTTP/1.1\r\n" + base + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ-==\r\nSec-WebSocket-Version: 13\r\n", 400, "invalid Sec-WebSocket-Key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Request
			if _, err := ParseRequest([]byte(tt.head+"\r\n"), 4096, &r); err != nil {
				t.Fatal(err)
			}
			err := CheckUpgrade(&r)
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			he, ok := err.(*HTTPError)
			if !ok || he.Status != tt.status || he.Reason != tt.reason {
				t.Fatalf("err = %#v; want %d %q", err, tt.status, tt.reason)
			}
		})
	}
}

func TestIsUpgradeBuiltByHand(t *testing.T) {
	r := Request{Upgrade: []byte("WebSocket"), Connection: []byte("keep-alive,upgrade")}
	if !r.IsUpgrade() {
		t.Error("IsUpgrade = false")
	}
	r.Connection = []byte("upgrades")
	if r.IsUpgrade() {
		t.Error("IsUpgrade = true for \"upgrades\"")
	}
}

func TestSplitTarget(t *testing.T) {
	tests := []struct{ in, path, query string }{
		{"/", "/", nilS},
		{"/a/b?x=1&y=2", "/a/b", "x=1&y=2"},
		{"/a?", "/a", ""},
		{"/a?b?c", "/a", "b?c"},
		{"*", "*", nilS},
	}
	for _, tt := range tests {
		p, q := SplitTarget([]byte(tt.in))
		if s(p) != tt.path || s(q) != tt.query {
			t.Errorf("SplitTarget(%q) = %q, %q; want %q, %q", tt.in, s(p), s(q), tt.path, tt.query)
		}
	}
}

func TestParseRequestAllocs(t *testing.T) {
	b := []byte(browserHead)
	bad := []byte("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
	// Host with a port and an IPv6 literal, a subprotocol list, an empty body.
	extra := []byte(strings.Replace(browserHead, "Host: proxy.example.com\r\n",
		"Host: [2001:db8::1]:8443\r\nSec-WebSocket-Protocol: chat, superchat\r\nContent-Length: 0\r\n", 1))
	var r Request
	allocs := testing.AllocsPerRun(100, func() {
		for _, head := range [][]byte{b, extra} {
			if _, err := ParseRequest(head, 4096, &r); err != nil {
				t.Fatal(err)
			}
			if err := CheckUpgrade(&r); err != nil {
				t.Fatal(err)
			}
		}
		if len(FirstProtocol(r.Protocol)) != 4 {
			t.Fatal("no protocol")
		}
		if _, err := ParseRequest(bad, 4096, &r); err == nil {
			t.Fatal("bad head accepted")
		}
		if _, err := ParseRequest(b[:100], 4096, &r); err != ErrNeedMore {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ParseRequest+CheckUpgrade allocs = %v, want 0", allocs)
	}
}

// naiveCheckHost is checkHost written with the standard library, as an
// independent oracle.
func naiveCheckHost(h string) error {
	if h == "" {
		return nil
	}
	host, port, hasPort := h, "", false
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return errBadHost
		}
		a, err := netip.ParseAddr(h[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return errBadHost
		}
		host = h[:end+1]
		if rest := h[end+1:]; rest != "" {
			if rest[0] != ':' {
				return errBadHost
			}
			port, hasPort = rest[1:], true
		}
	} else if i := strings.IndexByte(h, ':'); i >= 0 {
		host, port, hasPort = h[:i], h[i+1:], true
	}
	if host == "" || (!strings.HasPrefix(host, "[") && strings.ContainsAny(host, "[]")) {
		return errBadHost
	}
	if hasPort {
		n, err := strconv.ParseUint(port, 10, 32)
		if err != nil || len(port) > 5 || n < 1 || n > 65535 {
			return errBadHostPort
		}
	}
	return nil
}

func TestCheckHost(t *testing.T) {
	tests := []struct {
		host string
		want error
	}{
		{"allowed.test", nil},
		{"allowed.test:443", nil},
		{"allowed.test:1", nil},
		{"allowed.test:65535", nil},
		{"127.0.0.1:8080", nil},
		{"[::1]", nil},
		{"[::1]:80", nil},
		{"[2001:db8::8a2e:370:7334]:443", nil},
		{"[::ffff:192.0.2.1]", nil},
		{"[1:2:3:4:5:6:7:8]", nil},
		{"allowed.test:abc", errBadHostPort},
		{"allowed.test:0", errBadHostPort},
		{"allowed.test:00000", errBadHostPort},
		{"allowed.test:65536", errBadHostPort},
		{"allowed.test:99999", errBadHostPort},
		{"allowed.test:123456", errBadHostPort},
		{"allowed.test:", errBadHostPort},
		{"allowed.test:80:80", errBadHostPort},
		{"[::1]:", errBadHostPort},
		{"[::1]:0", errBadHostPort},
		{"[::1", errBadHost},
		{"[::1]x", errBadHost},
		{"[]", errBadHost},
		{"[::1::]", errBadHost},
		{"[1:2:3:4:5:6:7:8:9]", errBadHost},
		{"[1:2:3:4:5:6:7]", errBadHost},
		{"[12345::]", errBadHost},
		{"[::1.2.3]", errBadHost},
		{"[::01.2.3.4]", errBadHost},
		{"[::256.2.3.4]", errBadHost},
		{"[1.2.3.4]", errBadHost},
		{"[v1.x]", errBadHost},
		{"::1", errBadHost},
		{":80", errBadHost},
		{"a]b", errBadHost},
		{"a[b", errBadHost},
	}
	for _, tt := range tests {
		if got := checkHost([]byte(tt.host)); got != tt.want {
			t.Errorf("checkHost(%q) = %v, want %v", tt.host, got, tt.want)
		}
		if got := naiveCheckHost(tt.host); got != tt.want {
			t.Errorf("naiveCheckHost(%q) = %v, want %v (oracle disagrees with the table)", tt.host, got, tt.want)
		}
	}
	// The parser reports it, and the valid path allocates nothing.
	var r Request
	for _, h := range []string{"allowed.test:abc", "allowed.test:0", "allowed.test:99999", "allowed.test:", "[::1"} {
		_, err := ParseRequest([]byte("GET / HTTP/1.1\r\nHost: "+h+"\r\n\r\n"), 4096, &r)
		if want := naiveCheckHost(h); err != want {
			t.Errorf("Host %q: err = %v, want %v", h, err, want)
		}
	}
	good := []byte("[2001:db8::1]:8443")
	if n := testing.AllocsPerRun(100, func() { _ = checkHost(good) }); n != 0 {
		t.Errorf("checkHost allocs = %v", n)
	}
}

// FuzzCheckHost compares checkHost with naiveCheckHost.
func FuzzCheckHost(f *testing.F) {
	for _, s := range []string{"a", "a:1", "[::1]:80", "[::ffff:1.2.3.4]", "[1:2:3:4:5:6:7:8]", "a:", "[::1", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if !allIn([]byte(h), classHost) {
			return
		}
		if got, want := checkHost([]byte(h)), naiveCheckHost(h); got != want {
			t.Fatalf("checkHost(%q) = %v, naive %v", h, got, want)
		}
	})
}

func TestFirstProtocol(t *testing.T) {
	tests := []struct{ in, want string }{
		{"chat", "chat"},
		{"chat, superchat", "chat"},
		{" \tchat\t,x", "chat"},
		{", ,chat,x", "chat"},
		{"", nilS},
	}
	for _, tt := range tests {
		if got := s(FirstProtocol([]byte(tt.in))); got != tt.want {
			t.Errorf("FirstProtocol(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := FirstProtocol(nil); got != nil {
		t.Errorf("FirstProtocol(nil) = %q", got)
	}
}
