package testwait

import (
	"fmt"
	"testing"
	"time"
)

func TestUntil(t *testing.T) {
	n := 0
	if !Until(time.Second, func() bool { n++; return n == 3 }) || n != 3 {
		t.Fatalf("Until returned after %d calls, want true after 3", n)
	}
	start := time.Now()
	n = 0
	if Until(20*time.Millisecond, func() bool { n++; return false }) {
		t.Fatal("Until reported a condition that never held")
	}
	if d := time.Since(start); d < 20*time.Millisecond || n < 2 {
		t.Fatalf("Until gave up after %v and %d calls, want at least 20ms and 2 calls", d, n)
	}
}

// fatalRecorder records Fatalf instead of stopping the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
}

func TestForMessage(t *testing.T) {
	r := &fatalRecorder{TB: t}
	For(r, "the sky to fall", 10*time.Millisecond, func() bool { return false })
	if want := "timed out after 10ms waiting for the sky to fall"; r.msg != want {
		t.Fatalf("For failed with %q, want %q", r.msg, want)
	}
	r.msg = ""
	For(r, "nothing", time.Second, func() bool { return true })
	if r.msg != "" {
		t.Fatalf("For failed with %q on a true condition", r.msg)
	}
}
