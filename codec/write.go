package codec

import "encoding/binary"

// MaxHeaderLen is the longest frame header: 2 bytes, a 64-bit length and a
// masking key. Reserve it in front of a payload to use PutHeaderBefore.
const MaxHeaderLen = 14

// HeaderLen returns the length of the header of a frame with a payload of
// length bytes, masked or not.
func HeaderLen(length int, masked bool) int {
	n := 2
	switch {
	case length > 0xffff:
		n = 10
	case length > 125:
		n = 4
	}
	if masked {
		n += 4
	}
	return n
}

// PutFrameHeader writes the header of a frame into dst[:HeaderLen(length,
// mask != nil)] and returns that length. RSV bits are zero; mask, when not
// nil, is the masking key written into the header (the payload is not
// touched: mask it with Unmask). It panics if dst is too short or length is
// negative: both are the caller's mistake, never the peer's.
func PutFrameHeader(dst []byte, fin bool, op OpCode, length int, mask *[4]byte) int {
	if length < 0 {
		panic("codec: negative frame length")
	}
	_ = dst[HeaderLen(length, mask != nil)-1]
	b0 := byte(op & 0x0f)
	if fin {
		b0 |= 0x80
	}
	var b1 byte
	if mask != nil {
		b1 = 0x80
	}
	dst[0] = b0
	n := 2
	switch {
	case length > 0xffff:
		dst[1] = b1 | 127
		binary.BigEndian.PutUint64(dst[2:10], uint64(length))
		n = 10
	case length > 125:
		dst[1] = b1 | 126
		binary.BigEndian.PutUint16(dst[2:4], uint16(length))
		n = 4
	default:
		dst[1] = b1 | byte(length)
	}
	if mask != nil {
		copy(dst[n:n+4], mask[:])
		n += 4
	}
	return n
}

// AppendFrameHeader appends the header PutFrameHeader writes.
func AppendFrameHeader(dst []byte, fin bool, op OpCode, length int, mask *[4]byte) []byte {
	var h [MaxHeaderLen]byte
	n := PutFrameHeader(h[:], fin, op, length, mask)
	return append(dst, h[:n]...)
}

// PutHeaderBefore writes the frame header so that it ends exactly at
// buf[payloadStart] and returns where it starts. The intended use: reserve
// MaxHeaderLen bytes, build the payload after them, then write the header
// right-aligned and send buf[headerStart:payloadStart+length]. It does not
// mask the payload. It panics if payloadStart leaves too little room.
func PutHeaderBefore(buf []byte, payloadStart int, fin bool, op OpCode, length int, mask *[4]byte) (headerStart int) {
	headerStart = payloadStart - HeaderLen(length, mask != nil)
	PutFrameHeader(buf[headerStart:payloadStart], fin, op, length, mask)
	return headerStart
}

// AppendControlFrame appends a complete, final control frame (close, ping or
// pong) carrying payload, cut to MaxControlPayload (125) bytes. When mask is
// not nil (the proxy writing to an upstream) the appended payload copy is
// masked with it; payload itself is never modified.
func AppendControlFrame(dst []byte, op OpCode, payload []byte, mask *[4]byte) []byte {
	if len(payload) > MaxControlPayload {
		payload = payload[:MaxControlPayload]
	}
	dst = AppendFrameHeader(dst, true, op, len(payload), mask)
	start := len(dst)
	dst = append(dst, payload...)
	if mask != nil {
		Unmask(dst[start:], *mask, 0)
	}
	return dst
}
