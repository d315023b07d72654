package engine

import (
	"bytes"
	crand "crypto/rand"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/internal/testupstream"
	"github.com/socketx/socketx-server/internal/wstest"
	"github.com/socketx/socketx-server/mte"
)

func TestRelayEchoAllStrengths(t *testing.T) {
	for _, st := range []mte.Strength{mte.StrengthClassical, mte.Strength512, mte.Strength768, mte.Strength1024} {
		t.Run(st.String(), func(t *testing.T) {
			echo := testupstream.NewEcho(t)
			px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: st, window: 1000})
			c := connect(t, px, "/rooms/dogs?token=1", "Origin: https://app.example.com")

			cases := []struct {
				typ  mte.MessageType
				data []byte
			}{
				{mte.TypeText, []byte("hello")},
				{mte.TypeBinary, []byte{0, 1, 2, 0xff}},
				{mte.TypeText, nil},
				{mte.TypeBinary, nil},
				{mte.TypeText, []byte("héllo wörld ✓")},
			}
			for _, tc := range cases {
				c.Send(tc.typ, tc.data)
				typ, got := c.Recv()
				if typ != tc.typ || !bytes.Equal(got, tc.data) {
					t.Fatalf("echo of %v %q = %v %q", tc.typ, tc.data, typ, got)
				}
			}
			reqs := echo.Requests()
			if len(reqs) != 1 {
				t.Fatalf("upstream saw %d upgrades, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Path != "/rooms/dogs" || r.RawQuery != "token=1" {
				t.Errorf("upstream path = %q query %q", r.Path, r.RawQuery)
			}
			if got := r.Header.Get("X-Forwarded-For"); got != "127.0.0.1" {
				t.Errorf("X-Forwarded-For = %q", got)
			}
			if got := r.Header.Get("X-Forwarded-Proto"); got != "http" {
				t.Errorf("X-Forwarded-Proto = %q", got)
			}
			if got := r.Header.Get("Origin"); got != "https://app.example.com" {
				t.Errorf("Origin = %q", got)
			}
			st := px.srv.Stats()
			if st.Decoded != uint64(len(cases)) || st.Encoded != uint64(len(cases)) {
				t.Errorf("decoded/encoded = %d/%d, want %d/%d (handshakes excluded)", st.Decoded, st.Encoded, len(cases), len(cases))
			}
		})
	}
}

func TestRelayLargeAndManyMessages(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512, window: 1000})
	c := connect(t, px, "/")
	big := make([]byte, 1<<20) // WS_MAX_MESSAGE_SIZE counts application bytes
	for i := range big {
		big[i] = byte(i * 7)
	}
	c.Send(mte.TypeBinary, big)
	if typ, got := c.Recv(); typ != mte.TypeBinary || !bytes.Equal(got, big) {
		t.Fatalf("1 MiB echo differs (type %v, len %d)", typ, len(got))
	}
	// Many small messages in one write: all arrive, in order.
	var batch []byte
	for i := range 500 {
		batch = append(batch, wstest.Frame(true, codec.OpBinary, c.Seal(mte.TypeText, fmt.Appendf(nil, "m%d", i)))...)
	}
	c.Write(batch)
	for i := range 500 {
		if _, got := c.Recv(); string(got) != fmt.Sprintf("m%d", i) {
			t.Fatalf("message %d = %q", i, got)
		}
	}
}

func TestRelayMessageTooBig(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512})
	c := connect(t, px, "/")
	c.Send(mte.TypeBinary, make([]byte, 1<<20+1)) // one byte over WS_MAX_MESSAGE_SIZE
	c.ExpectClose(1009, "message too big")
}

