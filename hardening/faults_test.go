package hardening

import (
	"encoding/binary"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/engine"
	"github.com/socketx/socketx-server/internal/enginetest"
	"github.com/socketx/socketx-server/internal/testupstream"
	"github.com/socketx/socketx-server/internal/testwait"
	"github.com/socketx/socketx-server/internal/wstest"
	"github.com/socketx/socketx-server/mte"
)

// Faults on the upstream side: each test runs a proxy in front of a
// misbehaving upstream and checks the exact close the client gets, then
// that the proxy released the connection.

// faultProxy starts a proxy whose every host maps to upstreamURL.
func faultProxy(t *testing.T, upstreamURL string, mutate func(*engine.Config)) *enginetest.Proxy {
	return startProxy(t, proxyOpts{domainMap: enginetest.EchoMap(upstreamURL), strength: mte.Strength512, window: 64, mutate: mutate})
}

// pairUntilClose upgrades, pairs up to action 4 and expects the close that
// answers the upstream request instead of action 5.
func pairUntilClose(t *testing.T, px *enginetest.Proxy, code uint16, reason string) {
	t.Helper()
	c := wstest.Dial(t, px.Addr)
	c.Upgrade("/")
	c.Hello()
	c.Keys(px.Profile)
	c.SendPathname("/fault")
	c.ExpectClose(code, reason)
	released(t, px)
}

// released waits (bounded) until the proxy holds no connection.
func released(t *testing.T, px *enginetest.Proxy) {
	t.Helper()
	testwait.For(t, "the proxy to release every connection", 10*time.Second, func() bool { return px.Server.Stats().Active == 0 })
}

func TestFaultUpstreamRefuses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there now
	px := faultProxy(t, "ws://127.0.0.1:"+strconv.Itoa(port), nil)
	pairUntilClose(t, px, 1014, "upstream unavailable: refused")
}

func TestFaultUpstreamDNSFailure(t *testing.T) {
	px := faultProxy(t, "ws://no-such-upstream.invalid", nil)
	pairUntilClose(t, px, 1014, "upstream unavailable: dns")
}

func TestFaultUpstreamBadCertificate(t *testing.T) {
	up := testupstream.NewTLSEcho(t) // its CA is not in the proxy's roots
	px := faultProxy(t, up.URL, nil)
	pairUntilClose(t, px, 1014, "upstream unavailable: tls")
}

func TestFaultUpstreamNeverUpgrades(t *testing.T) {
	up := testupstream.NewNeverUpgrade(t, 403)
	px := faultProxy(t, up.URL, nil)
	pairUntilClose(t, px, 1014, "upstream answered 403")
}

func TestFaultUpstreamResetsMidMessage(t *testing.T) {
	for _, reset := range []bool{false, true} {
		t.Run("reset="+strconv.FormatBool(reset), func(t *testing.T) {
			var opts []testupstream.Option
			if reset {
				opts = append(opts, testupstream.WithReset())
			}
			up := testupstream.NewAbrupt(t, opts...)
			px := faultProxy(t, up.URL, nil)
			c := wstest.Dial(t, px.Addr)
			c.Upgrade("/")
			c.Pair(px.Profile, "/")
			c.Send(mte.TypeBinary, make([]byte, 32<<10))
			c.ExpectClose(1011, "upstream connection lost")
			released(t, px)
		})
	}
}

func TestFaultUpstreamSendsGarbage(t *testing.T) {
	up := testupstream.NewGarbage(t)
	px := faultProxy(t, up.URL, nil)
	c := wstest.Dial(t, px.Addr)
	c.Upgrade("/")
	c.Hello()
	c.Keys(px.Profile)
	c.SendPathname("/")
	// The garbage may arrive in the same read as the 101: action 5 is
	// still sent first, then the close.
	f := c.ReadMessage()
	if f.Header.OpCode == ws.OpBinary {
		f = c.ReadMessage()
	}
	if f.Header.OpCode != ws.OpClose || binary.BigEndian.Uint16(f.Payload) != 1014 || string(f.Payload[2:]) != "upstream sent an invalid frame" {
		t.Fatalf("got op %v payload %q, want close 1014 upstream sent an invalid frame", f.Header.OpCode, f.Payload)
	}
	released(t, px)
}

