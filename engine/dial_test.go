package engine

import (
	crand "crypto/rand"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/internal/testupstream"
	"github.com/socketx/socketx-server/internal/wstest"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/upstream"
)

// A ws:// upstream named by an IP address is connected on the event loop
// (upstream.Manager.StartDirect); a host name still goes through the
// dialer goroutine. Both relay, and every dial is counted once.
func TestDirectDialOnLoop(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512})
	for i := range 3 {
		c := connect(t, px, "/")
		c.Send(mte.TypeText, []byte("direct "+strconv.Itoa(i)))
		if _, got := c.Recv(); string(got) != "direct "+strconv.Itoa(i) {
			t.Fatalf("echo %q", got)
		}
	}
	if s := px.dialer.Stats(); s.DirectDials != 3 || s.DialsOK != 3 {
		t.Fatalf("IP upstream: %d direct dials, %d ok; want 3, 3", s.DirectDials, s.DialsOK)
	}

	byName := startProxy(t, proxyOpts{domainMap: echoMap(strings.Replace(echo.URL, "127.0.0.1", "localhost", 1)), strength: mte.Strength512})
	c := connect(t, byName, "/")
	c.Send(mte.TypeText, []byte("by name"))
	if _, got := c.Recv(); string(got) != "by name" {
		t.Fatalf("echo %q", got)
	}
	if s := byName.dialer.Stats(); s.DirectDials != 0 || s.DialsOK != 1 {
		t.Fatalf("host name upstream: %d direct dials, %d ok; want 0, 1", s.DirectDials, s.DialsOK)
	}
}

// A direct dial fails as a dial through the goroutine does: refused
// (then backing off), SYNs unanswered until DialTimeout (timeout), and a
// connection that is established but silent runs into the setup deadline
// (DialTimeout + HandshakeTimeout) as a connected dial.
func TestDirectDialFailures(t *testing.T) {
	short := func(cfg *Config) {
		cfg.DialTimeout = 200 * time.Millisecond
		cfg.HandshakeTimeout = 300 * time.Millisecond
	}
	t.Run("refused", func(t *testing.T) {
		px := startProxy(t, proxyOpts{domainMap: echoMap("ws://" + refusedAddr(t)), strength: mte.Strength512})
		requestUpstream(t, px).ExpectClose(codec.CloseBadGateway, "upstream unavailable: refused")
		requestUpstream(t, px).ExpectClose(codec.CloseTryAgainLater, "upstream unavailable: backoff")
		s := px.dialer.Stats()
		if s.DirectDials != 1 || s.DialsFailed[upstream.ReasonRefused] != 1 || s.DialsFailed[upstream.ReasonBackoff] != 1 {
			t.Fatalf("stats %+v", s)
		}
	})
	t.Run("unanswered", func(t *testing.T) {
		px := startProxy(t, proxyOpts{domainMap: echoMap("ws://" + testupstream.UnansweredAddr(t)), strength: mte.Strength512, mutate: short})
		start := time.Now()
		requestUpstream(t, px).ExpectClose(codec.CloseBadGateway, "upstream unavailable: timeout")
		if d := time.Since(start); d < 200*time.Millisecond || d > 2*time.Second {
			t.Fatalf("closed after %v, want DialTimeout (200 ms) and a tick or two", d)
		}
		if s := px.dialer.Stats(); s.DirectDials != 1 || s.DialsFailed[upstream.ReasonTimeout] != 1 {
			t.Fatalf("stats %+v", s)
		}
	})
	t.Run("silent", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0") // the kernel completes connects; nobody answers
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		px := startProxy(t, proxyOpts{domainMap: echoMap("ws://" + ln.Addr().String()), strength: mte.Strength512, mutate: short})
		start := time.Now()
		requestUpstream(t, px).ExpectClose(codec.CloseBadGateway, "upstream connect timeout")
		if d := time.Since(start); d < 500*time.Millisecond || d > 3*time.Second {
			t.Fatalf("closed after %v, want DialTimeout + HandshakeTimeout (500 ms) and a tick or two", d)
		}
		if s := px.dialer.Stats(); s.DirectDials != 1 || s.DialsOK != 1 {
			t.Fatalf("stats %+v", s)
		}
	})
}

// requestUpstream upgrades, pairs and sends the upstream request (action
// 4) without waiting for action 5.
func requestUpstream(t *testing.T, px *proxy) *wstest.Client {
	t.Helper()
	c := wstest.Dial(t, px.addr)
	c.Upgrade("/")
	c.SendHandshake(mte.ActionRequest, nil)
	c.ExpectHandshake(mte.ActionResponse)
	in, err := mte.NewInitiator(px.profile, crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c.SendHandshake(mte.ActionPairRequest, in.Request())
	if err := in.Finish(c.ExpectHandshake(mte.ActionPairResponse), &c.Session); err != nil {
		t.Fatal(err)
	}
	msg, _ := c.Session.Seal(nil, mte.ActionUpstreamRequest, mte.TypeHandshake, []byte(`{"pathname":"/x"}`))
	c.WriteFrame(true, codec.OpBinary, msg)
	return c
}