// TestByteSplit delivers the whole session one byte at a time and in
// random chunks: the results must not change.
func TestByteSplit(t *testing.T) {
	splits := map[string]func([]byte) [][]byte{
		"one-byte": func(b []byte) [][]byte {
			out := make([][]byte, len(b))
			for i := range b {
				out[i] = b[i : i+1]
			}
			return out
		},
		"random": func(b []byte) [][]byte {
			var out [][]byte
			for len(b) > 0 {
				n := min(len(b), 1+rand.IntN(17))
				out = append(out, b[:n])
				b = b[n:]
			}
			return out
		},
	}
	for name, split := range splits {
		t.Run(name, func(t *testing.T) {
			echo := testupstream.NewEcho(t)
			px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512, window: 1000})
			c := wstest.Dial(t, px.addr)
			c.Split = func(b []byte) [][]byte {
				parts := split(b)
				return parts
			}
			// Nagle off so each chunk is its own segment.
			c.Conn.(*net.TCPConn).SetNoDelay(true)
			c.Upgrade("/")
			c.Pair(px.profile, "/split")
			for i := range 20 {
				msg := bytes.Repeat([]byte{byte(i)}, i*13)
				c.Send(mte.TypeBinary, msg)
				if _, got := c.Recv(); !bytes.Equal(got, msg) {
					t.Fatalf("message %d differs", i)
				}
			}
		})
	}
}

func TestFragmentedClientMessageWithInterleavedPing(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512})
	c := connect(t, px, "/")
	msg := c.Seal(mte.TypeText, []byte("fragmented hello"))
	c.WriteFrame(false, codec.OpBinary, msg[:5])
	c.WriteFrame(true, codec.OpPing, []byte("p1"))
	c.WriteFrame(false, codec.OpContinuation, msg[5:20])
	c.WriteFrame(true, codec.OpContinuation, msg[20:])
	pong := c.ReadFrame()
	if pong.Header.OpCode != codec.OpPong || string(pong.Payload) != "p1" {
		t.Fatalf("want pong p1, got %v %q", pong.Header.OpCode, pong.Payload)
	}
	if typ, got := c.Recv(); typ != mte.TypeText || string(got) != "fragmented hello" {
		t.Fatalf("echo = %v %q", typ, got)
	}
}

// TestLargeTextRoundTrip: a 150 KB multi-byte UTF-8 text message keeps its
// type and bytes both ways (upstream fragmentation is covered by
// TestUpstreamFragmentsAndGarbage).
func TestLargeTextRoundTrip(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength768})
	c := connect(t, px, "/")
	text := strings.Repeat("€", 50000)
	c.Send(mte.TypeText, []byte(text))
	if typ, got := c.Recv(); typ != mte.TypeText || string(got) != text {
		t.Fatalf("echo type %v len %d", typ, len(got))
	}
}

func TestCloseForwarding(t *testing.T) {
	t.Run("client to upstream", func(t *testing.T) {
		echo := testupstream.NewEcho(t)
		px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512})
		c := connect(t, px, "/")
		c.WriteFrame(true, codec.OpClose, codec.AppendClosePayload(nil, 4001, "bye now"))
		c.ExpectClose(4001, "bye now")
		select {
		case end := <-echo.Ended():
			if end.Code != 4001 || end.Reason != "bye now" {
				t.Fatalf("upstream saw close %d %q (%v)", end.Code, end.Reason, end.Err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("upstream never saw the close")
		}
	})
	t.Run("upstream to client", func(t *testing.T) {
		up := testupstream.NewCloser(t, websocket.StatusCode(4002), "upstream done")
		px := startProxy(t, proxyOpts{domainMap: echoMap(up.URL), strength: mte.Strength512})
		c := connect(t, px, "/")
		c.Send(mte.TypeText, []byte("trigger"))
		c.ExpectClose(4002, "upstream done")
	})
	t.Run("upstream drops TCP", func(t *testing.T) {
		up := testupstream.NewAbrupt(t)
		px := startProxy(t, proxyOpts{domainMap: echoMap(up.URL), strength: mte.Strength512})
		c := connect(t, px, "/")
		c.Send(mte.TypeText, []byte("trigger"))
		c.ExpectClose(1011, "upstream connection lost")
	})
}

