package mte

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

var testCK0 = [keySize]byte{1, 2, 3, 4, 5, 6, 7, 8}

// msgAt seals a proxyData text message at seq with a fresh encoder from
// testCK0.
func msgAt(t testing.TB, seq uint64, pt string) []byte {
	t.Helper()
	var e Encoder
	e.init(testCK0)
	e.skipTo(seq)
	return seal(t, &e, ActionProxyData, TypeText, []byte(pt))
}

// fastForward puts d at next = n with an empty bitmap, ratcheting as
// needed (tests only).
func (d *Decoder) fastForward(n uint64) {
	for n>>epochBits > d.epoch {
		ek := ratchet(&d.ck)
		if d.win.size > 0 {
			d.prevKey, d.prevIV, d.hasPrev = d.key, d.iv, true
			d.key = ek.key
		}
		d.aead, d.iv = newAEAD(&ek.key), ek.iv
		d.epoch++
	}
	d.win.next = n
	clear(d.win.ring())
}

type winStep struct {
	seq    uint64
	tamper bool
	want   error
}

func runSteps(t *testing.T, win int, start uint64, steps []winStep) {
	t.Helper()
	var d Decoder
	d.init(testCK0, win)
	d.fastForward(start)
	for i, s := range steps {
		m := msgAt(t, s.seq, fmt.Sprint("m", s.seq))
		if s.tamper {
			m[len(m)-1] ^= 1
		}
		beforeNext, beforeEpoch := d.win.next, d.epoch
		beforeRing := append([]uint64(nil), d.win.ring()...)
		_, pt, err := d.Open(m)
		if !errors.Is(err, s.want) || (s.want == nil && err != nil) {
			t.Fatalf("step %d seq %d: err %v, want %v", i, s.seq, err, s.want)
		}
		if err != nil {
			if d.win.next != beforeNext || d.epoch != beforeEpoch || !equalWords(d.win.ring(), beforeRing) {
				t.Fatalf("step %d seq %d: state changed on error", i, s.seq)
			}
			continue
		}
		if string(pt) != fmt.Sprint("m", s.seq) {
			t.Fatalf("step %d: plaintext %q", i, pt)
		}
	}
}

