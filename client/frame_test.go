package client

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gobwas/ws"
)

// splitReader returns data in two reads: data[:k] then data[k:].
type splitReader struct {
	parts [][]byte
}

func (s *splitReader) Read(p []byte) (int, error) {
	for len(s.parts) > 0 && len(s.parts[0]) == 0 {
		s.parts = s.parts[1:]
	}
	if len(s.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.parts[0])
	s.parts[0] = s.parts[0][n:]
	return n, nil
}

type event struct {
	op  ws.OpCode
	p   string
	err string
}

// drain runs a frameReader over r to the first error and records what it
// returned.
func drain(r io.Reader, limit int64) []event {
	fr := frameReader{br: bufio.NewReaderSize(r, readBufferSize), limit: limit}
	var out []event
	for {
		op, p, err := fr.next()
		if err != nil {
			return append(out, event{err: err.Error()})
		}
		out = append(out, event{op: op, p: string(p)})
	}
}

// naiveDrain is the twin: gobwas/ws ReadFrame per frame, joining fragments
// by hand, with the same checks.
func naiveDrain(data []byte, limit int64) []event {
	r := bytes.NewReader(data)
	var out []event
	var msg []byte
	var op ws.OpCode
	inMsg := false
	for {
		// Parse the header alone first so that limit errors come before the
		// payload is read, as in frameReader.
		if r.Len() == 0 {
			return append(out, event{err: io.EOF.Error()})
		}
		rest := data[len(data)-r.Len():]
		if len(rest) < 2 || len(rest) < map[byte]int{126: 4, 127: 10}[rest[1]&0x7f]+int(rest[1]>>7)*4 {
			return append(out, event{err: io.EOF.Error()}) // short header
		}
		h, err := ws.ReadHeader(bytes.NewReader(rest))
		if errors.Is(err, ws.ErrHeaderLengthMSB) {
			return append(out, event{err: fmt.Sprintf("%v: frame length %d", ErrProtocol, binary.BigEndian.Uint64(rest[2:10]))})
		}
		if err != nil {
			return append(out, event{err: io.EOF.Error()}) // short header
		}
		state := ws.StateClientSide
		if inMsg {
			state |= ws.StateFragmented
		}
		if h.Length < 0 {
			return append(out, event{err: fmt.Sprintf("%v: frame length %d", ErrProtocol, uint64(h.Length))})
		}
		if err := ws.CheckHeader(h, state); err != nil {
			return append(out, event{err: fmt.Errorf("%w: %v", ErrProtocol, err).Error()})
		}
		if !h.OpCode.IsControl() {
			if !inMsg {
				msg = msg[:0]
			}
			if h.Length > limit-int64(len(msg)) {
				return append(out, event{err: ErrMessageTooBig.Error()})
			}
		}
		f, err := ws.ReadFrame(r)
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF
			}
			return append(out, event{err: err.Error()})
		}
		if f.Header.OpCode.IsControl() {
			out = append(out, event{op: f.Header.OpCode, p: string(f.Payload)})
			continue
		}
		if !inMsg {
			op, inMsg = f.Header.OpCode, true
		}
		msg = append(msg, f.Payload...)
		if f.Header.Fin {
			inMsg = false
			out = append(out, event{op: op, p: string(msg)})
		}
	}
}

// randomStream builds a valid server frame stream: fragmented and whole
// messages with control frames interleaved, lengths around the 125/126 and
// 65535/65536 boundaries.
func randomStream(rng *rand.Rand) []byte {
	var out []byte
	lengths := []int{0, 1, 125, 126, 127, 1000, 65535, 65536}
	for m := 0; m < 1+rng.IntN(5); m++ {
		frags := 1 + rng.IntN(3)
		for i := 0; i < frags; i++ {
			op := ws.OpContinuation
			if i == 0 {
				op = []ws.OpCode{ws.OpText, ws.OpBinary}[rng.IntN(2)]
			}
			p := make([]byte, lengths[rng.IntN(len(lengths))])
			fill(p, rng.Uint64())
			b, _ := ws.CompileFrame(ws.NewFrame(op, i == frags-1, p))
			out = append(out, b...)
			if rng.IntN(2) == 0 {
				c := []ws.OpCode{ws.OpPing, ws.OpPong, ws.OpClose}[rng.IntN(3)]
				b, _ := ws.CompileFrame(ws.NewFrame(c, true, bytes.Repeat([]byte{'c'}, rng.IntN(126))))
				out = append(out, b...)
			}
		}
	}
	return out
}

// fill writes a cheap pseudo-random pattern.
func fill(p []byte, seed uint64) {
	for j := range p {
		seed = seed*6364136223846793005 + 1442695040888963407
		p[j] = byte(seed >> 56)
	}
}

func TestFrameReaderNaiveTwin(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100; i++ {
		data := randomStream(rng)
		want := naiveDrain(data, 1<<20)
		if got := drain(bytes.NewReader(data), 1<<20); !slices.Equal(got, want) {
			t.Fatalf("stream %d: got %d events, want %d\n%.300v\n%.300v", i, len(got), len(want), got, want)
		}
		k := rng.IntN(len(data) + 1)
		if got := drain(&splitReader{parts: [][]byte{data[:k], data[k:]}}, 1<<20); !slices.Equal(got, want) {
			t.Fatalf("stream %d split at %d differs", i, k)
		}
	}
}