func TestUpstreamFailures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "ws://" + ln.Addr().String()
	ln.Close()
	never := testupstream.NewNeverUpgrade(t, 403)
	cases := []struct {
		name, url string
		code      uint16
		reason    string
	}{
		{"refused", refused, 1014, "upstream unavailable: refused"},
		{"403", never.URL, 1014, "upstream answered 403"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			px := startProxy(t, proxyOpts{domainMap: echoMap(tc.url), strength: mte.Strength512})
			c := wstest.Dial(t, px.addr)
			c.Upgrade("/")
			c.SendHandshake(mte.ActionRequest, nil)
			c.ExpectHandshake(mte.ActionResponse)
			in, _ := mte.NewInitiator(px.profile, crand.Reader)
			c.SendHandshake(mte.ActionPairRequest, in.Request())
			if err := in.Finish(c.ExpectHandshake(mte.ActionPairResponse), &c.Session); err != nil {
				t.Fatal(err)
			}
			msg, _ := c.Session.Seal(nil, mte.ActionUpstreamRequest, mte.TypeHandshake, []byte(`{"pathname":"/x"}`))
			c.WriteFrame(true, codec.OpBinary, msg)
			c.ExpectClose(tc.code, tc.reason)
		})
	}
}

func TestHTTPRoutesAndRejections(t *testing.T) {
	echo := testupstream.NewEcho(t)
	dm := `{"app.example.com":{"upstream":"` + echo.URL + `","allowedOrigins":["https://app.example.com"]},` +
		`"closed.example.com":{"upstream":"` + echo.URL + `","allowedOrigins":["https://closed.example.com"]}}`
	px := startProxy(t, proxyOpts{domainMap: dm, strength: mte.Strength512})

	up := func(host string, extra ...string) string {
		h := "GET / HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
		for _, e := range extra {
			h += e + "\r\n"
		}
		return h + "\r\n"
	}
	cases := []struct {
		name    string
		request string
		status  int
		body    string
	}{
		{"health", "GET /health HTTP/1.1\r\nHost: x\r\n\r\n", 200, `{"status":"ok"}`},
		{"ready", "GET /ready HTTP/1.1\r\nHost: x\r\n\r\n", 200, `{"status":"ready"}`},
		{"not found", "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404, "not found\n"},
		{"unknown host", up("other.example.org", "Origin: https://app.example.com"), 404, "unknown host\n"},
		{"bad origin", up("app.example.com", "Origin: https://evil.example.com"), 403, "origin not allowed\n"},
		{"missing origin", up("app.example.com"), 403, "origin not allowed\n"},
		{"another entry's origin", up("closed.example.com", "Origin: https://app.example.com"), 403, "origin not allowed\n"},
		{"host with port", up("app.example.com:8080", "Origin: https://app.example.com"), 101, ""},
		{"wrong version", strings.Replace(up("app.example.com", "Origin: https://app.example.com"), "Version: 13", "Version: 12", 1), 426, ""},
		{"post upgrade", strings.Replace(up("app.example.com", "Origin: https://app.example.com"), "GET", "POST", 1), 405, ""},
		{"garbage", "\x16\x03\x01\x02\x00\r\n\r\n", 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var resp string
			if tc.status == 101 {
				c := wstest.Dial(t, px.addr)
				c.Write([]byte(tc.request))
				buf := make([]byte, 12)
				if _, err := c.BR.Read(buf); err != nil {
					t.Fatal(err)
				}
				resp = string(buf)
			} else {
				resp = httpExchange(t, px.addr, tc.request)
			}
			if got := statusOf(resp); got != tc.status {
				t.Fatalf("status = %d, want %d; response:\n%s", got, tc.status, resp)
			}
			if tc.body != "" && !strings.HasSuffix(resp, "\r\n\r\n"+tc.body) {
				t.Fatalf("body: want %q; response:\n%s", tc.body, resp)
			}
		})
	}

	t.Run("echo route", func(t *testing.T) {
		before := time.Now().UTC().Truncate(time.Second)
		resp := httpExchange(t, px.addr, "GET /api/socketx-echo?msg=a%22b%3C HTTP/1.1\r\nHost: x\r\n\r\n")
		if statusOf(resp) != 200 || !strings.Contains(resp, "Content-Type: application/json\r\n") {
			t.Fatalf("response:\n%s", resp)
		}
		body := resp[strings.Index(resp, "\r\n\r\n")+4:]
		var got struct{ Message, Timestamp string }
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("body %q: %v", body, err)
		}
		ts, err := time.Parse(time.RFC3339, got.Timestamp)
		if got.Message != `a"b<` || err != nil || ts.Before(before) {
			t.Fatalf("echo = %+v (%v)", got, err)
		}
	})
}

