package engine

import (
	"testing"

	"github.com/socketx/socketx-server/codec"
)

// TestForwardedReason: over every code an upstream close may carry, the
// reason is marked exactly when the proxy also sends that code itself.
func TestForwardedReason(t *testing.T) {
	proxyCodes := map[uint16]bool{1001: true, 1002: true, 1003: true, 1007: true, 1008: true,
		1009: true, 1011: true, 1013: true, 1014: true}
	for code := uint16(1000); code < 5000; code++ {
		if !codec.ValidCloseCode(code) && code != codec.CloseNoStatus {
			continue
		}
		got := forwardedReason(code, []byte("bye"))
		want := "bye"
		if proxyCodes[code] {
			want = "upstream: bye"
		}
		if got != want {
			t.Fatalf("code %d: %q, want %q", code, got, want)
		}
	}
}
