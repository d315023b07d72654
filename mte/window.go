package mte

import "math"

// window is the decoder's sequence check: strict when size is 0, else an
// anti-replay bitmap in the model of RFC 4303 §3.4.3 and RFC 6347 §4.1.2.6,
// stored as a ring of 64-bit words (RFC 6479) so that advancing costs O(1)
// words per message instead of shifting the whole bitmap.
//
// Invariant: next = highest accepted seq + 1 (0 before the first message);
// for every s in (highest-size, highest], bit s%(64·n) of the ring is set
// iff s was accepted, and every bit for s > highest is clear. The ring has
// n = ceil(size/64)+1 words, so those seqs never share a bit.
type window struct {
	next  uint64
	size  uint64   // W; 0 = strict
	big   []uint64 // ring when size > inlineWindow
	small [inlineWords]uint64
}

const (
	inlineWords = 3
	// inlineWindow is the largest window whose bitmap fits in the
	// decoder struct without a separate allocation.
	inlineWindow = (inlineWords - 1) * 64
)

func (w *window) init(size int) {
	*w = window{size: uint64(size)}
	if size > inlineWindow {
		w.big = make([]uint64, (size+63)/64+1)
	}
}

func (w *window) ring() []uint64 {
	if w.big != nil {
		return w.big
	}
	return w.small[:]
}

// check reports whether seq may be accepted, without changing state.
func (w *window) check(seq uint64) error {
	if seq == math.MaxUint64 {
		return ErrOutsideWindow
	}
	if w.size == 0 {
		switch {
		case seq == w.next:
			return nil
		case seq < w.next:
			return ErrReplay // strict: every seq below next was accepted
		default:
			return ErrOutsideWindow
		}
	}
	if seq >= w.next {
		// seq - highest ≤ W, i.e. at most W-1 messages skipped.
		if seq-w.next >= w.size {
			return ErrOutsideWindow
		}
		return nil
	}
	if w.next-1-seq >= w.size { // highest - seq ≥ W: too old
		return ErrOutsideWindow
	}
	r := w.ring()
	if r[(seq/64)%uint64(len(r))]&(1<<(seq%64)) != 0 {
		return ErrReplay
	}
	return nil
}

// accept records seq, which check accepted and which authenticated.
func (w *window) accept(seq uint64) {
	if w.size == 0 {
		w.next = seq + 1
		return
	}
	r := w.ring()
	n := uint64(len(r))
	if seq >= w.next {
		if w.next == 0 || seq-(w.next-1) >= 64*n {
			clear(r)
		} else {
			for i := (w.next-1)/64 + 1; i <= seq/64; i++ {
				r[i%n] = 0
			}
		}
		w.next = seq + 1
	}
	r[(seq/64)%n] |= 1 << (seq % 64)
}
