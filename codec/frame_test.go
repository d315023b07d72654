package codec

import (
	"errors"
	"math/rand/v2"
	"testing"
)

var (
	clientLim = Limits{MaxPayload: 1 << 20, RequireMask: true}
	serverLim = Limits{MaxPayload: 1 << 20, ForbidMask: true}
	anyLim    = Limits{}
)

var rfcMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

func TestParseHeaderRFCExamples(t *testing.T) {
	// RFC 6455 §5.7.
	tests := []struct {
		name    string
		frame   []byte
		lim     Limits
		n       int
		want    Header
		payload string // unmasked payload, when present in frame
	}{
		{"unmasked text Hello", []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}, serverLim, 2,
			Header{Fin: true, Op: OpText, Length: 5}, "Hello"},
		{"masked text Hello", []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}, clientLim, 6,
			Header{Fin: true, Op: OpText, Masked: true, Mask: rfcMask, Length: 5}, "Hello"},
		{"fragment 1 Hel", []byte{0x01, 0x03, 0x48, 0x65, 0x6c}, serverLim, 2,
			Header{Fin: false, Op: OpText, Length: 3}, "Hel"},
		{"fragment 2 lo", []byte{0x80, 0x02, 0x6c, 0x6f}, serverLim, 2,
			Header{Fin: true, Op: OpContinuation, Length: 2}, "lo"},
		{"unmasked ping", []byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}, serverLim, 2,
			Header{Fin: true, Op: OpPing, Length: 5}, "Hello"},
		{"masked pong", []byte{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}, clientLim, 6,
			Header{Fin: true, Op: OpPong, Masked: true, Mask: rfcMask, Length: 5}, "Hello"},
		{"256 bytes binary", []byte{0x82, 0x7e, 0x01, 0x00}, serverLim, 4,
			Header{Fin: true, Op: OpBinary, Length: 256}, ""},
		{"64 KiB binary", []byte{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}, serverLim, 10,
			Header{Fin: true, Op: OpBinary, Length: 65536}, ""},
		{"empty close", []byte{0x88, 0x00}, serverLim, 2,
			Header{Fin: true, Op: OpClose}, ""},
		{"masked 126 bytes", []byte{0x82, 0xfe, 0x00, 0x7e, 1, 2, 3, 4}, clientLim, 8,
			Header{Fin: true, Op: OpBinary, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: 126}, ""},
		{"masked 64 KiB with no limits", []byte{0x02, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 9, 8, 7, 6}, anyLim, 14,
			Header{Op: OpBinary, Masked: true, Mask: [4]byte{9, 8, 7, 6}, Length: 65536}, ""},
		{"largest length with no limits", []byte{0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, anyLim, 10,
			Header{Fin: true, Op: OpBinary, Length: 1<<63 - 1}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Header
			n, err := ParseHeader(tt.frame, tt.lim, &h)
			if err != nil || n != tt.n || h != tt.want {
				t.Fatalf("got %d, %+v, %v; want %d, %+v", n, h, err, tt.n, tt.want)
			}
			if tt.payload != "" {
				p := append([]byte(nil), tt.frame[n:n+int(h.Length)]...)
				if h.Masked {
					Unmask(p, h.Mask, 0)
				}
				if string(p) != tt.payload {
					t.Errorf("payload %q, want %q", p, tt.payload)
				}
			}
			checkHeaderSplit(t, tt.frame, tt.lim)
		})
	}
}

