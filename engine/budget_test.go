package engine

import (
	"bytes"
	"testing"

	"go.uber.org/zap"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/internal/testupstream"
	"github.com/socketx/socketx-server/internal/wstest"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/routing"
	"github.com/socketx/socketx-server/upstream"
)

// frameHead is the masked header of a client frame declaring n payload
// bytes, with an all-zero mask so the payload can follow in any pieces.
func frameHead(op codec.OpCode, n int) []byte {
	var m [4]byte
	return codec.AppendFrameHeader(nil, true, op, n, &m)
}

// TestHandshakeFrameCapFromHeader: before relaying, a frame longer than
// the largest handshake message is refused from its header alone (no
// payload sent) with 1009, in every handshake state; the largest allowed
// handshake frame is not.
func TestHandshakeFrameCapFromHeader(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512})
	steps := map[string]func(c *wstest.Client){
		"hello":    func(c *wstest.Client) {},
		"pair":     func(c *wstest.Client) { c.Hello() },
		"pathname": func(c *wstest.Client) { c.Hello(); c.Keys(px.profile) },
	}
	for state, before := range steps {
		t.Run(state, func(t *testing.T) {
			c := wstest.Dial(t, px.addr)
			c.Upgrade("/")
			before(c)
			c.Write(frameHead(codec.OpBinary, maxHandshakeMessage+1))
			c.ExpectClose(1009, "message too big")
		})
	}
	// Fragments count together: two fragments over the cap in total.
	c := wstest.Dial(t, px.addr)
	c.Upgrade("/")
	c.WriteFrame(false, codec.OpBinary, make([]byte, maxHandshakeMessage/2+1))
	c.Write(frameHead(codec.OpContinuation, maxHandshakeMessage/2+1))
	c.ExpectClose(1009, "message too big")
	// At the cap the frame is read and judged by the pairing (a hello must
	// be a bare header: 1002 from the pairing, not 1009 from the cap).
	c = wstest.Dial(t, px.addr)
	c.Upgrade("/")
	c.Write(frameHead(codec.OpBinary, maxHandshakeMessage))
	if px.srv.Stats().MemoryHeld == 0 {
		waitFor(t, "the handshake message buffer", func() bool { return px.srv.Stats().MemoryHeld > 0 })
	}
	if got := px.srv.Stats().MemoryHeld; got != maxHandshakeMessage {
		t.Fatalf("held %d bytes for a partial %d-byte handshake frame, want exactly that", got, maxHandshakeMessage)
	}
	c.Write(make([]byte, maxHandshakeMessage))
	c.ExpectClose(1002, "mte: bad header magic")
	waitFor(t, "memory returned", func() bool { return px.srv.Stats().MemoryHeld == 0 })
}

// TestPartialMessageHeldOnce: a large message trickled in pieces is held in
// one buffer sized from its header (its size class), counted from the
// header on, and returned once the message is relayed.
func TestPartialMessageHeldOnce(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512, window: 1000})
	c := connect(t, px, "/")
	msg := make([]byte, 600<<10)
	for i := range msg {
		msg[i] = byte(i % 251)
	}
	frame := wstest.Frame(true, codec.OpBinary, c.Seal(mte.TypeBinary, msg))
	c.Write(frame[:100])
	waitFor(t, "the message buffer", func() bool { return px.srv.Stats().MemoryHeld == 1<<20 })
	for off := 100; off < len(frame); off += 4096 {
		c.Write(frame[off:min(off+4096, len(frame))])
	}
	if typ, got := c.Recv(); typ != mte.TypeBinary || !bytes.Equal(got, msg) {
		t.Fatalf("echo differs (type %v, %d bytes)", typ, len(got))
	}
	waitFor(t, "memory returned", func() bool { return px.srv.Stats().MemoryHeld == 0 })
}

