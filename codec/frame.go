package codec

import (
	"encoding/binary"

	"github.com/gobwas/ws"
)

// OpCode is a WebSocket frame opcode (RFC 6455 §5.2); it is ws.OpCode, so
// its IsControl, IsData and IsReserved methods apply.
type OpCode = ws.OpCode

// Opcodes of RFC 6455 §11.8.
const (
	OpContinuation = ws.OpContinuation
	OpText         = ws.OpText
	OpBinary       = ws.OpBinary
	OpClose        = ws.OpClose
	OpPing         = ws.OpPing
	OpPong         = ws.OpPong
)

// MaxControlPayload is the largest payload a control frame may carry.
const MaxControlPayload = 125

// Header is a parsed WebSocket frame header.
type Header struct {
	Fin    bool
	Rsv    uint8 // RSV1<<2 | RSV2<<1 | RSV3; always 0 from ParseHeader
	Op     OpCode
	Masked bool
	Mask   [4]byte // zero when !Masked
	Length int64   // payload length
}

// Limits are the rules ParseHeader enforces for one direction of one
// connection.
type Limits struct {
	// MaxPayload is the largest payload accepted in one frame; a longer
	// frame is a 1009 "message too big". Zero or negative means no limit
	// beyond the 63-bit length field.
	MaxPayload int64
	// RequireMask rejects unmasked frames (client-to-server direction).
	RequireMask bool
	// ForbidMask rejects masked frames (server-to-client direction).
	ForbidMask bool
}

// ParseHeader parses the frame header at the start of b into h and returns
// its length (2 to 14 bytes). The payload need not be present yet: the
// frame is complete once len(b) >= n+h.Length. h is meaningful only when err
// is nil.
//
// It returns ErrNeedMore while the header is incomplete, and a *CloseError
// for a protocol violation, each reported as soon as the bytes that reveal
// it are present, in this order:
//
//	1002 "reserved bits set"            RSV1-3 set (no extension is ever negotiated)
//	1002 "reserved opcode"              opcode 0x3-0x7 or 0xB-0xF
//	1002 "fragmented control frame"     control frame without FIN
//	1002 "frame not masked"             unmasked while lim.RequireMask
//	1002 "frame masked"                 masked while lim.ForbidMask
//	1002 "control frame too long"       control frame with length > 125
//	1002 "non-minimal length encoding"  16-bit length < 126, 64-bit length < 65536
//	1002 "invalid payload length"       64-bit length with its top bit set
//	1009 "message too big"              length > lim.MaxPayload
func ParseHeader(b []byte, lim Limits, h *Header) (n int, err error) {
	if len(b) < 2 {
		return 0, ErrNeedMore
	}
	b0, b1 := b[0], b[1]
	op := OpCode(b0 & 0x0f)
	fin := b0&0x80 != 0
	masked := b1&0x80 != 0
	switch {
	case b0&0x70 != 0:
		return 0, errReservedBits
	case op.IsReserved():
		return 0, errReservedOpcode
	case op.IsControl() && !fin:
		return 0, errFragmentedControl
	case lim.RequireMask && !masked:
		return 0, errNotMasked
	case lim.ForbidMask && masked:
		return 0, errMasked
	}

	length := int64(b1 & 0x7f)
	n = 2
	switch length {
	case 126:
		if op.IsControl() {
			return 0, errControlTooLong
		}
		if len(b) < 4 {
			return 0, ErrNeedMore
		}
		length = int64(binary.BigEndian.Uint16(b[2:4]))
		if length < 126 {
			return 0, errNonMinimalLength
		}
		n = 4
	case 127:
		if op.IsControl() {
			return 0, errControlTooLong
		}
		if len(b) < 10 {
			return 0, ErrNeedMore
		}
		u := binary.BigEndian.Uint64(b[2:10])
		if u < 1<<16 {
			return 0, errNonMinimalLength
		}
		if u>>63 != 0 {
			return 0, errLengthMSB
		}
		length = int64(u)
		n = 10
	}
	if lim.MaxPayload > 0 && length > lim.MaxPayload {
		return 0, errTooBig
	}

	var mask [4]byte
	if masked {
		if len(b) < n+4 {
			return 0, ErrNeedMore
		}
		mask = [4]byte(b[n : n+4])
		n += 4
	}
	*h = Header{Fin: fin, Op: op, Masked: masked, Mask: mask, Length: length}
	return n, nil
}
