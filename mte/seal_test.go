package mte

import (
	"bytes"
	"errors"
	"testing"
)

func newTestPair(win int) (*Encoder, *Decoder) {
	e, d := new(Encoder), new(Decoder)
	e.init(testCK0)
	d.init(testCK0, win)
	return e, d
}

func TestSealLayout(t *testing.T) {
	e, _ := newTestPair(0)
	prefix := []byte("xx")
	m, err := e.Seal(prefix, ActionProxyData, TypeBinary, []byte("abc"))
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{'x', 'x', 0x4D, 0x54, 0x45, 0x02, 0x01, 6, 1, 0, 0, 0, 0, 0, 0, 0, 0}
	if !bytes.Equal(m[:len(want)], want) || len(m) != 2+HeaderLen+Overhead+3 {
		t.Fatalf("got % x", m)
	}
	m, _ = e.Seal(nil, ActionProxyData, TypeText, nil)
	if !bytes.Equal(m[HeaderLen:HeaderLen+8], []byte{0, 0, 0, 0, 0, 0, 0, 1}) {
		t.Fatalf("seq bytes % x", m[HeaderLen:HeaderLen+8])
	}
	if e.Seq() != 2 {
		t.Fatalf("seq %d", e.Seq())
	}
}

func TestSealInPlace(t *testing.T) {
	e1, _ := newTestPair(0)
	e2, d := newTestPair(0)
	pt := []byte("in place plaintext")
	want := seal(t, e1, ActionProxyData, TypeText, pt)
	buf := make([]byte, HeaderLen+Overhead+len(pt))
	copy(buf[HeaderLen+seqSize:], pt)
	got, err := e2.Seal(buf[:0], ActionProxyData, TypeText, buf[HeaderLen+seqSize:HeaderLen+seqSize+len(pt)])
	if err != nil || !bytes.Equal(got, want) || &got[0] != &buf[0] {
		t.Fatalf("in-place seal differs: %v", err)
	}
	if _, p, err := d.Open(got); err != nil || !bytes.Equal(p, pt) {
		t.Fatalf("open: %v %q", err, p)
	}
}

