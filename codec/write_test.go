package codec

import (
	"bytes"
	"testing"
)

func TestAppendFrameHeader(t *testing.T) {
	mask := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	tests := []struct {
		fin    bool
		op     OpCode
		length int
		mask   *[4]byte
		want   []byte
	}{
		{true, OpText, 5, nil, []byte{0x81, 0x05}},
		{true, OpText, 5, &mask, []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d}},
		{false, OpText, 3, nil, []byte{0x01, 0x03}},
		{true, OpContinuation, 2, nil, []byte{0x80, 0x02}},
		{true, OpBinary, 0, nil, []byte{0x82, 0x00}},
		{true, OpBinary, 125, nil, []byte{0x82, 0x7d}},
		{true, OpBinary, 126, nil, []byte{0x82, 0x7e, 0x00, 0x7e}},
		{true, OpBinary, 256, nil, []byte{0x82, 0x7e, 0x01, 0x00}},
		{true, OpBinary, 65535, &mask, []byte{0x82, 0xfe, 0xff, 0xff, 0x37, 0xfa, 0x21, 0x3d}},
		{true, OpBinary, 65536, nil, []byte{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}},
		{true, OpBinary, 1 << 40, &mask, []byte{0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 0x37, 0xfa, 0x21, 0x3d}},
		{true, OpPing, 0, nil, []byte{0x89, 0x00}},
	}
	for _, tt := range tests {
		got := AppendFrameHeader([]byte{0xee}, tt.fin, tt.op, tt.length, tt.mask)
		if !bytes.Equal(got, append([]byte{0xee}, tt.want...)) {
			t.Errorf("%v %v %d: % x, want % x", tt.fin, tt.op, tt.length, got[1:], tt.want)
		}
		if n := HeaderLen(tt.length, tt.mask != nil); n != len(tt.want) {
			t.Errorf("HeaderLen(%d) = %d, want %d", tt.length, n, len(tt.want))
		}
		// Round trip through the parser.
		var h Header
		n, err := ParseHeader(tt.want, anyLim, &h)
		wantH := Header{Fin: tt.fin, Op: tt.op, Masked: tt.mask != nil, Length: int64(tt.length)}
		if tt.mask != nil {
			wantH.Mask = *tt.mask
		}
		if err != nil || n != len(tt.want) || h != wantH {
			t.Errorf("round trip: %d %+v %v", n, h, err)
		}
	}
}

func TestPutHeaderBefore(t *testing.T) {
	mask := [4]byte{9, 8, 7, 6}
	for _, length := range []int{0, 1, 125, 126, 65535, 65536} {
		for _, m := range []*[4]byte{nil, &mask} {
			buf := make([]byte, MaxHeaderLen+length)
			for i := range buf[MaxHeaderLen:] {
				buf[MaxHeaderLen+i] = byte(i)
			}
			start := PutHeaderBefore(buf, MaxHeaderLen, true, OpBinary, length, m)
			if want := MaxHeaderLen - HeaderLen(length, m != nil); start != want {
				t.Fatalf("length %d: start %d, want %d", length, start, want)
			}
			frame := buf[start:]
			want := AppendFrameHeader(nil, true, OpBinary, length, m)
			if !bytes.Equal(frame[:len(want)], want) {
				t.Fatalf("length %d: header % x, want % x", length, frame[:len(want)], want)
			}
			// Payload untouched.
			for i, c := range frame[len(want):] {
				if c != byte(i) {
					t.Fatalf("payload byte %d changed", i)
				}
			}
		}
	}
}

func TestPutFrameHeaderPanicsOnShortBuffer(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	PutFrameHeader(make([]byte, 3), true, OpBinary, 126, nil)
}

func TestAppendControlFrame(t *testing.T) {
	mask := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	payload := []byte("Hello")
	got := AppendControlFrame(nil, OpPong, payload, &mask)
	want := []byte{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	if !bytes.Equal(got, want) || string(payload) != "Hello" {
		t.Errorf("masked pong % x, payload %q", got, payload)
	}
	got = AppendControlFrame(nil, OpPing, payload, nil)
	if !bytes.Equal(got, []byte{0x89, 0x05, 'H', 'e', 'l', 'l', 'o'}) {
		t.Errorf("ping % x", got)
	}
	long := bytes.Repeat([]byte{'x'}, 200)
	got = AppendControlFrame(nil, OpPing, long, nil)
	if len(got) != 2+125 || got[1] != 125 {
		t.Errorf("long ping: len %d, b1 %d", len(got), got[1])
	}
	closeFrame := AppendControlFrame(nil, OpClose, AppendClosePayload(nil, CloseNormal, "bye"), nil)
	if !bytes.Equal(closeFrame, []byte{0x88, 0x05, 0x03, 0xe8, 'b', 'y', 'e'}) {
		t.Errorf("close % x", closeFrame)
	}
}

func TestWriteAllocs(t *testing.T) {
	mask := [4]byte{1, 2, 3, 4}
	buf := make([]byte, MaxHeaderLen+1024)
	dst := make([]byte, 0, 256)
	payload := []byte("ping")
	allocs := testing.AllocsPerRun(100, func() {
		PutHeaderBefore(buf, MaxHeaderLen, true, OpBinary, 1024, &mask)
		dst = AppendFrameHeader(dst[:0], true, OpText, 70000, &mask)
		dst = AppendControlFrame(dst[:0], OpPing, payload, &mask)
		dst = AppendClosePayload(dst[:0], CloseGoingAway, "bye")
	})
	if allocs != 0 {
		t.Errorf("allocs = %v, want 0", allocs)
	}
}