// TestFaultUpstreamStalls: an upstream that stops reading must not make the
// proxy queue without bound: the client gets 1013 once the queue passes the
// high-water mark (or fails to drain within WriteTimeout).
func TestFaultUpstreamStalls(t *testing.T) {
	up := testupstream.NewSlowReader(t)
	const highWater = 1 << 20
	px := faultProxy(t, up.URL, func(c *engine.Config) {
		c.MaxMessageSize = 64 << 10
		c.MaxQueuedBytes = highWater
		c.WriteTimeout = 500 * time.Millisecond
	})
	c := wstest.Dial(t, px.Addr)
	c.Upgrade("/")
	c.Pair(px.Profile, "/")
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// Push 60 KiB messages from a goroutine until the proxy closes; the
	// reader below sees the close. The cap (60 MiB) is beyond what the
	// kernel can buffer on the way (client send buffer ≤ 4 MiB, proxy
	// receive buffer ≤ 32 MiB by tcp_rmem here, proxy send buffer ≤ 4 MiB)
	// plus the proxy's 1 MiB high-water mark, so reaching it means the
	// proxy kept reading without bound. Messages are sealed as they go
	// (the encoder is the writer's alone; the reader only decodes).
	const maxMsgs = 1000
	stop := make(chan struct{})
	sent := make(chan int, 1)
	payload := make([]byte, 60<<10)
	go func() {
		n := 0
		defer func() { sent <- n }()
		for range maxMsgs {
			select {
			case <-stop:
				return
			default:
			}
			m := wstest.Frame(true, codec.OpBinary, c.Seal(mte.TypeBinary, payload))
			_ = c.Conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
			if _, err := c.Conn.Write(m); err != nil {
				return
			}
			n++
		}
	}()
	f := c.ReadMessage()
	close(stop)
	n := <-sent
	if f.Header.OpCode != ws.OpClose || binary.BigEndian.Uint16(f.Payload) != 1013 {
		t.Fatalf("got op %v payload %q, want close 1013", f.Header.OpCode, f.Payload)
	}
	reason := string(f.Payload[2:])
	if reason != "upstream too slow" && reason != "upstream write timeout" {
		t.Fatalf("reason %q", reason)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	t.Logf("stalled upstream: client wrote %d × 60 KiB before close 1013 %q; heap in use %d → %d KiB", n, reason,
		before.HeapInuse>>10, after.HeapInuse>>10)
	if n == maxMsgs {
		t.Fatalf("the proxy accepted all %d messages (%d MiB) for a stalled upstream", n, n*60>>10)
	}
	_ = c.Conn.Close()
	released(t, px)
}

// TestFaultUpstreamCloseCodes: every close code an upstream may send
// reaches the client unchanged. The reason is the upstream's verbatim for
// the codes the proxy never decides itself, and "upstream: " + the
// upstream's reason for those it does (docs/PROTOCOL.md §10), so a client
// tells an upstream's 1008 "pathname not allowed" from the proxy's.
func TestFaultUpstreamCloseCodes(t *testing.T) {
	cases := []struct {
		code         uint16
		reason, want string
	}{
		{1000, "upstream says 1000", "upstream says 1000"},
		{1001, "going away", "upstream: going away"},
		{1003, "upstream says 1003", "upstream: upstream says 1003"},
		{1007, "upstream says 1007", "upstream: upstream says 1007"},
		{1008, "pathname not allowed", "upstream: pathname not allowed"},
		{1011, "upstream says 1011", "upstream: upstream says 1011"},
		{1012, "upstream says 1012", "upstream says 1012"},
		{1013, "upstream says 1013", "upstream: upstream says 1013"},
		{1014, "upstream says 1014", "upstream: upstream says 1014"},
		{4000, "pathname not allowed", "pathname not allowed"},
		{4999, "upstream says 4999", "upstream says 4999"},
		{1011, strings.Repeat("é", 61), "upstream: " + strings.Repeat("é", 56)}, // cut to 123 bytes at a character
	}
	for _, tc := range cases {
		code, reason := tc.code, tc.reason
		t.Run(strconv.Itoa(int(code)), func(t *testing.T) {
			up := testupstream.NewCloser(t, websocket.StatusCode(code), reason)
			px := faultProxy(t, up.URL, nil)
			c := wstest.Dial(t, px.Addr)
			c.Upgrade("/")
			c.Pair(px.Profile, "/")
			c.Send(mte.TypeText, []byte("trigger"))
			c.ExpectClose(code, tc.want)
			select {
			case err := <-up.Closed():
				if err != nil {
					t.Fatalf("upstream close handshake: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("upstream never finished its close handshake")
			}
			released(t, px)
		})
	}
}
