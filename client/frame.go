package client

import (
	"bufio"
	"encoding/binary"
	"fmt"

	"github.com/gobwas/ws"
)

// Frame sizes (RFC 6455 §5.2).
const (
	maxFrameHeader = 14  // 2 + 8 (64-bit length) + 4 (mask)
	maxControl     = 125 // control frame payload limit
	// maxKeptBuffer is the largest message buffer a Conn keeps between
	// messages; a larger one is dropped after use.
	maxKeptBuffer = 1 << 20
)

// frameReader reads server frames from br and returns complete data messages
// and individual control frames. It parses in place and never loses progress:
// when br returns an error (a deadline set for a cancelled context), the
// partial frame or message stays in the reader's state and the next call
// continues where this one stopped.
type frameReader struct {
	br    *bufio.Reader
	limit int64 // largest data message

	msg       []byte    // data message being assembled; aliased by next's result
	op        ws.OpCode // opcode of the message being assembled
	inMsg     bool      // a data message is being assembled
	inFrame   bool      // a data frame's header was consumed
	fin       bool      // the current data frame is final
	remaining int64     // payload bytes of the current data frame still to read

	ctrl [maxControl]byte // payload of the last control frame
}

// next returns the next control frame or complete data message. The payload
// aliases the reader's buffers and is valid until the next call. A message
// whose opcode is OpText or OpBinary is complete (fragments joined).
func (r *frameReader) next() (ws.OpCode, []byte, error) {
	for {
		if !r.inFrame {
			h, n, err := r.peekHeader()
			if err != nil {
				return 0, nil, err
			}
			if h.OpCode.IsControl() {
				p, err := r.br.Peek(n + int(h.Length))
				if err != nil {
					return 0, nil, err
				}
				payload := r.ctrl[:copy(r.ctrl[:], p[n:])]
				r.br.Discard(len(p))
				return h.OpCode, payload, nil
			}
			if !r.inMsg {
				r.op, r.inMsg = h.OpCode, true
				r.msg = r.msg[:0]
				if cap(r.msg) > maxKeptBuffer {
					r.msg = nil
				}
			}
			if h.Length > r.limit-int64(len(r.msg)) {
				return 0, nil, ErrMessageTooBig
			}
			r.br.Discard(n)
			r.inFrame, r.fin, r.remaining = true, h.Fin, h.Length
			r.msg = grow(r.msg, int(h.Length))
		}
		for r.remaining > 0 {
			end := len(r.msg) + int(r.remaining)
			k, err := r.br.Read(r.msg[len(r.msg):end])
			r.msg = r.msg[:len(r.msg)+k]
			r.remaining -= int64(k)
			if err != nil && r.remaining > 0 {
				return 0, nil, err
			}
		}
		r.inFrame = false
		if r.fin {
			r.inMsg = false
			return r.op, r.msg, nil
		}
	}
}

// peekHeader parses the next frame header without consuming it and checks it
// against RFC 6455 for a client: unmasked, no RSV bits, no reserved opcode,
// control frames final and ≤ 125 bytes, continuation only inside a message.
// It returns the header and its size in bytes.
func (r *frameReader) peekHeader() (ws.Header, int, error) {
	p, err := r.br.Peek(2)
	if err != nil {
		return ws.Header{}, 0, err
	}
	n := 2
	switch p[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if p[1]&0x80 != 0 {
		n += 4
	}
	if p, err = r.br.Peek(n); err != nil {
		return ws.Header{}, 0, err
	}
	h := ws.Header{
		Fin:    p[0]&0x80 != 0,
		Rsv:    (p[0] >> 4) & 0x7,
		OpCode: ws.OpCode(p[0] & 0x0f),
		Masked: p[1]&0x80 != 0,
		Length: int64(p[1] & 0x7f),
	}
	switch h.Length {
	case 126:
		h.Length = int64(binary.BigEndian.Uint16(p[2:4]))
	case 127:
		l := binary.BigEndian.Uint64(p[2:10])
		if l > 1<<63-1 {
			return h, 0, fmt.Errorf("%w: frame length %d", ErrProtocol, l)
		}
		h.Length = int64(l)
	}
	state := ws.StateClientSide
	if r.inMsg {
		state |= ws.StateFragmented
	}
	if err := ws.CheckHeader(h, state); err != nil {
		return h, 0, fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	return h, n, nil
}

// grow makes room for n more bytes after len(b) without changing len(b).
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), len(b)+n)
	copy(nb, b)
	return nb
}

// putFrameHeader writes a masked, final frame header for op and a payload of
// n bytes so that it ends exactly at buf[maxFrameHeader], and returns where
// it starts. buf must have at least maxFrameHeader bytes.
func putFrameHeader(buf []byte, op ws.OpCode, n int, mask [4]byte) int {
	var start int
	switch {
	case n <= 125:
		start = maxFrameHeader - 6
		buf[start+1] = 0x80 | byte(n)
	case n <= 0xffff:
		start = maxFrameHeader - 8
		buf[start+1] = 0x80 | 126
		binary.BigEndian.PutUint16(buf[start+2:], uint16(n))
	default:
		start = maxFrameHeader - 14
		buf[start+1] = 0x80 | 127
		binary.BigEndian.PutUint64(buf[start+2:], uint64(n))
	}
	buf[start] = 0x80 | byte(op)
	copy(buf[maxFrameHeader-4:maxFrameHeader], mask[:])
	return start
}
