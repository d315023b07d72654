package engine

import (
	"testing"
	"unsafe"
)

// TestSessionSize keeps the per-connection structs from growing unnoticed:
// every idle connection holds one session (two legs inside).
func TestSessionSize(t *testing.T) {
	sess, lg := unsafe.Sizeof(session{}), unsafe.Sizeof(leg{})
	t.Logf("session %d bytes (leg %d)", sess, lg)
	// 64-bit platforms. The session includes mte.Session, which carries the
	// server key ID of an authenticated pairing (16 B with its flag) for
	// the Paired line and the authenticated-pairings metric, and the
	// upstream connect in flight on the loop (upstream.DirectDial, 16 B),
	// and the pairRequest waiting for its loop's pairing task (8 B). 1,120
	// bytes stay in Go's 1,152-byte allocation size class.
	const maxSession, maxLeg = 1120, 136
	if sess > maxSession || lg > maxLeg {
		t.Errorf("session is %d bytes (at most %d), leg %d (at most %d)", sess, maxSession, lg, maxLeg)
	}
}
