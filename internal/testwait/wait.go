package testwait

import (
	"testing"
	"time"
)

// Interval is how long Until and For sleep between two calls of cond.
const Interval = 5 * time.Millisecond

// Until calls cond every Interval until it returns true, or until timeout
// has passed, and reports whether cond held. cond is called at least once
// and once more after the deadline is seen, so a condition that became true
// during the last sleep is not missed. Use it when the caller reports the
// failure itself (for example with the state cond last saw).
func Until(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return cond()
		}
		time.Sleep(Interval)
	}
}

// For is Until that fails the test with "timed out after <timeout> waiting
// for <what>" when cond does not hold in time. what completes that
// sentence: "the proxy to release every connection".
func For(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	if !Until(timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}
