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
	const maxSession, maxLeg = 1080, 136 // 64-bit platforms
	if sess > maxSession || lg > maxLeg {
		t.Errorf("session is %d bytes (at most %d), leg %d (at most %d)", sess, maxSession, lg, maxLeg)
	}
}
