package engine

import (
	"context"
	"crypto/rand"
	"net"
	"testing"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/internal/testupstream"
	"github.com/socketx/socketx-server/internal/wstest"
	"github.com/socketx/socketx-server/mte"
)

// onlyLoop returns the proxy's single event loop (Loops = 1), created by
// its first connection.
func onlyLoop(t *testing.T, px *proxy) *loop {
	t.Helper()
	ls := *px.srv.loopList.Load()
	if len(ls) != 1 {
		t.Fatalf("%d loops, want 1", len(ls))
	}
	return ls[0]
}

// pauseLoop runs setup on the loop and holds the loop until the returned
// release is called: what clients write meanwhile is all ready at once
// when it resumes.
func pauseLoop(t *testing.T, l *loop, setup func()) (release func()) {
	t.Helper()
	paused, resume := make(chan struct{}), make(chan struct{})
	err := l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		setup()
		close(paused)
		<-resume
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	<-paused
	return func() { close(resume) }
}

// hellos opens n clients that have sent their hello and got action 1.
func hellos(t *testing.T, px *proxy, n int) ([]*wstest.Client, []*mte.Initiator) {
	cs := make([]*wstest.Client, n)
	ins := make([]*mte.Initiator, n)
	for i := range cs {
		cs[i] = wstest.Dial(t, px.addr)
		cs[i].Upgrade("/")
		cs[i].Hello()
		in, err := mte.NewInitiator(px.profile, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		ins[i] = in
	}
	return cs, ins
}

// TestPairingYieldsToRelay: n pairRequests that are ready in one pass of
// the loop are answered pairBatch at a time, and a relayed message that
// arrives while they wait is relayed between two batches, not after the
// last pairing.
func TestPairingYieldsToRelay(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength768, window: 1000,
		mutate: func(c *Config) { c.Loops = 1 }})
	c0 := connect(t, px, "/")
	c0.RoundTrip(mte.TypeBinary, []byte("warm"))
	l := onlyLoop(t, px)
	base := l.stats.Decoded.Load()
	pairedBefore := l.stats.Paired.Load()

	const n = 8
	cs, ins := hellos(t, px, n)
	relayed := wstest.Frame(true, codec.OpBinary, c0.Seal(mte.TypeBinary, []byte("during the storm")))
	seen := make(chan uint64, n) // messages relayed when each pairing starts
	count := 0
	release := pauseLoop(t, l, func() {
		l.pairs.hook = func(*session) {
			count++
			if count == 1 {
				_, _ = c0.Conn.Write(relayed) // ready on the loop's next pass
			}
			seen <- l.stats.Decoded.Load() - base
		}
	})
	for i, c := range cs {
		c.SendHandshake(mte.ActionPairRequest, ins[i].Request())
	}
	release()
	for i, c := range cs {
		if err := ins[i].Finish(c.ExpectHandshake(mte.ActionPairResponse), &c.Session); err != nil {
			t.Fatalf("client %d: Finish: %v", i, err)
		}
	}
	// Batch 1 (pairings 1, 2) ran before the loop read c0's message;
	// every later batch after it.
	want := []uint64{0, 0, 1, 1, 1, 1, 1, 1}
	for i, w := range want {
		if got := <-seen; got != w {
			t.Errorf("pairing %d started with %d messages relayed, want %d", i+1, got, w)
		}
	}
	if typ, got := c0.Recv(); typ != mte.TypeBinary || string(got) != "during the storm" {
		t.Fatalf("echo = %v %q", typ, got)
	}
	for _, c := range cs {
		c.Pathname("/")
		c.RoundTrip(mte.TypeText, []byte("paired"))
	}
	if got := l.stats.Paired.Load() - pairedBefore; got != n {
		t.Errorf("paired %d, want %d", got, n)
	}
}

