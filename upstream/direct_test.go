package upstream

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
)

// StartDirect hands out plain IP:port dials only, within the per-address
// cap and outside the backoff; FinishDirect records each outcome once, as
// Dial would: a refused connect backs the address off, a canceled one does
// not, a success resets the backoff and counts in DialsOK.
func TestDirectDial(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	m := NewManager(Config{MaxConcurrentDials: 2, BackoffBase: 100 * time.Millisecond, Now: clock.now}, zap.NewNop())
	addr := closedPort(t)

	for _, ep := range []Endpoint{{Addr: "localhost:80"}, {Addr: addr, TLS: true, ServerName: "x"}} {
		if d, a, ok, err := m.StartDirect(ep); ok || err != nil || a != nil || d.Active() {
			t.Fatalf("%+v: ok=%v err=%v addr=%v: want the blocking path", ep, ok, err, a)
		}
	}

	d1, a, ok, err := m.StartDirect(wsEndpoint(addr))
	if !ok || err != nil || a.String() != addr || !d1.Active() {
		t.Fatalf("first: ok=%v err=%v addr=%v", ok, err, a)
	}
	d2, _, ok, _ := m.StartDirect(wsEndpoint(addr))
	if !ok {
		t.Fatal("second: no slot")
	}
	if _, _, ok, err := m.StartDirect(wsEndpoint(addr)); ok || err != nil {
		t.Fatalf("third, cap 2 full: ok=%v err=%v, want the blocking path", ok, err)
	}

	// Abandoned: no backoff, the slot is free again.
	if err := m.FinishDirect(&d2, context.Canceled); Reason(err) != ReasonCanceled || d2.Active() {
		t.Fatalf("canceled: %v", err)
	}
	if err := m.FinishDirect(&d2, nil); err != nil {
		t.Fatalf("second FinishDirect: %v", err)
	}
	// Refused: backs off, as Dial's refusal does.
	err = m.FinishDirect(&d1, os.NewSyscallError("connect", syscall.ECONNREFUSED))
	de := wantDialError(t, err, ReasonRefused)
	if de.Target != addr || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("refused: %+v", de)
	}
	if _, _, ok, err := m.StartDirect(wsEndpoint(addr)); ok || !errors.Is(err, ErrBackoff) || Reason(err) != ReasonBackoff {
		t.Fatalf("in backoff: ok=%v err=%v", ok, err)
	}
	if _, err := m.Dial(context.Background(), wsEndpoint(addr)); Reason(err) != ReasonBackoff {
		t.Fatalf("Dial in backoff: %v", err)
	}

	// After the window: a timed-out direct dial counts as a timeout, then a
	// success resets the backoff.
	clock.advance(100 * time.Millisecond)
	d3, _, ok, _ := m.StartDirect(wsEndpoint(addr))
	if err := m.FinishDirect(&d3, context.DeadlineExceeded); !ok || Reason(err) != ReasonTimeout {
		t.Fatalf("timeout: ok=%v %v", ok, err)
	}
	clock.advance(200 * time.Millisecond)
	d4, _, ok, _ := m.StartDirect(wsEndpoint(addr))
	if err := m.FinishDirect(&d4, nil); !ok || err != nil {
		t.Fatalf("success: ok=%v %v", ok, err)
	}
	if _, _, ok, err := m.StartDirect(wsEndpoint(addr)); !ok || err != nil {
		t.Fatalf("after success: ok=%v %v, want no backoff", ok, err)
	}

	s := m.Stats()
	if s.DirectDials != 5 || s.DialsOK != 1 || s.DialsFailed[ReasonRefused] != 1 || s.DialsFailed[ReasonCanceled] != 1 ||
		s.DialsFailed[ReasonTimeout] != 1 || s.DialsFailed[ReasonBackoff] != 2 {
		t.Fatalf("stats %+v", s)
	}
}
