package engine

import (
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socketx/socketx-server/internal/testupstream"
	"github.com/socketx/socketx-server/internal/wstest"
	"github.com/socketx/socketx-server/mte"
)

// idleConn opens a TCP connection that never sends a byte.
func idleConn(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// expectClosedSilently requires that the proxy closes c without a byte.
func expectClosedSilently(t *testing.T, what string, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil || len(b) != 0 {
		// A reset is as good as a FIN here: the proxy closed with input unread.
		if ne, ok := err.(*net.OpError); !ok || ne.Timeout() || len(b) != 0 {
			t.Fatalf("%s: read %q, %v; want the proxy to close it silently", what, b, err)
		}
	}
}

// A full budget evicts the oldest unpaired connection of the loop for each
// newcomer, refuses newcomers once only paired sessions hold it, never
// touches paired sessions, and counts back to exactly 0.
func TestDescriptorBudgetShedsUnpairedFirst(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512, mutate: func(c *Config) {
		c.Loops = 1 // "the oldest on the same loop" is then the oldest overall
		c.MaxDescriptors = 8
	}})
	fds := func() DescriptorStats { return px.srv.Descriptors() }
	opened := func(n uint64) {
		t.Helper()
		waitFor(t, strconv.Itoa(int(n))+" connections accepted", func() bool { return px.srv.Stats().ConnectionsOpened == n })
	}

	// Two paired sessions: 2 descriptors each (client + ws upstream).
	a := connect(t, px, "/a")
	a.RoundTrip(mte.TypeText, []byte("a"))
	b := connect(t, px, "/b")
	b.RoundTrip(mte.TypeText, []byte("b"))
	waitFor(t, "dials to give back their transient descriptors", func() bool { return fds().InUse == 4 })

	// An idle connection and an upgraded, unpaired one fill the budget.
	i1 := idleConn(t, px.addr)
	opened(3)
	u := wstest.Dial(t, px.addr)
	u.Upgrade("/")
	if got := fds(); got.InUse != 8 || got.Evicted != 0 || got.Refused != 0 {
		t.Fatalf("budget full: %+v, want 8 in use, nothing shed", got)
	}

	// Ten newcomers: each evicts the oldest unpaired connection.
	var js []net.Conn
	for k := 1; k <= 10; k++ {
		js = append(js, idleConn(t, px.addr))
		waitFor(t, "eviction "+strconv.Itoa(k), func() bool { return fds().Evicted == uint64(k) })
	}
	expectClosedSilently(t, "idle connection i1", i1)
	u.ExpectClose(1013, "server busy")
	for k, j := range js[:8] {
		expectClosedSilently(t, "idle connection j"+strconv.Itoa(k+1), j)
	}
	if got := fds(); got.InUse != 8 || got.Evicted != 10 || got.Refused != 0 {
		t.Fatalf("after 10 newcomers: %+v, want 8 in use, 10 evicted, 0 refused", got)
	}

	// Two more sessions pair, each admitted by evicting j9 then j10.
	c := connect(t, px, "/c")
	c.RoundTrip(mte.TypeText, []byte("c"))
	d := connect(t, px, "/d")
	d.RoundTrip(mte.TypeText, []byte("d"))
	expectClosedSilently(t, "idle connection j9", js[8])
	expectClosedSilently(t, "idle connection j10", js[9])
	waitFor(t, "4 paired sessions holding the budget", func() bool { return fds().InUse == 8 })

	// Only paired sessions hold the budget now: newcomers are refused.
	for k := 1; k <= 3; k++ {
		expectClosedSilently(t, "refused connection", idleConn(t, px.addr))
		if got := fds().Refused; got != uint64(k) {
			t.Fatalf("refused = %d, want %d", got, k)
		}
	}
	if got := fds(); got.InUse != 8 || got.Evicted != 12 || got.Refused != 3 {
		t.Fatalf("after refusals: %+v, want 8 in use, 12 evicted, 3 refused", got)
	}

	// Paired sessions kept relaying throughout.
	for _, s := range []*wstest.Client{a, b, c, d} {
		s.RoundTrip(mte.TypeBinary, []byte("still relaying"))
	}
	for _, s := range []*wstest.Client{a, b, c, d} {
		s.Conn.Close()
	}
	waitFor(t, "every connection closed", func() bool { return px.srv.Stats().Active == 0 })
	waitFor(t, "descriptors in use back to 0", func() bool { return fds().InUse == 0 })
	if st := px.srv.Stats(); st.ConnectionsOpened != 16 {
		t.Errorf("connections opened = %d, want 16 (the 3 refused never became sessions)", st.ConnectionsOpened)
	}
	// Every connection accepted is in one outcome; the refused ones too.
	m := px.srv.Metrics()
	want := map[string]uint64{"relayed": 4, "shed_pending_evicted": 12, OutcomeShedDescriptors: 3}
	var sum uint64
	for o, n := range m.Outcomes {
		sum += n
		if n != want[o] {
			t.Errorf("outcome %s = %d, want %d", o, n, want[o])
		}
	}
	if m.Accepted != 19 || sum != 19 {
		t.Errorf("accepted %d, Σ outcomes %d, want 19", m.Accepted, sum)
	}
	// The budget's warnings are rate-limited; each names where it happened.
	for msg, n := range map[string]int{"Unpaired connection evicted: descriptor budget full": 12, "Connection refused: descriptor budget full": 3} {
		lines := px.logs.FilterMessage(msg).All()
		if len(lines) != n {
			t.Errorf("%d %q lines, want %d", len(lines), msg, n)
		}
		for _, l := range lines {
			if !strings.HasSuffix(l.Caller.Function, "engine.(*Server).admit") {
				t.Errorf("%q: caller %s, want engine.(*Server).admit", msg, l.Caller.Function)
			}
		}
	}
}