func TestPairingViolations(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512})
	cases := []struct {
		name   string
		run    func(c *wstest.Client)
		code   uint16
		reason string
	}{
		{"text frame", func(c *wstest.Client) { c.WriteFrame(true, codec.OpText, []byte("hi")) }, 1003, "socketx messages must be binary"},
		{"bad magic", func(c *wstest.Client) { c.WriteFrame(true, codec.OpBinary, []byte("XTE\x02\x01\x00\xfe")) }, 1002, ""},
		{"pair before hello", func(c *wstest.Client) { c.SendHandshake(mte.ActionPairRequest, []byte("{}")) }, 1002, "unexpected action pairRequest during hello"},
		{"data before pairing", func(c *wstest.Client) {
			c.WriteFrame(true, codec.OpBinary, mte.AppendHeader(nil, mte.ActionProxyData, mte.TypeBinary))
		}, 1002, "unexpected action proxyData during hello"},
		{"duplicate hello", func(c *wstest.Client) {
			c.SendHandshake(mte.ActionRequest, nil)
			c.ExpectHandshake(mte.ActionResponse)
			c.SendHandshake(mte.ActionRequest, nil)
		}, 1002, "unexpected action request during pair"},
		{"unmasked frame", func(c *wstest.Client) { c.Write([]byte{0x82, 0x00}) }, 1002, "frame not masked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := wstest.Dial(t, px.addr)
			c.Upgrade("/")
			tc.run(c)
			f := c.ReadMessage()
			if f.Header.OpCode != codec.OpClose || len(f.Payload) < 2 {
				t.Fatalf("want close, got %v %q", f.Header.OpCode, f.Payload)
			}
			code := uint16(f.Payload[0])<<8 | uint16(f.Payload[1])
			if code != tc.code || (tc.reason != "" && string(f.Payload[2:]) != tc.reason) {
				t.Fatalf("close = %d %q, want %d %q", code, f.Payload[2:], tc.code, tc.reason)
			}
		})
	}
}

func TestDecodeFailures(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512, window: 0})
	t.Run("invalid UTF-8 text", func(t *testing.T) {
		c := connect(t, px, "/")
		c.Send(mte.TypeText, []byte{0xff, 0xfe})
		c.ExpectClose(1007, "text message is not valid UTF-8")
	})
	t.Run("replay", func(t *testing.T) {
		c := connect(t, px, "/")
		msg := c.Seal(mte.TypeText, []byte("once"))
		c.WriteFrame(true, codec.OpBinary, msg)
		if _, got := c.Recv(); string(got) != "once" {
			t.Fatalf("echo %q", got)
		}
		c.WriteFrame(true, codec.OpBinary, msg)
		code, reason := mte.CloseCode(mte.ErrReplay)
		c.ExpectClose(code, reason)
	})
	t.Run("tampered", func(t *testing.T) {
		c := connect(t, px, "/")
		msg := c.Seal(mte.TypeText, []byte("tamper me"))
		msg[len(msg)-1] ^= 1
		c.WriteFrame(true, codec.OpBinary, msg)
		code, reason := mte.CloseCode(mte.ErrAuth)
		c.ExpectClose(code, reason)
	})
}

func TestKeepalive(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512, mutate: func(c *Config) {
		c.ClientPingInterval = 100 * time.Millisecond
		c.ClientPongTimeout = 400 * time.Millisecond
	}})
	c := connect(t, px, "/")
	// The proxy pings; a client that never answers is closed.
	f := c.ReadFrame()
	if f.Header.OpCode != codec.OpPing {
		t.Fatalf("want ping, got %v", f.Header.OpCode)
	}
	c.ExpectClose(1001, "pong timeout")

	// A client that answers stays connected across several timeouts.
	c2 := connect(t, px, "/")
	for range 8 {
		f := c2.ReadFrame()
		if f.Header.OpCode != codec.OpPing {
			t.Fatalf("want ping, got %v", f.Header.OpCode)
		}
		c2.WriteFrame(true, codec.OpPong, f.Payload)
	}
	c2.Send(mte.TypeText, []byte("still here"))
	if _, got := c2.Recv(); string(got) != "still here" {
		t.Fatalf("echo %q", got)
	}
}