func TestParseHeaderViolations(t *testing.T) {
	tests := []struct {
		name   string
		frame  []byte
		lim    Limits
		code   uint16
		reason string
	}{
		{"RSV1", []byte{0xc1, 0x80}, anyLim, 1002, "reserved bits set"},
		{"RSV2", []byte{0xa1, 0x80}, anyLim, 1002, "reserved bits set"},
		{"RSV3", []byte{0x91, 0x80}, anyLim, 1002, "reserved bits set"},
		{"opcode 3", []byte{0x83, 0x80}, anyLim, 1002, "reserved opcode"},
		{"opcode 7", []byte{0x87, 0x80}, anyLim, 1002, "reserved opcode"},
		{"opcode 0xB", []byte{0x8b, 0x80}, anyLim, 1002, "reserved opcode"},
		{"opcode 0xF", []byte{0x8f, 0x80}, anyLim, 1002, "reserved opcode"},
		{"fragmented ping", []byte{0x09, 0x80}, anyLim, 1002, "fragmented control frame"},
		{"fragmented close", []byte{0x08, 0x00}, anyLim, 1002, "fragmented control frame"},
		{"client frame unmasked", []byte{0x81, 0x05}, clientLim, 1002, "frame not masked"},
		{"server frame masked", []byte{0x81, 0x85}, serverLim, 1002, "frame masked"},
		{"ping 126", []byte{0x89, 0x7e, 0x00, 0x7e}, anyLim, 1002, "control frame too long"},
		{"close 127 (only 2 bytes present)", []byte{0x88, 0x7f}, anyLim, 1002, "control frame too long"},
		{"16-bit length 125", []byte{0x82, 0x7e, 0x00, 0x7d}, anyLim, 1002, "non-minimal length encoding"},
		{"16-bit length 0", []byte{0x82, 0x7e, 0x00, 0x00}, anyLim, 1002, "non-minimal length encoding"},
		{"64-bit length 65535", []byte{0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, anyLim, 1002, "non-minimal length encoding"},
		{"64-bit length 5", []byte{0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 5}, anyLim, 1002, "non-minimal length encoding"},
		{"64-bit MSB", []byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0}, anyLim, 1002, "invalid payload length"},
		{"too big 7-bit", []byte{0x82, 0x7d}, Limits{MaxPayload: 124}, 1009, "message too big"},
		{"too big 16-bit", []byte{0x82, 0x7e, 0x01, 0x00}, Limits{MaxPayload: 255}, 1009, "message too big"},
		{"too big 64-bit", []byte{0x82, 0x7f, 0, 0, 0, 0, 0, 0x10, 0, 1}, Limits{MaxPayload: 1 << 20}, 1009, "message too big"},
		{"RSV before opcode", []byte{0xf3, 0x80}, anyLim, 1002, "reserved bits set"},
		{"opcode before mask", []byte{0x83, 0x00}, clientLim, 1002, "reserved opcode"},
		{"mask before length", []byte{0x89, 0x7e}, clientLim, 1002, "frame not masked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Header
			n, err := ParseHeader(tt.frame, tt.lim, &h)
			var ce *CloseError
			if !errors.As(err, &ce) || n != 0 || ce.Code != tt.code || ce.Reason != tt.reason {
				t.Fatalf("got %d, %v; want close %d %q", n, err, tt.code, tt.reason)
			}
			if err.Error() != "codec: "+tt.reason {
				t.Errorf("Error() = %q", err.Error())
			}
			checkHeaderSplit(t, tt.frame, tt.lim)
		})
	}
}

func TestParseHeaderNeedMore(t *testing.T) {
	for _, b := range [][]byte{
		nil, {0x81}, {0x82, 0x7e, 0x01}, {0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0},
		{0x81, 0x85, 1, 2, 3}, {0x82, 0xfe, 0x01, 0x00, 1, 2, 3},
	} {
		var h Header
		if n, err := ParseHeader(b, anyLim, &h); n != 0 || err != ErrNeedMore {
			t.Errorf("% x: %d, %v", b, n, err)
		}
	}
}

func checkHeaderSplit(t *testing.T, b []byte, lim Limits) {
	t.Helper()
	var full Header
	n, err := ParseHeader(b, lim, &full)
	for k := 0; k <= len(b); k++ {
		var h Header
		nk, errk := ParseHeader(b[:k], lim, &h)
		switch {
		case errk == ErrNeedMore:
			if nk != 0 {
				t.Fatalf("k=%d: ErrNeedMore with n=%d", k, nk)
			}
		case errk != err || nk != n || (err == nil && h != full):
			t.Fatalf("k=%d: %d, %+v, %v; one-shot %d, %+v, %v", k, nk, h, errk, n, full, err)
		}
	}
}