// Every path a session can take gives back exactly what it held: paired
// sessions over ws and wss, failed dials, clients gone during the pairing,
// idle connections, plain HTTP.
func TestDescriptorBudgetReturnsToZero(t *testing.T) {
	start := func(url string, roots *tls.Config) (*proxy, func() int64) {
		px := startProxy(t, proxyOpts{domainMap: echoMap(url), strength: mte.Strength512, tls: roots,
			mutate: func(c *Config) { c.MaxDescriptors = 1000 }})
		return px, func() int64 { return px.srv.Descriptors().InUse }
	}
	closed := func(px *proxy, inUse func() int64, what string) {
		t.Helper()
		waitFor(t, what+": descriptors back to 0", func() bool { return px.srv.Stats().Active == 0 && inUse() == 0 })
		if got := px.srv.Descriptors(); got.Evicted != 0 || got.Refused != 0 {
			t.Errorf("%s: %+v, nothing should have been shed", what, got)
		}
	}

	echo := testupstream.NewEcho(t)
	px, inUse := start(echo.URL, nil)
	ws := connect(t, px, "/")
	ws.RoundTrip(mte.TypeText, []byte("ws"))
	waitFor(t, "ws session: client + upstream", func() bool { return inUse() == 2 })
	ws.Conn.Close()
	mid := wstest.Dial(t, px.addr)
	mid.Upgrade("/")
	mid.SendHandshake(mte.ActionRequest, nil)
	mid.ExpectHandshake(mte.ActionResponse)
	mid.Conn.Close()
	idleConn(t, px.addr).Close()
	if resp := httpExchange(t, px.addr, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"); statusOf(resp) != 200 {
		t.Fatalf("/health: %q", resp)
	}
	closed(px, inUse, "ws")

	tlsEcho := testupstream.NewTLSEcho(t)
	px, inUse = start(tlsEcho.URL, &tls.Config{RootCAs: tlsEcho.RootCAs(), MinVersion: tls.VersionTLS12})
	wss := connect(t, px, "/")
	wss.RoundTrip(mte.TypeText, []byte("wss"))
	waitFor(t, "wss session: client + TLS socket + both bridge ends", func() bool { return inUse() == 4 })
	wss.Conn.Close()
	closed(px, inUse, "wss")

	px, inUse = start("ws://"+refusedAddr(t), nil)
	down := wstest.Dial(t, px.addr)
	down.Upgrade("/")
	down.Hello()
	down.Keys(px.profile)
	down.SendPathname("/")
	down.ExpectClose(1014, "upstream unavailable: refused")
	closed(px, inUse, "failed dial")
}

// refusedAddr is a loopback address where nothing listens.
func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestPendingFIFO(t *testing.T) {
	var q pendingFIFO
	s := make([]*session, 5)
	for i := range s {
		s[i] = &session{id: uint64(i), state: stateHead}
		q.push(s[i])
	}
	q.remove(s[0])          // removed: closed
	q.remove(s[0])          // twice is harmless
	s[1].state = stateRelay // moved on: dropped when reached
	s[3].state = statePathname
	for _, want := range []*session{s[2], s[3], s[4], nil} {
		if got := q.oldestUnpaired(); got != want {
			t.Fatalf("oldestUnpaired = %v, want %v", got, want)
		}
	}
	if q.head != nil || q.tail != nil {
		t.Fatal("queue not empty")
	}
	q.push(s[4])
	q.remove(s[4])
	if q.head != nil || q.tail != nil || s[4].budget.queued {
		t.Fatal("remove of the only element left links behind")
	}
}