func equalWords(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWindow(t *testing.T) {
	const e1 = 1 << epochBits
	tests := []struct {
		name  string
		win   int
		start uint64
		steps []winStep
	}{
		{"strict", 0, 0, []winStep{
			{0, false, nil}, {1, false, nil}, {1, false, ErrReplay}, {0, false, ErrReplay},
			{3, false, ErrOutsideWindow}, {2, true, ErrAuth}, {2, false, nil}, {3, false, nil},
		}},
		{"strict epoch boundary", 0, e1 - 2, []winStep{
			{e1 - 2, false, nil}, {e1, false, ErrOutsideWindow}, {e1 - 1, false, nil},
			{e1, true, ErrAuth}, {e1, false, nil}, {e1 + 1, false, nil}, {e1 - 1, false, ErrReplay},
		}},
		{"window 1 is strict", 1, 0, []winStep{
			{1, false, ErrOutsideWindow}, {0, false, nil}, {0, false, ErrReplay}, {1, false, nil},
		}},
		{"window 4", 4, 0, []winStep{
			{4, false, ErrOutsideWindow}, // first message: seq - highest(-1) = 5 > 4
			{0, false, nil}, {2, false, nil}, {1, false, nil}, {1, false, ErrReplay},
			{5, false, nil},              // 5 - 2 = 3 ≤ 4
			{1, false, ErrOutsideWindow}, // 5 - 1 = 4: too old
			{2, false, ErrReplay}, {3, false, nil}, {4, false, nil},
			{10, false, ErrOutsideWindow},       // 10 - 5 = 5 > 4
			{9, true, ErrAuth}, {9, false, nil}, // 9 - 5 = 4
			{5, false, ErrOutsideWindow}, {6, false, nil}, {6, false, ErrReplay},
		}},
		{"window 64 word boundaries", 64, 0, []winStep{
			{63, false, nil}, {0, false, nil}, {127, false, nil}, {63, false, ErrOutsideWindow},
			{64, false, nil}, {100, false, nil}, {64, false, ErrReplay}, {100, false, ErrReplay},
			{190, false, nil}, {127, false, ErrReplay}, {128, false, nil}, {126, false, ErrOutsideWindow},
		}},
		{"window 8 epoch boundary late message", 8, e1 - 10, []winStep{
			{e1 - 10, false, nil}, {e1 - 6, false, nil},
			{e1 + 1, true, ErrAuth}, // failed auth in next epoch commits nothing
			{e1 + 1, false, nil},    // opens epoch 1
			{e1 - 1, false, nil},    // late, previous epoch
			{e1 - 6, false, ErrReplay}, {e1 - 5, false, nil},
			{e1 - 7, false, ErrOutsideWindow}, // e1+1 - (e1-7) = 8
			{e1 - 3, true, ErrAuth},
			{e1 - 3, false, nil}, {e1, false, nil}, {e1, false, ErrReplay},
			{e1 + 9, false, nil}, {e1 + 2, false, nil}, {e1 + 1, false, ErrOutsideWindow},
		}},
		{"max window across epoch", MaxWindow, e1 - 3, []winStep{
			{e1 - 3, false, nil}, {e1 - 3 + MaxWindow, false, nil}, {e1 - 2, false, nil},
			{e1 - 3, false, ErrOutsideWindow}, {e1 + 5, false, nil},
			{2*e1 + MaxWindow - 3, false, ErrOutsideWindow}, // 65,536 ahead of 2·e1-4
			{2 * e1, false, nil}, {e1 + 5, false, ErrReplay}, {e1 + 6, false, nil},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runSteps(t, tc.win, tc.start, tc.steps) })
	}
}

func TestWindowRejectsMaxSeq(t *testing.T) {
	for _, size := range []int{0, 10} {
		var w window
		w.init(size)
		w.next = math.MaxUint64 - 1
		if err := w.check(math.MaxUint64 - 1); err != nil {
			t.Fatalf("size %d: err %v", size, err)
		}
		w.accept(math.MaxUint64 - 1)
		if err := w.check(math.MaxUint64); err != ErrOutsideWindow {
			t.Fatalf("size %d: err %v", size, err)
		}
	}
}

// naiveWindow is the obvious map-based model of the window rules.
type naiveWindow struct {
	size    uint64
	highest int64 // -1 before the first message (tests stay below 2^62)
	seen    map[uint64]bool
}

func (n *naiveWindow) offer(seq uint64) error {
	s := int64(seq)
	switch {
	case n.size == 0 && s == n.highest+1:
	case n.size == 0 && s <= n.highest:
		return ErrReplay
	case n.size == 0:
		return ErrOutsideWindow
	case s > n.highest && uint64(s-n.highest) > n.size:
		return ErrOutsideWindow
	case s <= n.highest && uint64(n.highest-s) >= n.size:
		return ErrOutsideWindow
	case n.seen[seq]:
		return ErrReplay
	}
	n.seen[seq] = true
	if s > n.highest {
		n.highest = s
	}
	return nil
}

func TestWindowNaiveTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 2, 5, 63, 64, 65, 127, 128, 129, 191, 192, 200, 1000, MaxWindow} {
		for run := 0; run < 20; run++ {
			var w window
			w.init(size)
			n := naiveWindow{size: uint64(size), highest: -1, seen: map[uint64]bool{}}
			top := uint64(0)
			for i := 0; i < 2000; i++ {
				var seq uint64
				span := uint64(size) + 3
				switch r.IntN(4) {
				case 0:
					seq = top + r.Uint64N(span)
				case 1:
					seq = top - min(top, r.Uint64N(2*span))
				case 2:
					seq = top + uint64(r.IntN(3))
				default:
					seq = top + r.Uint64N(3*span) - min(top, span)
				}
				want := n.offer(seq)
				got := w.check(seq)
				if got != want {
					t.Fatalf("size %d run %d step %d seq %d (next %d): got %v want %v", size, run, i, seq, w.next, got, want)
				}
				if got == nil {
					w.accept(seq)
					top = max(top, seq)
				}
			}
		}
	}
}

// TestDecoderNaiveTwin drives real messages through the decoder and the
// naive model over a random sequence.
func TestDecoderNaiveTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const size = 16
	var e Encoder
	e.init(testCK0)
	msgs := make([][]byte, 300)
	for i := range msgs {
		msgs[i] = seal(t, &e, ActionProxyData, TypeBinary, []byte{byte(i)})
	}
	var d Decoder
	d.init(testCK0, size)
	n := naiveWindow{size: size, highest: -1, seen: map[uint64]bool{}}
	for i := 0; i < 3000; i++ {
		seq := uint64(max(0, int(n.highest)+r.IntN(2*size+4)-size-2))
		if seq >= uint64(len(msgs)) {
			continue
		}
		m := bytes.Clone(msgs[seq])
		want := n.offer(seq)
		_, pt, err := d.Open(m)
		if err != want {
			t.Fatalf("step %d seq %d: got %v want %v", i, seq, err, want)
		}
		if err == nil && (len(pt) != 1 || pt[0] != byte(seq)) {
			t.Fatalf("seq %d: pt %x", seq, pt)
		}
	}
}
