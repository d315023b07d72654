package engine

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socketx/socketx-server/internal/testupstream"
	"github.com/socketx/socketx-server/internal/wstest"
	"github.com/socketx/socketx-server/mte"
)

// A PROXY header followed by only part of the request head in one read:
// the header is consumed, the partial head is kept for the next read.
func TestProxyHeaderThenSplitHead(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512, mutate: func(c *Config) {
		c.ProxyProtocol = true
	}})
	c := wstest.Dial(t, px.addr)
	_ = c.Conn.(*net.TCPConn).SetNoDelay(true)
	head := wstest.UpgradeHead("/", wstest.GoodOrigin)
	c.Write([]byte("PROXY TCP4 192.0.2.7 127.0.0.1 5000 8080\r\n" + head[:20]))
	time.Sleep(100 * time.Millisecond) // let the proxy read the first part alone
	c.Split = func(b []byte) [][]byte { return [][]byte{b[20:]} }
	c.Upgrade("/", wstest.GoodOrigin)
	c.Split = nil
	c.Pair(px.profile, "/p")
	c.RoundTrip(mte.TypeText, []byte("through"))
	if reqs := echo.Requests(); len(reqs) != 1 || reqs[0].Header.Get("X-Forwarded-For") != "192.0.2.7" {
		t.Fatalf("upstream saw %+v", reqs)
	}
}

// A HEAD request gets the GET answer's head, Content-Length included, and
// no body (RFC 9110 §9.3.2): the built-in routes and the error responses.
func TestHEADHasNoBody(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512})
	const (
		jsonHead = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
		textHead = "Content-Type: text/plain; charset=utf-8\r\nContent-Length: "
	)
	upgrade := wstest.UpgradeHead("/", wstest.GoodOrigin)
	cases := []struct {
		name, request, want string
	}{
		{"health", "HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n", jsonHead + "15\r\nConnection: close\r\n\r\n"},
		{"healthz", "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", jsonHead + "15\r\nConnection: close\r\n\r\n"},
		{"ready", "HEAD /ready HTTP/1.1\r\nHost: x\r\n\r\n", jsonHead + "18\r\nConnection: close\r\n\r\n"},
		{"readyz", "HEAD /readyz HTTP/1.1\r\nHost: x\r\n\r\n", jsonHead + "18\r\nConnection: close\r\n\r\n"},
		// {"message":"hi","timestamp":"2006-01-02T15:04:05Z"}: 51 bytes.
		{"echo", "HEAD /api/socketx-echo?msg=hi HTTP/1.1\r\nHost: x\r\n\r\n", jsonHead + "51\r\nConnection: close\r\n\r\n"},
		{"not found", "HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n",
			"HTTP/1.1 404 Not Found\r\n" + textHead + "10\r\nConnection: close\r\n\r\n"},
		{"HEAD upgrade", strings.Replace(upgrade, "GET", "HEAD", 1),
			"HTTP/1.1 405 Method Not Allowed\r\n" + textHead + "31\r\nConnection: close\r\nAllow: GET\r\n\r\n"},
		{"bad header", "HEAD /health HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n",
			"HTTP/1.1 400 Bad Request\r\n" + textHead + "20\r\nConnection: close\r\n\r\n"},
		{"half an upgrade", "HEAD / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n",
			"HTTP/1.1 400 Bad Request\r\n" + textHead + "34\r\nConnection: close\r\n\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := httpExchange(t, px.addr, tc.request); got != tc.want {
				t.Fatalf("response:\n%q\nwant\n%q", got, tc.want)
			}
			if tc.name == "HEAD upgrade" {
				return // as GET it upgrades: no head to compare
			}
			// The GET answer has the same head and then the body.
			get := httpExchange(t, px.addr, strings.Replace(tc.request, "HEAD", "GET", 1))
			if !strings.HasPrefix(get, tc.want) {
				t.Fatalf("GET response:\n%q\ndoes not start with\n%q", get, tc.want)
			}
			cl := tc.want[strings.Index(tc.want, "Content-Length: ")+16:]
			n, _ := strconv.Atoi(cl[:strings.IndexByte(cl, '\r')])
			if body := get[len(tc.want):]; len(body) != n {
				t.Fatalf("GET body %q is %d bytes, HEAD said %d", body, len(body), n)
			}
		})
	}
	t.Run("ready while draining", func(t *testing.T) {
		px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512})
		px.srv.draining.Store(true)
		want := "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 21\r\nConnection: close\r\n\r\n"
		if got := httpExchange(t, px.addr, "HEAD /ready HTTP/1.1\r\nHost: x\r\n\r\n"); got != want {
			t.Fatalf("response:\n%q\nwant\n%q", got, want)
		}
	})
}