// naiveParseHeader is the straightforward twin of ParseHeader: it reads the
// fields bit by bit and checks the rules one after the other.
func naiveParseHeader(b []byte, lim Limits) (Header, int, error) {
	var h Header
	if len(b) < 2 {
		return h, 0, ErrNeedMore
	}
	fin := b[0]>>7 == 1
	rsv := (b[0] >> 4) & 7
	op := b[0] & 15
	masked := b[1]>>7 == 1
	l7 := int(b[1] & 127)
	control := op >= 8
	if rsv != 0 {
		return h, 0, errReservedBits
	}
	if (op >= 3 && op <= 7) || op >= 11 {
		return h, 0, errReservedOpcode
	}
	if control && !fin {
		return h, 0, errFragmentedControl
	}
	if lim.RequireMask && !masked {
		return h, 0, errNotMasked
	}
	if lim.ForbidMask && masked {
		return h, 0, errMasked
	}
	if control && l7 > 125 {
		return h, 0, errControlTooLong
	}
	ext := 0
	if l7 == 126 {
		ext = 2
	} else if l7 == 127 {
		ext = 8
	}
	if len(b) < 2+ext {
		return h, 0, ErrNeedMore
	}
	length := uint64(l7)
	if ext > 0 {
		length = 0
		for i := 0; i < ext; i++ {
			length = length*256 + uint64(b[2+i])
		}
	}
	if (ext == 2 && length < 126) || (ext == 8 && length < 65536) {
		return h, 0, errNonMinimalLength
	}
	if length >= 1<<63 {
		return h, 0, errLengthMSB
	}
	if lim.MaxPayload > 0 && length > uint64(lim.MaxPayload) {
		return h, 0, errTooBig
	}
	n := 2 + ext
	if masked {
		if len(b) < n+4 {
			return h, 0, ErrNeedMore
		}
		for i := 0; i < 4; i++ {
			h.Mask[i] = b[n+i]
		}
		n += 4
	}
	h.Fin, h.Op, h.Masked, h.Length = fin, OpCode(op), masked, int64(length)
	return h, n, nil
}

func TestParseHeaderNaiveTwin(t *testing.T) {
	lims := []Limits{anyLim, clientLim, serverLim, {MaxPayload: 300}}
	check := func(b []byte) {
		for _, lim := range lims {
			var h Header
			n, err := ParseHeader(b, lim, &h)
			wh, wn, werr := naiveParseHeader(b, lim)
			if err != werr || n != wn || (err == nil && h != wh) {
				t.Fatalf("% x %+v: %d %+v %v; naive %d %+v %v", b, lim, n, h, err, wn, wh, werr)
			}
		}
	}
	// Every first two bytes, with a few tails and every truncation.
	tails := [][]byte{
		{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		{0x00, 0x7d, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
		{0x01, 0x2c, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2},
		{0x80, 0, 0, 0, 0, 0, 0, 0, 0xa, 0xb, 0xc, 0xd},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4},
		{0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4},
	}
	for b0 := 0; b0 < 256; b0++ {
		for b1 := 0; b1 < 256; b1++ {
			for _, tail := range tails {
				b := append([]byte{byte(b0), byte(b1)}, tail...)
				for k := 0; k <= len(b); k++ {
					check(b[:k])
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		b := make([]byte, rng.IntN(16))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		check(b)
	}
}

func TestParseHeaderAllocs(t *testing.T) {
	good := []byte{0x81, 0xfe, 0x01, 0x00, 1, 2, 3, 4}
	bad := []byte{0xc1, 0x80}
	var h Header
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := ParseHeader(good, clientLim, &h); err != nil {
			t.Fatal(err)
		}
		if _, err := ParseHeader(bad, clientLim, &h); err == nil {
			t.Fatal("bad accepted")
		}
		if _, err := ParseHeader(good[:3], clientLim, &h); err != ErrNeedMore {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("allocs = %v, want 0", allocs)
	}
}