func TestSlowUpstreamIsBounded(t *testing.T) {
	slow := testupstream.NewSlowReader(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(slow.URL), strength: mte.Strength512, mutate: func(c *Config) {
		c.MaxQueuedBytes = 2 << 20
		c.WriteTimeout = 2 * time.Second
	}})
	c := connect(t, px, "/")
	chunk := make([]byte, 256<<10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 { // 50 MiB at most; the proxy must give up long before
			msg := wstest.Frame(true, codec.OpBinary, c.Seal(mte.TypeBinary, chunk))
			if _, err := c.Conn.Write(msg); err != nil {
				return
			}
		}
	}()
	f := c.ReadMessage()
	if f.Header.OpCode != codec.OpClose || len(f.Payload) < 2 {
		t.Fatalf("want close, got %v", f.Header.OpCode)
	}
	code := uint16(f.Payload[0])<<8 | uint16(f.Payload[1])
	if code != 1013 {
		t.Fatalf("close code %d %q, want 1013", code, f.Payload[2:])
	}
	c.Conn.Close()
	<-done
}

func TestClientGoneMidPairing(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512})
	c := wstest.Dial(t, px.addr)
	c.Upgrade("/")
	c.SendHandshake(mte.ActionRequest, nil)
	c.ExpectHandshake(mte.ActionResponse)
	c.Conn.Close()
	waitFor(t, "session to close", func() bool { return px.srv.Stats().Active == 0 })
	// Other connections are unaffected.
	c2 := connect(t, px, "/")
	c2.Send(mte.TypeText, []byte("ok"))
	if _, got := c2.Recv(); string(got) != "ok" {
		t.Fatalf("echo %q", got)
	}
}

func TestPairingTimeout(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512, mutate: func(c *Config) {
		c.HandshakeTimeout = 200 * time.Millisecond
	}})
	c := wstest.Dial(t, px.addr)
	c.Upgrade("/")
	c.ExpectClose(1008, "pairing timeout")

	// A head that never completes gets 408.
	resp := httpExchange(t, px.addr, "GET / HTTP/1.1\r\nHost: x\r\n")
	if statusOf(resp) != 408 {
		t.Fatalf("slow head: %q", resp)
	}
}

func TestTLSUpstream(t *testing.T) {
	echo := testupstream.NewTLSEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512,
		tls: &tls.Config{RootCAs: echo.RootCAs(), MinVersion: tls.VersionTLS12}})
	c := connect(t, px, "/secure")
	c.Send(mte.TypeText, []byte("over tls"))
	if typ, got := c.Recv(); typ != mte.TypeText || string(got) != "over tls" {
		t.Fatalf("echo %v %q", typ, got)
	}
}

func TestUpstreamFragmentsAndGarbage(t *testing.T) {
	t.Run("fragmented upstream message is one client message", func(t *testing.T) {
		var frames []byte
		frames = codec.AppendFrameHeader(frames, false, codec.OpText, 3, nil)
		frames = append(frames, "Hel"...)
		frames = codec.AppendControlFrame(frames, codec.OpPing, []byte("x"), nil)
		frames = codec.AppendFrameHeader(frames, true, codec.OpContinuation, 2, nil)
		frames = append(frames, "lo"...)
		frames = codec.AppendFrameHeader(frames, true, codec.OpBinary, 2, nil)
		frames = append(frames, 1, 2)
		up := testupstream.NewGarbage(t, testupstream.WithGarbage(frames))
		px := startProxy(t, proxyOpts{domainMap: echoMap(up.URL), strength: mte.Strength512})
		c := connect(t, px, "/")
		if typ, got := c.Recv(); typ != mte.TypeText || string(got) != "Hello" {
			t.Fatalf("first = %v %q, want text Hello", typ, got)
		}
		if typ, got := c.Recv(); typ != mte.TypeBinary || !bytes.Equal(got, []byte{1, 2}) {
			t.Fatalf("second = %v %q", typ, got)
		}
	})
	t.Run("garbage after 101", func(t *testing.T) {
		up := testupstream.NewGarbage(t)
		px := startProxy(t, proxyOpts{domainMap: echoMap(up.URL), strength: mte.Strength512})
		c := connect(t, px, "/")
		c.ExpectClose(1014, "upstream sent an invalid frame")
	})
}

