package mte

import (
	"bytes"
	"runtime"
	"testing"
)

// Releasing the AES-GCM objects changes nothing on the wire: an encoder
// that releases before every message produces exactly the bytes of one that
// never does, across a key epoch boundary, and a releasing decoder opens
// them all.
func TestReleaseKeepsTheWireIdentical(t *testing.T) {
	for _, win := range []int{0, 64} {
		steady, _ := newTestPair(win)
		idle, d := newTestPair(win)
		start := uint64(1)<<epochBits - 3
		steady.skipTo(start)
		idle.skipTo(start)
		for i := range 6 { // 3 messages in epoch 0, 3 in epoch 1
			pt := []byte{byte(i), 'x'}
			want := seal(t, steady, ActionProxyData, TypeBinary, pt)
			idle.Release()
			got := seal(t, idle, ActionProxyData, TypeBinary, pt)
			if !bytes.Equal(got, want) {
				t.Fatalf("window %d message %d: released encoder wrote %x, steady one %x", win, i, got, want)
			}
			if i == 0 {
				d.win.next = start // the decoder joins at the same sequence number
				d.epoch = start >> epochBits
			}
			d.Release()
			_, open, err := d.Open(got)
			if err != nil || !bytes.Equal(open, pt) {
				t.Fatalf("window %d message %d: Open after Release = %q, %v; want %q", win, i, open, err, pt)
			}
		}
		if steady.epoch != 1 || idle.epoch != 1 || d.epoch != 1 {
			t.Fatalf("window %d: epochs %d/%d/%d, want 1", win, steady.epoch, idle.epoch, d.epoch)
		}
	}
}

// A released session still reports paired, and Seal/Open rebuild exactly
// one object each (one allocation per direction), then run allocation-free.
func TestReleaseRebuildCost(t *testing.T) {
	e, d := newTestPair(0)
	pt := make([]byte, 64)
	buf := make([]byte, 0, 256)
	msgs := make([][]byte, 202)
	src, _ := newTestPair(0)
	for i := range msgs {
		msgs[i] = seal(t, src, ActionProxyData, TypeBinary, pt)
	}
	e.Release()
	d.Release()
	if !e.Paired() || !d.Paired() {
		t.Fatal("Release made the codec unpaired")
	}
	i := 0
	sealOpen := func() {
		if _, err := e.Seal(buf[:0], ActionProxyData, TypeBinary, pt); err != nil {
			t.Fatal(err)
		}
		if _, _, err := d.Open(msgs[i]); err != nil {
			t.Fatal(err)
		}
		i++
	}
	if n := testing.AllocsPerRun(100, func() { sealOpen() }); n != 0 {
		t.Fatalf("steady state after rebuild: %v allocs per Seal+Open, want 0", n)
	}
	// AllocsPerRun's warm-up call rebuilt both; count a rebuild alone.
	if n := testing.AllocsPerRun(1, func() {
		e.Release()
		d.Release()
		sealOpen()
	}); n < 2 {
		t.Fatalf("Seal+Open after Release: %v allocs, want the two cipher rebuilds", n)
	}
}

// TestIdleSessionMemory: a paired session that has not sent or received a
// message, or has been released, keeps no AES-GCM objects; one in use keeps
// two. Retained heap per session is printed for each state.
func TestIdleSessionMemory(t *testing.T) {
	const n = 200
	p := mustProfile(t, Params{Strength: 512})
	servers := make([]*Session, n)
	clients := make([]*Session, n)
	for i := range servers {
		clients[i], servers[i] = pair(t, p, p, "idle"+string(rune(i)))
	}
	heap := func() int64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	fresh := heap()
	for i, ss := range servers {
		m := seal(t, clients[i], ActionProxyData, TypeText, []byte("hi"))
		if _, _, err := ss.Open(m); err != nil {
			t.Fatal(err)
		}
		seal(t, ss, ActionProxyData, TypeText, []byte("ho"))
	}
	used := heap()
	for i, ss := range servers {
		ss.Release()
		clients[i].Release()
	}
	released := heap()
	// Used: the server built both directions' objects, the client its encoder's.
	perUse := (used - fresh) / n
	t.Logf("per pairing: %d B of AES-GCM objects once used (3 objects); released: %d B more than freshly paired",
		perUse, (released-fresh)/n)
	if perUse < 3*512 {
		t.Errorf("using the sessions retained %d B, expected three AES-GCM objects", perUse)
	}
	// ~0; a few bytes of runtime bookkeeping (more under -race) are noise,
	// one AES-GCM object (768 B) is not.
	if d := (released - fresh) / n; d > 128 || d < -128 {
		t.Errorf("released sessions retain %d B more than fresh ones, want ~0", d)
	}
	runtime.KeepAlive(servers)
	runtime.KeepAlive(clients)
}