// An upgrade whose Host has a bad port or a broken IPv6 literal gets 400
// and never reaches routing (the "*" route would take any host).
func TestUpgradeBadHostPort(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512})
	cases := []struct{ host, reason string }{
		{"allowed.test:abc", "invalid port in Host header"},
		{"allowed.test:0", "invalid port in Host header"},
		{"allowed.test:99999", "invalid port in Host header"},
		{"allowed.test:", "invalid port in Host header"},
		{"[::1", "invalid Host header"},
		{"[::1]:", "invalid port in Host header"},
	}
	for _, tc := range cases {
		t.Run(tc.host, func(t *testing.T) {
			req := strings.Replace(wstest.UpgradeHead("/", wstest.GoodOrigin), "Host: app.example.com", "Host: "+tc.host, 1)
			want := "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
				strconv.Itoa(len(tc.reason)+1) + "\r\nConnection: close\r\n\r\n" + tc.reason + "\n"
			if got := httpExchange(t, px.addr, req); got != want {
				t.Fatalf("response:\n%q\nwant\n%q", got, want)
			}
		})
	}
	for _, host := range []string{"allowed.test:1", "allowed.test:65535", "[::1]:8080", "[::1]"} {
		t.Run(host, func(t *testing.T) {
			c := wstest.Dial(t, px.addr)
			head := strings.Replace(wstest.UpgradeHead("/", wstest.GoodOrigin), "Host: app.example.com", "Host: "+host, 1)
			c.Write([]byte(head))
			if line, err := c.BR.ReadString('\n'); err != nil || line != "HTTP/1.1 101 Switching Protocols\r\n" {
				t.Fatalf("status line %q, %v", line, err)
			}
		})
	}
	if len(echo.Requests()) != 0 {
		t.Fatal("a request reached the upstream")
	}
}

// Every offered subprotocol must be a token: anything else is 400, before
// routing, and nothing is echoed.
func TestSubprotocolNotAToken(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512})
	const want = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 38\r\n" +
		"Connection: close\r\n\r\ninvalid Sec-WebSocket-Protocol header\n"
	for _, p := range []string{`a"b;c`, "chat, a b", "chat, x/y", "caf\xc3\xa9", "", ","} {
		t.Run(p, func(t *testing.T) {
			req := wstest.UpgradeHead("/", wstest.GoodOrigin, "Sec-WebSocket-Protocol: "+p)
			if got := httpExchange(t, px.addr, req); got != want {
				t.Fatalf("response:\n%q\nwant\n%q", got, want)
			}
		})
	}
}

// The 101 selects the client's first subprotocol before the upstream is
// dialed; the upstream is offered only that one and must select exactly
// it, or the session ends with 1014.
func TestSubprotocolUpstreamMustAgree(t *testing.T) {
	cases := []struct {
		name     string
		upstream func(t *testing.T) (url string, requests func() []testupstream.RecordedRequest)
		offer    string // client's Sec-WebSocket-Protocol; "" sends none
		selected string // what the proxy's 101 must select
		reason   string
	}{
		{"upstream selects none", func(t *testing.T) (string, func() []testupstream.RecordedRequest) {
			up := testupstream.NewEcho(t, testupstream.WithSubprotocols("superchat"))
			return up.URL, up.Requests
		}, "chat, superchat", "chat", "upstream did not accept subprotocol"},
		{"upstream selects another", func(t *testing.T) (string, func() []testupstream.RecordedRequest) {
			up := testupstream.NewGarbage(t, testupstream.WithSelectedSubprotocol("superchat"), testupstream.WithGarbage(nil))
			return up.URL, up.Requests
		}, "chat, superchat", "chat", "upstream selected a subprotocol not offered"},
		{"upstream selects one never offered", func(t *testing.T) (string, func() []testupstream.RecordedRequest) {
			up := testupstream.NewGarbage(t, testupstream.WithSelectedSubprotocol("chat"), testupstream.WithGarbage(nil))
			return up.URL, up.Requests
		}, "", "", "upstream selected a subprotocol not offered"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url, requests := tc.upstream(t)
			px := startProxy(t, proxyOpts{domainMap: echoMap(url), strength: mte.Strength512})
			c := wstest.Dial(t, px.addr)
			var extra []string
			if tc.offer != "" {
				extra = append(extra, "Sec-WebSocket-Protocol: "+tc.offer)
			}
			c.Write([]byte(wstest.UpgradeHead("/", extra...)))
			resp, err := http.ReadResponse(c.BR, nil)
			if err != nil || resp.StatusCode != 101 {
				t.Fatalf("upgrade: %v %v", err, resp)
			}
			if got := resp.Header.Values("Sec-WebSocket-Protocol"); strings.Join(got, ",") != tc.selected {
				t.Fatalf("101 selects %q, want %q", got, tc.selected)
			}
			c.Hello()
			c.Keys(px.profile)
			c.SendPathname("/p")
			c.ExpectClose(1014, tc.reason)
			reqs := requests()
			if len(reqs) != 1 || strings.Join(reqs[0].Header.Values("Sec-WebSocket-Protocol"), ",") != tc.selected {
				t.Fatalf("upstream was offered %+v, want only %q", reqs, tc.selected)
			}
		})
	}
}

