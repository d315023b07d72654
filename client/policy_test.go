package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/socketx/socketx-server/mte"
)

func TestDefaultShouldReconnect(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&CloseError{Code: 1000}, false},
		{&CloseError{Code: 1001, Reason: "going away"}, true},
		{&CloseError{Code: 1002}, false},
		{&CloseError{Code: 1003}, false},
		{&CloseError{Code: 1005}, false},
		{&CloseError{Code: 1006}, true},
		{&CloseError{Code: 1007}, false},
		{&CloseError{Code: 1008, Reason: "pathname not allowed"}, false},
		{&CloseError{Code: 1009}, false},
		{&CloseError{Code: 1010}, false},
		{&CloseError{Code: 1011, Reason: "upstream connection lost"}, true},
		{&CloseError{Code: 1012}, true},
		{&CloseError{Code: 1013}, true},
		{&CloseError{Code: 1014}, true},
		{&CloseError{Code: 4000}, false},
		{&UpgradeError{Status: 403}, false},
		{&UpgradeError{Status: 404}, false},
		{&UpgradeError{Status: 429}, true},
		{&UpgradeError{Status: 502}, true},
		{&UpgradeError{Status: 503}, true},
		{&UpgradeError{Status: 503, Reason: "too many connections", RetryAfter: 5 * time.Second}, true},
		{&HandshakeError{State: stateSentHello, Action: mte.ActionProxyData}, false},
		{&MTEError{Op: "pair", Err: mte.ErrAuth}, false},
		{fmt.Errorf("%w: x", ErrProtocol), false},
		{ErrMessageTooBig, false},
		{ErrClosed, false},
		{ErrQueueFull, false},
		{context.Canceled, false},
		{fmt.Errorf("client: handshake: %w", context.DeadlineExceeded), true},
		{fmt.Errorf("client: read: %w", io.EOF), true},
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{fmt.Errorf("client: write: %w", syscall.ECONNRESET), true},
		{&ReconnectError{Attempts: 3, Err: io.EOF}, true}, // unwraps to EOF
	} {
		if got := DefaultShouldReconnect(tc.err); got != tc.want {
			t.Errorf("DefaultShouldReconnect(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestBackoffCap(t *testing.T) {
	var ro ReconnectOptions
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second,
		4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		if got := ro.backoffCap(i + 1); got != w {
			t.Errorf("cap(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := ro.backoffCap(1 << 20); got != 30*time.Second {
		t.Errorf("cap(huge) = %v", got)
	}
	ro = ReconnectOptions{BaseDelay: 3 * time.Millisecond, MaxDelay: 10 * time.Millisecond}
	for n, w := range map[int]time.Duration{1: 3 * time.Millisecond, 2: 6 * time.Millisecond, 3: 10 * time.Millisecond} {
		if got := ro.backoffCap(n); got != w {
			t.Errorf("cap(%d) = %v, want %v", n, got, w)
		}
	}
}

// TestDelayHonoursRetryAfter: after an upgrade refused with Retry-After the
// sleep is at least that long (capped at MaxDelay); any other cause, or a
// Retry-After shorter than the jittered backoff, leaves the backoff alone.
func TestDelayHonoursRetryAfter(t *testing.T) {
	ro := ReconnectOptions{MaxDelay: 10 * time.Second, jitter: func(n int64) int64 { return n / 2 }}
	full := &UpgradeError{Status: 503, Reason: "Service Unavailable", RetryAfter: 5 * time.Second}
	long := &UpgradeError{Status: 503, Reason: "Service Unavailable", RetryAfter: time.Minute}
	noHeader := &UpgradeError{Status: 503, Reason: "Service Unavailable"}
	for _, c := range []struct {
		attempt int
		cause   error
		want    time.Duration
	}{
		{1, full, 5 * time.Second},                         // backoff 125ms < Retry-After
		{1, fmt.Errorf("dial: %w", full), 5 * time.Second}, // wrapped
		{1, long, 10 * time.Second},                        // capped at MaxDelay
		{1, noHeader, 125 * time.Millisecond},              // no Retry-After: the backoff
		{1, io.EOF, 125 * time.Millisecond},
		{8, full, 5 * time.Second}, // backoff cap 10s, jitter 5s: equal
		{9, &UpgradeError{Status: 503, RetryAfter: time.Second}, 5 * time.Second},
	} {
		if got := ro.delay(c.attempt, c.cause); got != c.want {
			t.Errorf("delay(%d, %v) = %v, want %v", c.attempt, c.cause, got, c.want)
		}
	}
}

// TestBackoffFullJitter: the sleep is jitter(cap), i.e. uniform in [0, cap),
// and the default source stays within that range.
func TestBackoffFullJitter(t *testing.T) {
	var asked []int64
	ro := ReconnectOptions{jitter: func(n int64) int64 { asked = append(asked, n); return n - 1 }}
	if got := ro.backoff(3); got != time.Second-1 || len(asked) != 1 || asked[0] != int64(time.Second) {
		t.Fatalf("backoff(3) = %v, jitter asked %v", got, asked)
	}
	ro = ReconnectOptions{}
	var lo, hi time.Duration = time.Hour, 0
	for range 10000 {
		d := ro.backoff(2)
		if d < 0 || d >= 500*time.Millisecond {
			t.Fatalf("backoff(2) = %v out of [0, 500ms)", d)
		}
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo > 50*time.Millisecond || hi < 450*time.Millisecond {
		t.Fatalf("10000 draws span only [%v, %v]", lo, hi)
	}
}

func TestQueueLimitDefault(t *testing.T) {
	for in, want := range map[int]int{0: 1024, -1: 1024, 1: 1, 5000: 5000} {
		ro := ReconnectOptions{QueueLimit: in}
		if got := ro.queueLimit(); got != want {
			t.Errorf("queueLimit(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestReconnectErrorText(t *testing.T) {
	err := &ReconnectError{Attempts: 3, Err: &CloseError{Code: 1014, Reason: "upstream unreachable"}}
	if got := err.Error(); got != "client: reconnect gave up after 3 attempts: client: closed 1014: upstream unreachable" {
		t.Fatal(got)
	}
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != 1014 {
		t.Fatal("Unwrap")
	}
}
