package engine

import (
	"math/bits"
	"sync"

	"github.com/socketx/socketx-server/codec"
)

// Message assembly. A data frame whose payload is not all buffered when its
// header is parsed is copied, as its bytes arrive, into the leg's message
// buffer (leg.frag), sized from the declared length, and consumed from
// gnet's inbound buffer at once. So:
//
//   - every byte is copied once, whatever the segmentation: a frame
//     trickled in N segments costs O(bytes), never O(N × buffered);
//   - a message is held once (gnet's inbound ring holds at most a partial
//     frame header or a control frame, ≤ 139 bytes, never a payload);
//   - the buffer is reserved against the loop's memory budget from the
//     header, before the payload arrives.
//
// Fragmented messages are assembled in the same buffer, frame after frame.
// Complete frames that arrive whole are still handled in place on gnet's
// bytes.

// assembly is the state of the data frame being copied into leg.frag.
type assembly struct {
	left int64      // payload bytes still to come; 0 = no frame in progress
	off  int        // payload bytes already copied (the unmasking offset)
	kind codec.Kind // KindWhole, KindFirst, KindMiddle or KindLast
	mask [4]byte
	op   codec.OpCode // the frame's opcode (the message's for KindWhole)

	masked bool
}

// startAssembly begins copying the data frame whose header is h and whose
// first payload bytes are in part (fewer than h.Length). kind is what
// Assembler.Next said of the frame; limit is the leg's message cap. It
// reports false when the session ended (the memory budget shed it).
func (sess *session) startAssembly(lg *leg, h *codec.Header, kind codec.Kind, part []byte, limit int64) bool {
	have := 0
	if lg.frag != nil {
		have = len(*lg.frag)
	}
	if !sess.growFrag(lg, have+int(h.Length), limit) {
		return false
	}
	lg.pend = assembly{left: h.Length, kind: kind, mask: h.Mask, masked: h.Masked, op: h.Op}
	lg.copyPart(part)
	return true
}

// copyPart appends the next bytes of the frame in progress to the message
// buffer and unmasks them there.
func (lg *leg) copyPart(part []byte) {
	buf := append(*lg.frag, part...)
	if lg.pend.masked {
		codec.Unmask(buf[len(*lg.frag):], lg.pend.mask, lg.pend.off)
	}
	*lg.frag = buf
	lg.pend.off += len(part)
	lg.pend.left -= int64(len(part))
}

// continueAssembly copies what the leg has buffered of the frame in
// progress, straight from gnet's buffers into the message buffer, and
// handles the frame once it is complete. It reports whether the frame is
// complete and the session can go on reading frames.
func (sess *session) continueAssembly(lg *leg, sink frameSink) bool {
	n := min(lg.pend.left, int64(lg.conn.InboundBuffered()))
	if n > 0 {
		buf := *lg.frag
		start := len(buf)
		buf = buf[:start+int(n)]
		_, _ = lg.conn.Read(buf[start:])
		if lg.pend.masked {
			codec.Unmask(buf[start:], lg.pend.mask, lg.pend.off)
		}
		*lg.frag = buf
		lg.pend.off += int(n)
		lg.pend.left -= n
		lg.active = true
	}
	if lg.pend.left > 0 {
		return false
	}
	return sess.assembled(lg, sink)
}

// assembled handles a frame that has been copied whole into the message
// buffer: a whole message or the last fragment is delivered, an earlier
// fragment waits for the next frame.
func (sess *session) assembled(lg *leg, sink frameSink) bool {
	p := lg.pend
	lg.pend = assembly{}
	switch p.kind {
	case codec.KindWhole:
		ok := sink.message(p.op, *lg.frag)
		sess.releaseFrag(lg)
		return ok
	case codec.KindLast:
		ok := sink.message(lg.asm.Op(), *lg.frag)
		sess.releaseFrag(lg)
		return ok
	}
	return true
}

// appendFrag appends a complete fragment to the message being assembled.
func (sess *session) appendFrag(lg *leg, payload []byte, limit int64) bool {
	have := 0
	if lg.frag != nil {
		have = len(*lg.frag)
	}
	if !sess.growFrag(lg, have+len(payload), limit) {
		return false
	}
	*lg.frag = append(*lg.frag, payload...)
	return true
}

// growFrag makes the leg's message buffer able to hold size bytes (size ≤
// limit, the leg's message cap, which the frame parser enforced),
// reserving the growth against the loop's memory budget first. It reports
// false when the session was shed to stay within the budget.
func (sess *session) growFrag(lg *leg, size int, limit int64) bool {
	old := 0
	if lg.frag != nil {
		old = cap(*lg.frag)
		if old >= size {
			return true
		}
	}
	want := fragCap(size, old, int(limit))
	if !sess.loop.reserve(sess, int64(want-old)) {
		return false
	}
	nb := getBuf(want)
	if lg.frag != nil {
		*nb = append(*nb, *lg.frag...)
		putBuf(lg.frag)
	}
	lg.frag = nb
	lg.fragCap = int64(cap(*nb))
	sess.memChanged()
	return true
}

// releaseFrag returns the leg's message buffer and its reservation.
func (sess *session) releaseFrag(lg *leg) {
	if lg.frag == nil {
		return
	}
	putBuf(lg.frag)
	lg.frag = nil
	lg.fragCap = 0
	lg.pend = assembly{}
	sess.memChanged()
}

// Message buffers come from power-of-two size classes, 1 KiB to 16 MiB,
// one pool each, so steady relaying allocates nothing. A buffer is never
// rounded up past the leg's message cap: near the cap (and for the small
// caps of the handshake states) it is sized exactly, growing
// geometrically for fragmented messages, and not pooled.
const (
	minClassShift = 10
	numClasses    = 15
)

var bufPools [numClasses]sync.Pool

// classOf returns the pool class for a buffer of at least n bytes, or -1.
func classOf(n int) int {
	if n <= 1<<minClassShift {
		return 0
	}
	c := bits.Len(uint(n-1)) - minClassShift
	if c >= numClasses {
		return -1
	}
	return c
}

// fragCap is the capacity to give a message buffer that must hold size
// bytes, has old, and may never need more than limit.
func fragCap(size, old, limit int) int {
	if c := classOf(size); c >= 0 {
		if n := 1 << (c + minClassShift); n <= limit {
			return n
		}
	}
	return max(size, min(2*old, limit))
}

// getBuf returns an empty buffer of capacity n: pooled when n is a class
// size.
func getBuf(n int) *[]byte {
	if c := classOf(n); c >= 0 && n == 1<<(c+minClassShift) {
		if v := bufPools[c].Get(); v != nil {
			return v.(*[]byte)
		}
	}
	b := make([]byte, 0, n)
	return &b
}

// putBuf returns a buffer to its pool; buffers of other sizes are left to
// the collector.
func putBuf(b *[]byte) {
	n := cap(*b)
	if c := classOf(n); c >= 0 && n == 1<<(c+minClassShift) {
		*b = (*b)[:0]
		bufPools[c].Put(b)
	}
}
