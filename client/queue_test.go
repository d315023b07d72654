package client

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/socketx/socketx-server/mte"
)

// The queue tests run against the fake server: they observe the queue
// through the unexported ReconnectOptions.queued hook. The reconnect tests
// against the real proxy are in internal/clientproxytest.

// attemptEvent is one OnReconnecting call.
type attemptEvent struct {
	attempt int
	err     error
}

// undeliveredEvent is one OnUndelivered call.
type undeliveredEvent struct {
	msgs []Message
	err  error
}

// recorder turns Events into channels the test reads.
type recorder struct {
	reconnecting chan attemptEvent
	reconnected  chan mte.EEID
	undelivered  chan undeliveredEvent
}

func newRecorder() *recorder {
	return &recorder{
		reconnecting: make(chan attemptEvent, 1000),
		reconnected:  make(chan mte.EEID, 100),
		undelivered:  make(chan undeliveredEvent, 10),
	}
}

func (rec *recorder) events() Events {
	return Events{
		OnReconnecting: func(attempt int, err error) { rec.reconnecting <- attemptEvent{attempt, err} },
		OnReconnected:  func(eeid mte.EEID) { rec.reconnected <- eeid },
		OnUndelivered:  func(msgs []Message, err error) { rec.undelivered <- undeliveredEvent{msgs, err} },
	}
}

// next receives one event, or fails the test once ctx ends (a client
// that gave up sends nothing more, and a bare receive would hang).
func next[T any](t *testing.T, ctx context.Context, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatalf("no %s event before the test's deadline: %v", what, ctx.Err())
		panic("unreachable")
	}
}

// fastRetry keeps backoff short so tests run quickly; the schedule is still
// the real full-jitter one.
func fastRetry(rec *recorder) ReconnectOptions {
	return ReconnectOptions{BaseDelay: 2 * time.Millisecond, MaxDelay: 20 * time.Millisecond, Events: rec.events()}
}

// dialReconnecting uses 2 s attempt timeouts: a redial that lands in a
// stopping proxy's listener backlog (these tests restart proxies on the same
// port) must give up and retry well inside the 20 s test context, not wait
// out the 10 s defaults.
func dialReconnecting(t *testing.T, ctx context.Context, url string, ro ReconnectOptions) *ReconnectingConn {
	t.Helper()
	r, err := DialReconnecting(ctx, url, Options{DialTimeout: 2 * time.Second, PairTimeout: 2 * time.Second}, ro)
	if err != nil {
		t.Fatalf("DialReconnecting: %v", err)
	}
	t.Cleanup(func() { r.Close(1000, "") })
	return r
}

func expectMessage(t *testing.T, ctx context.Context, r *ReconnectingConn, typ mte.MessageType, data string) {
	t.Helper()
	gt, got, err := r.Receive(ctx)
	if err != nil || gt != typ || string(got) != data {
		t.Fatalf("Receive = %v %q %v, want %v %q", gt, got, err, typ, data)
	}
}