func TestSealErrors(t *testing.T) {
	var unpaired Encoder
	if _, err := unpaired.Seal(nil, ActionProxyData, TypeText, nil); err != ErrNotPaired {
		t.Fatalf("unpaired: %v", err)
	}
	e, _ := newTestPair(0)
	for _, h := range []Header{
		{ActionRequest, TypeHandshake}, {ActionPairResponse, TypeHandshake}, {ActionUpstreamResponse, TypeHandshake},
		{ActionUpstreamRequest, TypeText}, {ActionProxyData, TypeHandshake}, {ActionProxyData, 2}, {ActionUnknown, TypeText},
	} {
		dst := []byte("keep")
		got, err := e.Seal(dst, h.Action, h.Type, []byte("x"))
		if err != ErrBadMessageType || string(got) != "keep" {
			t.Fatalf("%v: %v %q", h, err, got)
		}
	}
	if e.Seq() != 0 {
		t.Fatalf("failed seals consumed seq: %d", e.Seq())
	}
	e.seq = 1<<64 - 1 // no ratchet: the check precedes it
	if _, err := e.Seal(nil, ActionProxyData, TypeText, nil); err != ErrSeqExhausted {
		t.Fatalf("exhausted: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	var unpaired Decoder
	e, d := newTestPair(0)
	good := seal(t, e, ActionProxyData, TypeText, []byte("x"))
	if _, _, err := unpaired.Open(bytes.Clone(good)); err != ErrNotPaired {
		t.Fatalf("unpaired: %v", err)
	}
	hs := AppendHeader(nil, ActionPairRequest, TypeHandshake)
	if _, _, err := d.Open(append(hs, make([]byte, 40)...)); err != ErrBadMessageType {
		t.Fatalf("handshake action: %v", err)
	}
	if _, _, err := d.Open(AppendHeader(nil, ActionProxyData, 7)); err != ErrBadMessageType {
		t.Fatalf("bad type: %v", err)
	}
}

// TestTamperEveryByte flips bits in every byte of an encoded message and
// checks the exact error for each position.
func TestTamperEveryByte(t *testing.T) {
	e, d := newTestPair(0)
	good := seal(t, e, ActionProxyData, TypeText, []byte("a tamper-evident message of 40 bytes...."))
	for i := range good {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			m := bytes.Clone(good)
			m[i] ^= x
			var want error
			switch {
			case i < 4:
				want = ErrBadMagic
			case i == 4:
				want = ErrBadVersion
			case i < HeaderLen:
				h := Header{Action(m[5]), MessageType(m[6])}
				want = ErrAuth
				if !h.Action.encoded() || h.Validate() != nil {
					want = ErrBadMessageType
				}
			case i < HeaderLen+seqSize:
				want = ErrOutsideWindow // strict decoder expects seq 0
			default:
				want = ErrAuth
			}
			if _, _, err := d.Open(m); err != want {
				t.Fatalf("byte %d ^%#x: %v, want %v", i, x, err, want)
			}
		}
	}
	for n := 0; n < len(good); n++ {
		want := ErrAuth
		if n < HeaderLen+Overhead {
			want = ErrShortMessage
		}
		if _, _, err := d.Open(bytes.Clone(good[:n])); err != want {
			t.Fatalf("truncated to %d: %v, want %v", n, err, want)
		}
	}
	if _, pt, err := d.Open(good); err != nil || string(pt) != "a tamper-evident message of 40 bytes...." {
		t.Fatalf("good after tampering: %v", err)
	}
}

func TestWrongKeyIsAuth(t *testing.T) {
	e, _ := newTestPair(0)
	var d Decoder
	d.init([keySize]byte{9}, 0)
	if _, _, err := d.Open(seal(t, e, ActionProxyData, TypeText, []byte("x"))); !errors.Is(err, ErrAuth) {
		t.Fatal(err)
	}
}

func TestZeroAllocs(t *testing.T) {
	for _, size := range []int{64, 1024} {
		e, d := newTestPair(0)
		pt := make([]byte, size)
		buf := make([]byte, 0, HeaderLen+Overhead+size)
		if n := testing.AllocsPerRun(100, func() {
			if _, err := e.Seal(buf[:0], ActionProxyData, TypeBinary, pt); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("Seal %d B: %v allocs", size, n)
		}
		// Fresh messages for Open, continuing the sequence in step.
		e2, _ := newTestPair(0)
		msgs := make([][]byte, 101)
		for i := range msgs {
			msgs[i] = seal(t, e2, ActionProxyData, TypeBinary, pt)
		}
		i := 0
		if n := testing.AllocsPerRun(100, func() {
			if _, _, err := d.Open(msgs[i]); err != nil {
				t.Fatal(err)
			}
			i++
		}); n != 0 {
			t.Errorf("Open %d B: %v allocs", size, n)
		}
	}
	// Window mode too.
	e, d := newTestPair(64)
	msgs := make([][]byte, 101)
	for i := range msgs {
		msgs[i] = seal(t, e, ActionProxyData, TypeBinary, make([]byte, 64))
	}
	i := 0
	if n := testing.AllocsPerRun(100, func() {
		// reorder pairs: 1,0,3,2,...
		j := i ^ 1
		if j >= len(msgs) {
			j = i
		}
		if _, _, err := d.Open(msgs[j]); err != nil {
			t.Fatal(err)
		}
		i++
	}); n != 0 {
		t.Errorf("Open window: %v allocs", n)
	}
	hdr := AppendHeader(nil, ActionProxyData, TypeText)
	if n := testing.AllocsPerRun(100, func() {
		if _, _, err := ParseHeader(hdr); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("ParseHeader: %v allocs", n)
	}
}