func TestSubprotocolForwarded(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512})
	c := wstest.Dial(t, px.addr)
	c.Write([]byte(wstest.UpgradeHead("/", "Sec-WebSocket-Protocol: chat, superchat")))
	resp, err := http.ReadResponse(c.BR, nil)
	if err != nil || resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Protocol") != "chat" {
		t.Fatalf("101: %v %v %q", err, resp.StatusCode, resp.Header.Get("Sec-WebSocket-Protocol"))
	}
	c.Pair(px.profile, "/p")
	c.Send(mte.TypeText, []byte("x"))
	c.Recv()
	if reqs := echo.Requests(); len(reqs) != 1 || reqs[0].Subprotocol != "chat" || reqs[0].Header.Get("Sec-WebSocket-Protocol") != "chat" {
		t.Fatalf("upstream saw %+v", reqs)
	}
}

// TestNoGoroutinePerConnection: ws:// upstream legs live on the event
// loops; once connections are set up, the engine runs no goroutine per
// connection.
func TestNoGoroutinePerConnection(t *testing.T) {
	echo := testupstream.NewEcho(t) // in-process, one goroutine per conn: not counted below
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512})
	var clients []*wstest.Client
	open := func(n int) int {
		for range n {
			c := connect(t, px, "/")
			c.Send(mte.TypeText, []byte("hi"))
			c.Recv()
			clients = append(clients, c)
		}
		// Dialer goroutines end once their Enroll completes; idle workers
		// of gnet's pool may linger, so take the settled minimum.
		low := proxyGoroutines()
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) {
			low = min(low, proxyGoroutines())
			time.Sleep(10 * time.Millisecond)
		}
		return low
	}
	at10 := open(10)
	at100 := open(90)
	if at100 > at10 {
		t.Fatalf("proxy goroutines: %d with 100 connections, %d with 10", at100, at10)
	}
	t.Logf("proxy goroutines with 10 and 100 paired connections: %d, %d", at10, at100)
}

// proxyGoroutines counts goroutines running engine, gnet or upstream code.
func proxyGoroutines() int {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "socketx-server/engine.") || strings.Contains(g, "panjf2000/gnet") ||
			strings.Contains(g, "socketx-server/upstream.") {
			if !strings.Contains(g, "testing.tRunner") {
				n++
			}
		}
	}
	return n
}

// An idle session drops its AES-GCM objects after CipherIdleRelease and
// rebuilds them for the next message; the client sees nothing change. A
// session that never relayed a message holds none (setup releases the
// decoder that opened the pathname), so it has nothing to release.
func TestIdleSessionReleasesCiphers(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512, mutate: func(c *Config) {
		c.CipherIdleRelease = 250 * time.Millisecond
	}})
	releases := func() uint64 { return px.srv.Stats().CipherReleases }
	silent := connect(t, px, "/")
	c := connect(t, px, "/")
	for round := 1; round <= 3; round++ {
		msg := []byte(fmt.Sprintf("round %d", round))
		c.Send(mte.TypeText, msg)
		if typ, got := c.Recv(); typ != mte.TypeText || !bytes.Equal(got, msg) {
			t.Fatalf("round %d: echo = %v %q", round, typ, got)
		}
		want := uint64(round)
		waitFor(t, fmt.Sprintf("release %d", want), func() bool { return releases() >= want })
	}
	silent.Send(mte.TypeBinary, []byte{1, 2, 3})
	if typ, got := silent.Recv(); typ != mte.TypeBinary || !bytes.Equal(got, []byte{1, 2, 3}) {
		t.Fatalf("silent session's first echo = %v %x", typ, got)
	}
	waitFor(t, "release 4", func() bool { return releases() >= 4 })
	st := px.srv.Stats()
	if st.Decoded != 4 || st.Encoded != 4 || st.CipherReleases != 4 {
		t.Fatalf("decoded/encoded/releases = %d/%d/%d, want 4/4/4", st.Decoded, st.Encoded, st.CipherReleases)
	}
}