// TestMemoryBudgetShedsLargest: with one loop and a 3 MiB budget, clients
// holding partial messages fill it; the one that would pass it makes the
// largest holder close with 1013, and everyone else keeps working.
func TestMemoryBudgetShedsLargest(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512, window: 1000,
		mutate: func(c *Config) { c.Loops = 1; c.MemoryBudget = 3 << 20 }})
	witness := connect(t, px, "/")
	witness.RoundTrip(mte.TypeText, []byte("before"))

	type holder struct {
		c     *wstest.Client
		msg   []byte
		frame []byte
	}
	hold := func(size int, held int64) *holder {
		h := &holder{c: connect(t, px, "/"), msg: bytes.Repeat([]byte{byte(size)}, size)}
		h.frame = wstest.Frame(true, codec.OpBinary, h.c.Seal(mte.TypeBinary, h.msg))
		before := px.srv.Stats().MemoryHeld
		h.c.Write(h.frame[:len(h.frame)/2])
		waitFor(t, "the partial message counted", func() bool { return px.srv.Stats().MemoryHeld == before+held })
		return h
	}
	limit := int64(1<<20 + mte.HeaderLen + mte.Overhead) // the client message cap: buffers are never rounded past it
	a1 := hold(600<<10, 1<<20)                           // 1 MiB class
	a2 := hold(1<<20, limit)                             // exactly the cap
	a3 := hold(300<<10, 512<<10)                         // 512 KiB class
	// 2.5 MiB held; a 700 KiB message needs a 1 MiB buffer: a2 is the
	// largest holder and goes.
	a4 := &holder{c: connect(t, px, "/"), msg: bytes.Repeat([]byte{4}, 700<<10)}
	a4.frame = wstest.Frame(true, codec.OpBinary, a4.c.Seal(mte.TypeBinary, a4.msg))
	a4.c.Write(a4.frame[:len(a4.frame)/2])
	a2.c.ExpectClose(1013, "proxy memory budget exceeded")
	waitFor(t, "a4 counted", func() bool { return px.srv.Stats().MemoryHeld == 1<<20+512<<10+1<<20 })
	if got := px.srv.Metrics().Shed["memory"]; got != 1 {
		t.Fatalf("shed[memory] = %d, want 1", got)
	}
	witness.RoundTrip(mte.TypeText, []byte("during"))
	for _, h := range []*holder{a1, a3, a4} {
		h.c.Write(h.frame[len(h.frame)/2:])
		if typ, got := h.c.Recv(); typ != mte.TypeBinary || !bytes.Equal(got, h.msg) {
			t.Fatalf("echo of %d bytes differs (got %d)", len(h.msg), len(got))
		}
	}
	witness.RoundTrip(mte.TypeText, []byte("after"))
	waitFor(t, "memory returned", func() bool { return px.srv.Stats().MemoryHeld == 0 })
	if got := px.srv.Metrics().Shed["memory"]; got != 1 {
		t.Fatalf("shed[memory] = %d after the rest completed, want 1", got)
	}
	// A relaying connection shed for memory ends as shed_memory, not relayed.
	a2.c.Conn.Close()
	waitFor(t, "a2 removed", func() bool { return px.srv.Metrics().Outcomes["shed_memory"] == 1 })
	if got := px.srv.Metrics().Outcomes["relayed"]; got != 0 {
		t.Errorf("relayed = %d with every other connection open, want 0", got)
	}
}

// TestFragCap: buffer capacities come from pooled power-of-two classes
// but never exceed the leg's cap.
func TestFragCap(t *testing.T) {
	for _, c := range []struct{ size, old, limit, want int }{
		{1, 0, 1 << 20, 1 << 10},
		{1 << 10, 0, 1 << 20, 1 << 10},
		{1<<10 + 1, 0, 1 << 20, 2 << 10},
		{600 << 10, 0, 1<<20 + 31, 1 << 20},
		{1<<20 + 31, 0, 1<<20 + 31, 1<<20 + 31},       // class 2 MiB > cap: exact
		{8223, 0, 8223, 8223},                         // handshake cap: exact
		{5000, 4096, 8223, 8192},                      // 8 KiB class fits under the cap
		{8200, 8192, 8223, 8223},                      // past the last class: up to the cap
		{3 << 30, 0, 4 << 30, 3 << 30},                // beyond the classes: exact
		{3<<30 + 1, 3 << 30, 4 << 30, 4 << 30},        // … growing geometrically to the cap
		{1<<20 + 1, 1 << 20, 3 << 20, 2 << 20},        // pooled class under the cap
		{2<<20 + 10, 2 << 20, 2<<20 + 31, 2<<20 + 31}, // class over the cap: the cap
	} {
		if got := fragCap(c.size, c.old, c.limit); got != c.want {
			t.Errorf("fragCap(%d, %d, %d) = %d, want %d", c.size, c.old, c.limit, got, c.want)
		}
	}
}

// TestMemoryBudgetTooSmall: a budget whose per-loop share cannot hold one
// largest message is refused at start.
func TestMemoryBudgetTooSmall(t *testing.T) {
	p, err := mte.NewProfile(mte.Params{Strength: mte.Strength512})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Loops = 4
	cfg.MemoryBudget = 4 << 20
	_, err = New(cfg, &routing.Map{}, p, upstream.NewManager(upstream.Config{}, zap.NewNop()), zap.NewNop())
	want := "engine: MemoryBudget 4194304 gives each of the 4 event loops 1048576 bytes, less than one largest message (1048621)"
	if err == nil || err.Error() != want {
		t.Fatalf("New = %v, want %q", err, want)
	}
	cfg.MemoryBudget = 8 << 20
	if _, err := New(cfg, &routing.Map{}, p, upstream.NewManager(upstream.Config{}, zap.NewNop()), zap.NewNop()); err != nil {
		t.Fatalf("8 MiB over 4 loops: %v", err)
	}
}
