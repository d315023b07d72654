package wsecho

import (
	"bytes"
	"testing"

	"github.com/socketx/socketx-server/codec"
)

const upgradeReq = "GET /x HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

const upgradeResp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"

func maskedFrame(fin bool, op codec.OpCode, payload string) []byte {
	mask := [4]byte{1, 2, 3, 4}
	b := codec.AppendFrameHeader(nil, fin, op, len(payload), &mask)
	start := len(b)
	b = append(b, payload...)
	codec.Unmask(b[start:], mask, 0)
	return b
}

func frame(fin bool, op codec.OpCode, payload string) []byte {
	return append(codec.AppendFrameHeader(nil, fin, op, len(payload), nil), payload...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// The upgrade, a text message, a fragmented binary message, a ping and a close,
// all in one read, produce exactly these answers.
func TestProcessExactBytes(t *testing.T) {
	in := cat([]byte(upgradeReq),
		maskedFrame(true, codec.OpText, "hello"),
		maskedFrame(false, codec.OpBinary, "ab"),
		maskedFrame(true, codec.OpContinuation, "c"),
		maskedFrame(true, codec.OpPing, "p"),
		maskedFrame(true, codec.OpClose, "\x03\xe8"),
		[]byte("trailing garbage"))
	var st conn
	r := st.process(in, nil, 1<<20)
	want := cat([]byte(upgradeResp),
		frame(true, codec.OpText, "hello"),
		frame(false, codec.OpBinary, "ab"),
		frame(true, codec.OpContinuation, "c"),
		frame(true, codec.OpPong, "p"),
		frame(true, codec.OpClose, "\x03\xe8"))
	if !bytes.Equal(r.out, want) {
		t.Fatalf("out\n%q\nwant\n%q", r.out, want)
	}
	if r.consumed != len(in) || !r.close || !r.upgraded || r.frames != 3 || r.bytes != 8 {
		t.Fatalf("consumed %d/%d close %v upgraded %v frames %d bytes %d", r.consumed, len(in), r.close, r.upgraded, r.frames, r.bytes)
	}
}

func TestProcessRejects(t *testing.T) {
	for _, c := range []struct{ name, in, wantPrefix string }{
		{"health check", "GET /health HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 200 OK\r\n"},
		{"bad version", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", "HTTP/1.1 426 "},
		{"garbage", "\x00\x01\x02\r\n\r\n", "HTTP/1.1 400 "},
	} {
		var st conn
		r := st.process([]byte(c.in), nil, 1<<20)
		if !bytes.HasPrefix(r.out, []byte(c.wantPrefix)) || !r.close || r.consumed != len(c.in) {
			t.Errorf("%s: out %q close %v consumed %d", c.name, r.out, r.close, r.consumed)
		}
	}
	// An unmasked client frame is a protocol error: close 1002.
	st := conn{upgraded: true}
	r := st.process(frame(true, codec.OpText, "x"), nil, 1<<20)
	want := frame(true, codec.OpClose, "\x03\xeaframe not masked")
	if !bytes.Equal(r.out, want) || !r.close {
		t.Fatalf("out %q want %q", r.out, want)
	}
}

// runSplit feeds data cut at k the way gnet does: what was not consumed is
// presented again with the next bytes appended.
func runSplit(data []byte, k int) (out []byte, frames int, closed bool) {
	var st conn
	buf := append([]byte(nil), data[:k]...)
	rest := data[k:]
	for round := 0; round < 2; round++ {
		r := st.process(buf, nil, 1<<20)
		out = append(out, r.out...)
		frames += r.frames
		if r.close {
			return out, frames, true
		}
		buf = append(append([]byte(nil), buf[r.consumed:]...), rest...)
		rest = nil
	}
	return out, frames, false
}

func TestProcessSplitEqualsWhole(t *testing.T) {
	data := cat([]byte(upgradeReq), maskedFrame(true, codec.OpBinary, string(bytes.Repeat([]byte("z"), 300))),
		maskedFrame(true, codec.OpPing, ""), maskedFrame(true, codec.OpText, "end"))
	wantOut, wantFrames, _ := runSplit(data, len(data))
	for k := 0; k <= len(data); k++ {
		out, frames, _ := runSplit(data, k)
		if !bytes.Equal(out, wantOut) || frames != wantFrames {
			t.Fatalf("split at %d: out %q frames %d", k, out, frames)
		}
	}
}

func TestProcessZeroAllocs(t *testing.T) {
	msg := maskedFrame(true, codec.OpBinary, string(bytes.Repeat([]byte("q"), 1024)))
	in := make([]byte, len(msg))
	out := make([]byte, 0, 4096)
	st := conn{upgraded: true}
	n := testing.AllocsPerRun(1000, func() {
		copy(in, msg)
		r := st.process(in, out[:0], 1<<20)
		if r.frames != 1 {
			t.Fatal("no frame")
		}
	})
	if n != 0 {
		t.Fatalf("process allocates %.1f per message", n)
	}
}

func FuzzProcessSplit(f *testing.F) {
	f.Add(cat([]byte(upgradeReq), maskedFrame(true, codec.OpText, "hi"), maskedFrame(true, codec.OpClose, "")), uint16(10))
	f.Add(cat([]byte(upgradeReq), maskedFrame(false, codec.OpText, "a"), maskedFrame(true, codec.OpContinuation, "b")), uint16(200))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), uint16(3))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		k := int(cut) % (len(data) + 1)
		wantOut, wantFrames, wantClosed := runSplit(data, len(data))
		out, frames, closed := runSplit(data, k)
		if closed != wantClosed || (!closed && (!bytes.Equal(out, wantOut) || frames != wantFrames)) {
			t.Fatalf("split at %d: out %q frames %d closed %v; whole: %q %d %v", k, out, frames, closed, wantOut, wantFrames, wantClosed)
		}
	})
}
