package mte

import (
	"runtime"
	"testing"
	"unsafe"
)

// TestSessionMemory measures what a paired server Session keeps alive:
// the struct itself plus heap objects retained by pairing (a bitmap for
// windows above 128; the AES-GCM objects are built by the first message, see
// TestIdleSessionMemory).
func TestSessionMemory(t *testing.T) {
	const n = 200
	for _, win := range []int{0, 128, 1024} {
		p := mustProfile(t, Params{Strength: 512, Window: win})
		reqs := make([][]byte, n)
		for i := range reqs {
			in, err := NewInitiator(p, detReader("mem"+string(rune(i))))
			if err != nil {
				t.Fatal(err)
			}
			reqs[i] = in.Request()
		}
		sessions := make([]Session, n)
		rnd := detReader("mem server")
		buf := make([]byte, 0, 4096)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range sessions {
			if _, err := sessions[i].Respond(p, reqs[i], rnd, buf[:0]); err != nil {
				t.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		retained := int64(after.HeapAlloc-before.HeapAlloc) / n
		total := int64(unsafe.Sizeof(Session{})) + retained
		t.Logf("window %d: sizeof(Session) = %d B, retained heap per pairing = %d B, total %d B",
			win, unsafe.Sizeof(Session{}), retained, total)
		limit := int64(512)
		if win > inlineWindow {
			limit += int64((win/64 + 2) * 8)
		}
		if total > limit {
			t.Errorf("window %d: %d B per paired session, limit %d", win, total, limit)
		}
		runtime.KeepAlive(sessions)
		runtime.KeepAlive(reqs)
		runtime.KeepAlive(rnd)
	}
}