// TestQueuedPairingSkippedWhenEnded: a session whose setup deadline passes
// while its pairRequest waits is closed (1008 pairing timeout), skipped by
// the pairing task and its buffer released; the others pair.
func TestQueuedPairingSkippedWhenEnded(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength768, window: 1000,
		mutate: func(c *Config) { c.Loops = 1 }})
	const n = 4
	cs, ins := hellos(t, px, n)
	l := onlyLoop(t, px)
	victim := make(chan int, 1) // the timed-out client's port
	answered := make(chan int, n)
	release := pauseLoop(t, l, func() {
		l.pairs.hook = func(sess *session) {
			if len(victim) == 0 && len(answered) == 0 {
				// While the first pairing runs, the last queued session's
				// deadline passes and the sweep ends it.
				last := l.pairs.ring[(l.pairs.head+l.pairs.n-1)%len(l.pairs.ring)]
				last.deadline = 0
				l.sweep()
				victim <- last.client.conn.RemoteAddr().(*net.TCPAddr).Port
			}
			answered <- sess.client.conn.RemoteAddr().(*net.TCPAddr).Port
		}
	})
	for i, c := range cs {
		c.SendHandshake(mte.ActionPairRequest, ins[i].Request())
	}
	release()
	var vport int
	for i, c := range cs {
		port := c.Conn.LocalAddr().(*net.TCPAddr).Port
		if i == 0 {
			vport = <-victim
		}
		if port == vport {
			c.ExpectClose(codec.ClosePolicyViolation, "pairing timeout")
			continue
		}
		if err := ins[i].Finish(c.ExpectHandshake(mte.ActionPairResponse), &c.Session); err != nil {
			t.Fatalf("client %d: Finish: %v", i, err)
		}
		c.Pathname("/")
	}
	if got := len(answered); got != n-1 {
		t.Errorf("pairing task answered %d, want %d", got, n-1)
	}
	for len(answered) > 0 {
		if p := <-answered; p == vport {
			t.Errorf("the timed-out session was paired")
		}
	}
	if got := l.metrics.rejected[reasonPairTimeout].Load(); got != 1 {
		t.Errorf("pairing timeouts = %d, want 1", got)
	}
	waitFor(t, "the queued request's memory released", func() bool { return px.srv.Stats().MemoryHeld == 0 })
}

// TestPairQueueZeroAllocs: parking a pairRequest (parse, copy into a
// pooled buffer, queue) and taking it off the queue allocate nothing in
// steady state.
func TestPairQueueZeroAllocs(t *testing.T) {
	f := newRelayFixture(t)
	l := f.sess.loop
	l.pairs.scheduled = true // no event loop here: the task is not queued
	in, err := mte.NewInitiator(f.sess.server().profile, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	const runs = 50
	sessions := make([]*session, runs+1)
	for i := range sessions {
		c := &fakeConn{in: wstest.Frame(true, codec.OpBinary, wstest.HandshakeMsg(mte.ActionPairRequest, in.Request()))}
		s := l.newSession(c)
		s.state, s.client.ws = statePair, true
		sessions[i] = s
	}
	run := 0
	allocs := testing.AllocsPerRun(runs, func() {
		s := sessions[run]
		run++
		s.readClient()
		if l.pairs.n != 1 || !s.pairQueued() {
			t.Fatalf("run %d: queue holds %d, parked %v", run, l.pairs.n, s.pairQueued())
		}
		if l.pairs.pop() != s {
			t.Fatal("popped another session")
		}
		s.releasePairRequest()
		s.memChanged()
	})
	if allocs != 0 {
		t.Errorf("%.1f allocs per queued pairing, want 0", allocs)
	}
	if l.memUsed != 0 {
		t.Errorf("memory held %d after releasing, want 0", l.memUsed)
	}
}

// TestBytesWhileQueuedBounded: what a client sends after its pairRequest
// waits unread while the request is queued; 8,237 bytes of pings are
// answered after the pairResponse, one byte more is refused with 1008.
func TestBytesWhileQueuedBounded(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength768, window: 1000,
		mutate: func(c *Config) { c.Loops = 1 }})
	cs, ins := hellos(t, px, 2)
	l := onlyLoop(t, px)
	pings := func(total int) []byte { // masked pings, 131 bytes each but the last
		var out []byte
		for len(out) < total {
			out = append(out, wstest.Frame(true, codec.OpPing, make([]byte, min(125, total-len(out)-6)))...)
		}
		if len(out) != total {
			t.Fatalf("pings of %d bytes, want %d", len(out), total)
		}
		return out
	}
	const limit = maxHandshakeMessage + codec.MaxHeaderLen
	if limit != 8237 {
		t.Fatalf("limit %d, want 8237 (docs/PROTOCOL.md §11)", limit)
	}
	release := pauseLoop(t, l, func() {})
	cs[0].SendHandshake(mte.ActionPairRequest, ins[0].Request())
	cs[0].Write(pings(limit))
	cs[1].SendHandshake(mte.ActionPairRequest, ins[1].Request())
	cs[1].Write(pings(limit + 1))
	release()
	cs[1].ExpectClose(codec.ClosePolicyViolation, "too much data before pairResponse")
	if err := ins[0].Finish(cs[0].ExpectHandshake(mte.ActionPairResponse), &cs[0].Session); err != nil {
		t.Fatal(err)
	}
	pongs := 0
	for pongs < 63 {
		f := cs[0].ReadFrame()
		if f.Header.OpCode != ws.OpPong {
			t.Fatalf("frame op %v after the pairResponse, want the pongs", f.Header.OpCode)
		}
		pongs++
	}
	cs[0].Pathname("/")
	cs[0].RoundTrip(mte.TypeBinary, []byte("after the pings"))
}
