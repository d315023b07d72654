package codec

import "math"

// Kind says where a frame sits in the message sequence of one direction.
type Kind uint8

// Frame kinds returned by Assembler.Next.
const (
	// KindControl is a close, ping or pong frame. It may arrive between the
	// fragments of a message and does not disturb it.
	KindControl Kind = iota + 1
	// KindWhole is a complete data message in a single frame.
	KindWhole
	// KindFirst starts a fragmented message (text or binary, FIN clear).
	KindFirst
	// KindMiddle continues a fragmented message (continuation, FIN clear).
	KindMiddle
	// KindLast ends a fragmented message (continuation, FIN set).
	KindLast
)

// Assembler checks the sequencing of data frames in one direction of one
// connection and the size of fragmented messages (RFC 6455 §5.4). It holds
// no payload: the engine keeps the bytes of a fragmented message in its own
// buffer. The zero value is ready; it is 16 bytes.
type Assembler struct {
	size int64  // payload bytes of the current fragmented message
	op   OpCode // opcode of the current fragmented message
	busy bool   // a fragmented message is in progress
}

// Next classifies the frame whose header is h (already accepted by
// ParseHeader) and updates the sequence state. maxMessage bounds the total
// payload of a message; zero or negative means no limit. It is checked
// before the caller grows any buffer. Errors are *CloseError:
//
//	1002 "unexpected continuation frame"  continuation with no message in progress
//	1002 "expected continuation frame"    text/binary while a message is in progress
//	1009 "message too big"                the message would exceed maxMessage
//
// After an error the connection must be closed; the state is not meaningful.
func (a *Assembler) Next(h *Header, maxMessage int64) (Kind, error) {
	if h.Op.IsControl() {
		return KindControl, nil
	}
	if maxMessage <= 0 {
		maxMessage = math.MaxInt64
	}
	if h.Op != OpContinuation {
		if a.busy {
			return 0, errExpectedCont
		}
		if h.Length > maxMessage {
			return 0, errTooBig
		}
		if h.Fin {
			return KindWhole, nil
		}
		a.busy, a.op, a.size = true, h.Op, h.Length
		return KindFirst, nil
	}
	if !a.busy {
		return 0, errUnexpectedCont
	}
	if h.Length > maxMessage-a.size {
		return 0, errTooBig
	}
	a.size += h.Length
	if h.Fin {
		a.busy = false
		return KindLast, nil
	}
	return KindMiddle, nil
}

// InProgress reports whether a fragmented message has started and not ended.
func (a *Assembler) InProgress() bool { return a.busy }

// Op returns the opcode (OpText or OpBinary) of the fragmented message in
// progress, or of the one the last KindLast ended; OpContinuation before
// any fragmented message.
func (a *Assembler) Op() OpCode { return a.op }

// Size returns the payload bytes accepted so far for the fragmented message
// in progress (including the frame last passed to Next), or the total of the
// one the last KindLast ended.
func (a *Assembler) Size() int64 { return a.size }

// Reset forgets any message in progress.
func (a *Assembler) Reset() { *a = Assembler{} }