// TestFrameReaderEveryPrefix: every truncation of a stream yields the
// events of its complete frames then io.EOF, never a panic.
func TestFrameReaderEveryPrefix(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := randomStream(rng)[:2000]
	for k := 0; k <= len(data); k++ {
		got := drain(bytes.NewReader(data[:k]), 1<<20)
		want := naiveDrain(data[:k], 1<<20)
		if !slices.Equal(got, want) {
			t.Fatalf("prefix %d: %v, want %v", k, got, want)
		}
	}
}

func TestFrameReaderResumes(t *testing.T) {
	// A reader that fails with a timeout-like error after every byte: the
	// frame reader must make progress across the errors.
	data := randomStream(rand.New(rand.NewPCG(5, 6)))
	want := naiveDrain(data, 1<<20)
	fr := frameReader{br: bufio.NewReaderSize(&flakyReader{data: data}, readBufferSize), limit: 1 << 20}
	var got []event
	for {
		op, p, err := fr.next()
		if errors.Is(err, errFlaky) {
			continue
		}
		if err != nil {
			got = append(got, event{err: err.Error()})
			break
		}
		got = append(got, event{op: op, p: string(p)})
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
}

var errFlaky = errors.New("flaky")

// flakyReader alternates one byte with an error.
type flakyReader struct {
	data []byte
	fail bool
}

func (f *flakyReader) Read(p []byte) (int, error) {
	f.fail = !f.fail
	if f.fail {
		return 0, errFlaky
	}
	if len(f.data) == 0 {
		return 0, io.EOF
	}
	p[0] = f.data[0]
	f.data = f.data[1:]
	return 1, nil
}

func TestFrameReaderErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"masked", []byte{0x82, 0x81, 1, 2, 3, 4, 'x'}, "client: websocket protocol violation: frames from server to client must be not masked"},
		{"rsv", []byte{0xc2, 0x00}, "client: websocket protocol violation: non-zero rsv bits with no extension negotiated"},
		{"reserved opcode", []byte{0x83, 0x00}, "client: websocket protocol violation: use of reserved op code"},
		{"long ping", append([]byte{0x89, 126, 0, 126}, make([]byte, 126)...), "client: websocket protocol violation: control frame payload limit exceeded"},
		{"fragmented ping", []byte{0x09, 0}, "client: websocket protocol violation: control frame is not final"},
		{"continuation first", []byte{0x80, 0}, "client: websocket protocol violation: unexpected continuation data frame"},
		{"new message inside fragmented", []byte{0x02, 0, 0x82, 0}, "client: websocket protocol violation: unexpected non-continuation data frame"},
		{"length msb", []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, "client: websocket protocol violation: frame length 9223372036854775808"},
		{"over limit", []byte{0x82, 126, 0x01, 0x01}, "client: message exceeds read limit"},
		{"over limit across fragments", []byte{0x02, 126, 0, 200, 0x80, 126, 0, 57}, "client: message exceeds read limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if tc.name == "over limit across fragments" {
				in = append(append([]byte{0x02, 126, 0, 200}, make([]byte, 200)...), 0x80, 126, 0, 57)
			}
			got := drain(bytes.NewReader(in), 256)
			if last := got[len(got)-1].err; last != tc.want {
				t.Fatalf("error %q, want %q", last, tc.want)
			}
		})
	}
}

func FuzzFrameReader(f *testing.F) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 4; i++ {
		s := randomStream(rng)
		if len(s) > 4096 {
			s = s[:4096]
		}
		f.Add(s, uint16(len(s)/2))
	}
	f.Add([]byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0}, uint16(5))
	f.Add([]byte{0x82, 0x05, 'h', 'e', 'l', 'l', 'o', 0x89, 0}, uint16(3))
	f.Add([]byte{0x02, 0x01, 'a', 0x89, 0x01, 'p', 0x80, 0x01, 'b'}, uint16(4))
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		k := int(split) % (len(data) + 1)
		whole := drain(bytes.NewReader(data), 1<<16)
		parts := drain(&splitReader{parts: [][]byte{data[:k], data[k:]}}, 1<<16)
		if !slices.Equal(whole, parts) {
			t.Fatalf("split at %d: %v vs %v", k, parts, whole)
		}
		if naive := naiveDrain(data, 1<<16); !slices.Equal(whole, naive) {
			t.Fatalf("naive twin: %v vs %v", whole, naive)
		}
	})
}

func TestPutFrameHeader(t *testing.T) {
	mask := [4]byte{1, 2, 3, 4}
	for _, n := range []int{0, 125, 126, 65535, 65536, 1 << 20} {
		buf := make([]byte, maxFrameHeader+n)
		start := putFrameHeader(buf, ws.OpBinary, n, mask)
		h, err := ws.ReadHeader(bytes.NewReader(buf[start:]))
		if err != nil || !h.Fin || h.OpCode != ws.OpBinary || !h.Masked || h.Mask != mask || h.Length != int64(n) || h.Rsv != 0 {
			t.Fatalf("n=%d: %+v %v", n, h, err)
		}
		if wantLen := map[bool]int{true: 6, false: 0}[n <= 125]; wantLen != 0 && maxFrameHeader-start != wantLen {
			t.Fatalf("n=%d: header %d bytes", n, maxFrameHeader-start)
		}
	}
}