// TestQueueFullAndCloseReportsUndelivered: QueueLimit messages are accepted
// while disconnected, the next is refused with ErrQueueFull; Close reports
// the queued ones, in order, to OnUndelivered and fails the blocked Send.
func TestQueueFullAndCloseReportsUndelivered(t *testing.T) {
	ctx := testCtx(t)
	p := newFakeServer(t, mte.Params{Strength: 512}, echo)
	rec := newRecorder()
	ro := fastRetry(rec)
	ro.QueueLimit = 3
	queued := make(chan int, 10)
	ro.queued = func(n int) { queued <- n }
	r := dialReconnecting(t, ctx, p.url, ro)
	disconnect(t, p, rec)

	for i := range 2 {
		if err := r.SendAsync(mte.TypeBinary, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		<-queued
	}
	blocked := make(chan error, 1)
	go func() { blocked <- r.Send(ctx, mte.TypeText, []byte("waiting")) }()
	if n := <-queued; n != 3 {
		t.Fatalf("queue length %d", n)
	}
	if err := r.SendAsync(mte.TypeText, []byte("over")); err != ErrQueueFull {
		t.Fatalf("SendAsync at the limit = %v", err)
	}
	if err := r.Send(ctx, mte.TypeText, []byte("over")); err != ErrQueueFull {
		t.Fatalf("Send at the limit = %v", err)
	}
	if err := r.Close(1000, ""); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := <-blocked; err != ErrClosed {
		t.Fatalf("blocked Send = %v, want ErrClosed", err)
	}
	ev := next(t, ctx, rec.undelivered, "undelivered")
	want := []Message{{mte.TypeBinary, []byte{0}}, {mte.TypeBinary, []byte{1}}}
	if ev.err != ErrClosed || !reflect.DeepEqual(ev.msgs, want) {
		t.Fatalf("OnUndelivered(%v, %v), want %v ErrClosed", ev.msgs, ev.err, want)
	}
	if _, _, err := r.Receive(ctx); err != ErrClosed {
		t.Fatalf("Receive = %v", err)
	}
}

// TestMaxAttemptsReportsUndelivered: after MaxAttempts failed dials the
// connection ends with *ReconnectError; queued SendAsync messages go to
// OnUndelivered and the blocked Send returns the same error.
func TestMaxAttemptsReportsUndelivered(t *testing.T) {
	ctx := testCtx(t)
	p := newFakeServer(t, mte.Params{Strength: 512}, echo)
	rec := newRecorder()
	ro := fastRetry(rec)
	ro.MaxAttempts = 3
	queued := make(chan int, 10)
	ro.queued = func(n int) { queued <- n }
	// Hold the first attempt until the messages are queued.
	proceed := make(chan struct{})
	ro.Events.OnReconnecting = func(attempt int, err error) {
		rec.reconnecting <- attemptEvent{attempt, err}
		if attempt == 1 {
			<-proceed
		}
	}
	r := dialReconnecting(t, ctx, p.url, ro)
	msgs := r.Messages(ctx)
	p.stop()
	if ev := next(t, ctx, rec.reconnecting, "reconnecting"); ev.attempt != 1 {
		t.Fatalf("attempt %d", ev.attempt)
	}
	r.SendAsync(mte.TypeText, []byte("a"))
	r.SendAsync(mte.TypeText, []byte("b"))
	blocked := make(chan error, 1)
	go func() { blocked <- r.Send(ctx, mte.TypeText, []byte("c")) }()
	for range 3 {
		<-queued
	}
	close(proceed)

	for m := range msgs {
		t.Fatalf("unexpected message %+v", m)
	}
	var re *ReconnectError
	if !errors.As(r.Err(), &re) || re.Attempts != 3 || !DefaultShouldReconnect(re.Err) {
		t.Fatalf("Err = %v, want *ReconnectError after 3 attempts", r.Err())
	}
	if err := <-blocked; err != r.Err() {
		t.Fatalf("blocked Send = %v", err)
	}
	ev := next(t, ctx, rec.undelivered, "undelivered")
	want := []Message{{mte.TypeText, []byte("a")}, {mte.TypeText, []byte("b")}}
	if ev.err != r.Err() || !reflect.DeepEqual(ev.msgs, want) {
		t.Fatalf("OnUndelivered(%v, %v)", ev.msgs, ev.err)
	}
	for n := 2; n <= 3; n++ {
		if ev := next(t, ctx, rec.reconnecting, "reconnecting"); ev.attempt != n {
			t.Fatalf("attempt %d, want %d", ev.attempt, n)
		}
	}
	if len(rec.reconnecting) != 0 || len(rec.reconnected) != 0 {
		t.Fatal("extra events")
	}
}

// TestSendWithdrawnOnCancel: a Send blocked by a reconnect returns
// ctx.Err() when its context ends, and its message is not written later.
func TestSendWithdrawnOnCancel(t *testing.T) {
	ctx := testCtx(t)
	p := newFakeServer(t, mte.Params{Strength: 512}, echo)
	rec := newRecorder()
	ro := fastRetry(rec)
	queued := make(chan int, 10)
	ro.queued = func(n int) { queued <- n }
	r := dialReconnecting(t, ctx, p.url, ro)
	disconnect(t, p, rec)

	sctx, cancel := context.WithCancel(ctx)
	blocked := make(chan error, 1)
	go func() { blocked <- r.Send(sctx, mte.TypeText, []byte("withdrawn")) }()
	<-queued
	cancel()
	if err := <-blocked; err != context.Canceled {
		t.Fatalf("Send = %v, want context.Canceled", err)
	}
	if err := r.SendAsync(mte.TypeText, []byte("kept")); err != nil {
		t.Fatal(err)
	}
	first := make(chan string, 1)
	newFakeServerAt(t, p.addr(), mte.Params{Strength: 512}, nil, func(f *fakeConn) {
		if _, err := f.pair(); err != nil {
			f.t.Errorf("pair: %v", err)
			return
		}
		typ, pt, err := f.recv()
		if err != nil {
			f.t.Errorf("recv: %v", err)
			return
		}
		first <- string(pt)
		f.send(typ, pt)
		f.readClose()
	})
	expectMessage(t, ctx, r, mte.TypeText, "kept")
	if got := <-first; got != "kept" {
		t.Fatalf("first message on the new socket %q, want \"kept\"", got)
	}
}

// disconnect stops the server and waits for the first reconnect attempt, so
// the client is known to be disconnected; the stopped port refuses dials.
func disconnect(t *testing.T, s *fakeServer, rec *recorder) {
	t.Helper()
	s.stop()
	if ev := next(t, t.Context(), rec.reconnecting, "reconnecting"); ev.attempt != 1 {
		t.Fatalf("attempt = %d", ev.attempt)
	}
}
