package codec

import (
	"bytes"
	"testing"
)

func unmaskNaive(p []byte, mask [4]byte, offset int) {
	for i := range p {
		p[i] ^= mask[(offset+i)%4]
	}
}

func TestUnmaskNaiveTwin(t *testing.T) {
	mask := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	src := make([]byte, 300+8)
	for i := range src {
		src[i] = byte(i*7 + 3)
	}
	for length := 0; length <= 300; length++ {
		for offset := 0; offset < 8; offset++ {
			// Unaligned starts as well: slice at every start in 0..7.
			start := (length + offset) % 8
			got := append([]byte(nil), src[start:start+length]...)
			want := append([]byte(nil), got...)
			Unmask(got, mask, offset)
			unmaskNaive(want, mask, offset)
			if !bytes.Equal(got, want) {
				t.Fatalf("length %d offset %d start %d: mismatch", length, offset, start)
			}
		}
	}
}

func TestUnmaskPieces(t *testing.T) {
	// Unmasking in pieces with running offsets equals one pass.
	mask := [4]byte{1, 2, 3, 4}
	p := bytes.Repeat([]byte("socketx!"), 40)
	want := append([]byte(nil), p...)
	unmaskNaive(want, mask, 0)
	for _, cut := range []int{0, 1, 3, 5, 17, 100, 319, 320} {
		got := append([]byte(nil), p...)
		Unmask(got[:cut], mask, 0)
		Unmask(got[cut:], mask, cut)
		if !bytes.Equal(got, want) {
			t.Fatalf("cut %d: mismatch", cut)
		}
	}
}

func TestUnmaskRFC(t *testing.T) {
	p := []byte{0x7f, 0x9f, 0x4d, 0x51, 0x58}
	Unmask(p, [4]byte{0x37, 0xfa, 0x21, 0x3d}, 0)
	if string(p) != "Hello" {
		t.Errorf("got %q", p)
	}
}

func TestUnmaskAllocs(t *testing.T) {
	p := make([]byte, 1024)
	allocs := testing.AllocsPerRun(100, func() { Unmask(p, [4]byte{1, 2, 3, 4}, 3) })
	if allocs != 0 {
		t.Errorf("allocs = %v, want 0", allocs)
	}
}