// An upgrade request that announces a body is refused: the bytes after the
// head would otherwise be read as WebSocket frames. Content-Length: 0 is
// no body.
func TestUpgradeWithBody(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512})
	const want = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 27\r\n" +
		"Connection: close\r\n\r\nupgrade request has a body\n"
	cases := []struct{ name, header, body string }{
		{"Content-Length 5", "Content-Length: 5", "hello"},
		{"Content-Length 1 no body sent", "Content-Length: 1", ""},
		{"chunked", "Transfer-Encoding: chunked", "5\r\nhello\r\n0\r\n\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := wstest.UpgradeHead("/", wstest.GoodOrigin, tc.header) + tc.body
			if got := httpExchange(t, px.addr, req); got != want {
				t.Fatalf("response:\n%q\nwant\n%q", got, want)
			}
		})
	}
	t.Run("Content-Length 0", func(t *testing.T) {
		c := wstest.Dial(t, px.addr)
		c.Upgrade("/", wstest.GoodOrigin, "Content-Length: 0")
		c.Pair(px.profile, "/cl0")
		c.RoundTrip(mte.TypeText, []byte("no body"))
	})
}

// X-Forwarded-For and -Proto towards the upstream: a client's own chain is
// dropped unless the TCP peer is a trusted proxy, whose chain is extended
// with the peer.
func TestForwardedHeaders(t *testing.T) {
	cases := []struct {
		name            string
		trusted         bool
		headers         []string
		wantFor, wantPr string
	}{
		{"no X-Forwarded-For", false, nil, "127.0.0.1", "http"},
		{"client chain, untrusted peer", false,
			[]string{"X-Forwarded-For: 203.0.113.9, 198.51.100.1", "X-Forwarded-Proto: https"}, "127.0.0.1", "http"},
		{"client chain, trusted peer", true,
			[]string{"X-Forwarded-For: 203.0.113.9, 198.51.100.1", "X-Forwarded-Proto: https"}, "203.0.113.9, 198.51.100.1, 127.0.0.1", "https"},
		{"no X-Forwarded-For, trusted peer", true, nil, "127.0.0.1", "http"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			echo := testupstream.NewEcho(t)
			px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512, mutate: func(c *Config) {
				if tc.trusted {
					c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
				}
			}})
			c := connect(t, px, "/fwd", tc.headers...)
			c.RoundTrip(mte.TypeText, []byte("x"))
			reqs := echo.Requests()
			if len(reqs) != 1 {
				t.Fatalf("upstream saw %d requests", len(reqs))
			}
			h := reqs[0].Header
			if got := h.Values("X-Forwarded-For"); len(got) != 1 || got[0] != tc.wantFor {
				t.Errorf("X-Forwarded-For = %q, want %q", got, tc.wantFor)
			}
			if got := h.Values("X-Forwarded-Proto"); len(got) != 1 || got[0] != tc.wantPr {
				t.Errorf("X-Forwarded-Proto = %q, want %q", got, tc.wantPr)
			}
		})
	}
}
