package clientproxytest

import (
	"context"
	"errors"
	"fmt"
	"github.com/socketx/socketx-server/client"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/socketx/socketx-server/internal/enginetest"
	"github.com/socketx/socketx-server/internal/testupstream"
	"github.com/socketx/socketx-server/mte"
)

// attemptEvent is one OnReconnecting call.
type attemptEvent struct {
	attempt int
	err     error
}

// undeliveredEvent is one OnUndelivered call.
type undeliveredEvent struct {
	msgs []client.Message
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

func (rec *recorder) events() client.Events {
	return client.Events{
		OnReconnecting: func(attempt int, err error) { rec.reconnecting <- attemptEvent{attempt, err} },
		OnReconnected:  func(eeid mte.EEID) { rec.reconnected <- eeid },
		OnUndelivered:  func(msgs []client.Message, err error) { rec.undelivered <- undeliveredEvent{msgs, err} },
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
func fastRetry(rec *recorder) client.ReconnectOptions {
	return client.ReconnectOptions{BaseDelay: 2 * time.Millisecond, MaxDelay: 20 * time.Millisecond, Events: rec.events()}
}

// dialReconnecting uses 2 s attempt timeouts: a redial that lands in a
// stopping proxy's listener backlog (these tests restart proxies on the same
// port) must give up and retry well inside the 20 s test context, not wait
// out the 10 s defaults.
func dialReconnecting(t *testing.T, ctx context.Context, url string, ro client.ReconnectOptions) *client.ReconnectingConn {
	t.Helper()
	r, err := client.DialReconnecting(ctx, url, client.Options{DialTimeout: 2 * time.Second, PairTimeout: 2 * time.Second}, ro)
	if err != nil {
		t.Fatalf("DialReconnecting: %v", err)
	}
	t.Cleanup(func() { r.Close(1000, "") })
	return r
}

func expectMessage(t *testing.T, ctx context.Context, r *client.ReconnectingConn, typ mte.MessageType, data string) {
	t.Helper()
	gt, got, err := r.Receive(ctx)
	if err != nil || gt != typ || string(got) != data {
		t.Fatalf("Receive = %v %q %v, want %v %q", gt, got, err, typ, data)
	}
}

func expectCloseError(t *testing.T, err error, code uint16, reason string) {
	t.Helper()
	var ce *client.CloseError
	if !errors.As(err, &ce) || ce.Code != code || ce.Reason != reason {
		t.Fatalf("error = %v, want *CloseError %d %q", err, code, reason)
	}
}

// TestReconnectAfterProxyRestart: the proxy stops (clients get 1001) and a
// new one starts on the same port; the client pairs again with a new EEID
// and writes, in order, the messages queued while it was disconnected.
func TestReconnectAfterProxyRestart(t *testing.T) {
	ctx := testCtx(t)
	echo := testupstream.NewEcho(t)
	p1 := startRealProxy(t, echo.URL, proxyConfig{})
	rec := newRecorder()
	r := dialReconnecting(t, ctx, p1.URL+"/chat", fastRetry(rec))
	eeid1 := r.EEID()
	if eeid1 == (mte.EEID{}) {
		t.Fatal("zero EEID")
	}
	if err := r.Send(ctx, client.Text, []byte("before")); err != nil {
		t.Fatal(err)
	}
	expectMessage(t, ctx, r, client.Text, "before")

	p1.Stop()
	ev := next(t, ctx, rec.reconnecting, "reconnecting")
	if ev.attempt != 1 {
		t.Fatalf("first attempt = %d", ev.attempt)
	}
	expectCloseError(t, ev.err, 1001, "going away")
	if got := r.EEID(); got != (mte.EEID{}) {
		t.Fatalf("EEID while reconnecting = %v, want zero", got)
	}

	// Queued while disconnected: ten SendAsync, then one blocking Send.
	for i := range 10 {
		if err := r.SendAsync(client.Text, fmt.Appendf(nil, "q%d", i)); err != nil {
			t.Fatalf("SendAsync %d: %v", i, err)
		}
	}
	sent := make(chan error, 1)
	go func() { sent <- r.Send(ctx, client.Binary, []byte{0xff, 0x00}) }()

	p2 := startRealProxy(t, echo.URL, proxyConfig{addr: p1.Addr})
	eeid2 := next(t, ctx, rec.reconnected, "reconnected")
	if eeid2 == eeid1 || eeid2 == (mte.EEID{}) {
		t.Fatalf("EEID after reconnect = %v (before %v)", eeid2, eeid1)
	}
	for i := range 10 {
		expectMessage(t, ctx, r, client.Text, fmt.Sprintf("q%d", i))
	}
	expectMessage(t, ctx, r, client.Binary, "\xff\x00")
	if err := <-sent; err != nil {
		t.Fatalf("blocked Send = %v", err)
	}
	if got := r.EEID(); got != eeid2 {
		t.Fatalf("EEID = %v, want %v", got, eeid2)
	}
	if st := p2.Server.Stats(); st.Paired != 1 || st.Decoded != 11 || st.Encoded != 11 {
		t.Fatalf("new proxy: paired %d decoded %d encoded %d, want 1 11 11", st.Paired, st.Decoded, st.Encoded)
	}
	// Every attempt after the first failed to connect to the stopped port.
	for n := 2; len(rec.reconnecting) > 0; n++ {
		if ev := next(t, ctx, rec.reconnecting, "reconnecting"); ev.attempt != n || client.DefaultShouldReconnect(ev.err) != true {
			t.Fatalf("attempt %d: %+v", n, ev)
		}
	}
	if err := r.Close(1000, "bye"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, _, err := r.Receive(ctx); err != client.ErrClosed {
		t.Fatalf("Receive after Close = %v", err)
	}
	if err := r.Send(ctx, client.Text, nil); err != client.ErrClosed {
		t.Fatalf("Send after Close = %v", err)
	}
	if err := r.Close(1000, ""); err != client.ErrClosed {
		t.Fatalf("second Close = %v", err)
	}
	if len(rec.undelivered) != 0 {
		t.Fatalf("undelivered: %+v", <-rec.undelivered)
	}
}

// TestReconnectAfterUpstreamDrop: the upstream drops TCP after each message;
// the proxy closes the client with 1011, and the client pairs again, each
// time starting again at attempt 1.
func TestReconnectAfterUpstreamDrop(t *testing.T) {
	ctx := testCtx(t)
	got := make(chan testupstream.Message, 10)
	up := testupstream.NewAbrupt(t, testupstream.WithMessages(got))
	p := startRealProxy(t, up.URL, proxyConfig{})
	rec := newRecorder()
	r := dialReconnecting(t, ctx, p.URL+"/feed", fastRetry(rec))
	eeids := []mte.EEID{r.EEID()}
	for i := range 2 {
		if err := r.Send(ctx, client.Text, fmt.Appendf(nil, "m%d", i)); err != nil {
			t.Fatal(err)
		}
		if m := <-got; m.Type != websocket.MessageText || string(m.Data) != fmt.Sprintf("m%d", i) {
			t.Fatalf("upstream got %v %q", m.Type, m.Data)
		}
		ev := next(t, ctx, rec.reconnecting, "reconnecting")
		if ev.attempt != 1 {
			t.Fatalf("attempt = %d", ev.attempt)
		}
		expectCloseError(t, ev.err, 1011, "upstream connection lost")
		eeid := next(t, ctx, rec.reconnected, "reconnected")
		for _, e := range eeids {
			if e == eeid {
				t.Fatalf("EEID %v reused", eeid)
			}
		}
		eeids = append(eeids, eeid)
	}
	if n := len(up.Requests()); n != 3 {
		t.Fatalf("upstream upgrades = %d, want 3", n)
	}
	if st := p.Server.Stats(); st.Paired != 3 || st.Decoded != 2 {
		t.Fatalf("paired %d decoded %d, want 3 2", st.Paired, st.Decoded)
	}
}

// TestNoReconnectOnPolicyClose: 1008 is not retried by default: the
// connection ends with the *CloseError; a custom ShouldReconnect can retry it.
func TestNoReconnectOnPolicyClose(t *testing.T) {
	ctx := testCtx(t)
	up := testupstream.NewCloser(t, 1008, "policy violated")
	p := startRealProxy(t, up.URL, proxyConfig{})

	t.Run("default", func(t *testing.T) {
		rec := newRecorder()
		r := dialReconnecting(t, ctx, p.URL, fastRetry(rec))
		msgs := r.Messages(ctx)
		if err := r.Send(ctx, client.Text, []byte("x")); err != nil {
			t.Fatal(err)
		}
		for m := range msgs {
			t.Fatalf("unexpected message %+v", m)
		}
		expectCloseError(t, r.Err(), 1008, "upstream: policy violated")
		<-r.Done()
		if err := r.Send(ctx, client.Text, nil); r.Err() != err {
			t.Fatalf("Send after end = %v", err)
		}
		if err := r.SendAsync(client.Text, nil); r.Err() != err {
			t.Fatalf("SendAsync after end = %v", err)
		}
		if len(rec.reconnecting) != 0 || len(rec.undelivered) != 0 {
			t.Fatalf("events: %d reconnecting, %d undelivered", len(rec.reconnecting), len(rec.undelivered))
		}
		if err := r.Close(1000, ""); err != client.ErrClosed {
			t.Fatalf("Close after end = %v", err)
		}
	})
	t.Run("custom", func(t *testing.T) {
		rec := newRecorder()
		ro := fastRetry(rec)
		var seen []error
		ro.ShouldReconnect = func(err error) bool { seen = append(seen, err); return true }
		r := dialReconnecting(t, ctx, p.URL, ro)
		if err := r.Send(ctx, client.Text, []byte("x")); err != nil {
			t.Fatal(err)
		}
		ev := next(t, ctx, rec.reconnecting, "reconnecting")
		expectCloseError(t, ev.err, 1008, "upstream: policy violated")
		next(t, ctx, rec.reconnected, "reconnected")
		r.Close(1000, "")
		if len(seen) != 1 || seen[0] != ev.err {
			t.Fatalf("ShouldReconnect saw %v", seen)
		}
	})
}

// disconnect stops the proxy and waits for the first reconnect attempt, so
// the client is known to be disconnected; the stopped port refuses dials.
func disconnect(t *testing.T, p *enginetest.Proxy, rec *recorder) {
	t.Helper()
	p.Stop()
	if ev := next(t, t.Context(), rec.reconnecting, "reconnecting"); ev.attempt != 1 {
		t.Fatalf("attempt = %d", ev.attempt)
	}
}

// TestConcurrentSendersDuringReconnect: 8 goroutines send while the proxy
// restarts (half with Send, half with SendAsync); every message arrives
// exactly once on the new socket, each goroutine's in its order.
func TestConcurrentSendersDuringReconnect(t *testing.T) {
	const goroutines, perG = 8, 40
	ctx := testCtx(t)
	echo := testupstream.NewEcho(t)
	p := startRealProxy(t, echo.URL, proxyConfig{})
	rec := newRecorder()
	r := dialReconnecting(t, ctx, p.URL, fastRetry(rec))
	disconnect(t, p, rec)

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				msg := fmt.Appendf(nil, "g%d m%d", g, i)
				var err error
				if g%2 == 0 {
					err = r.Send(ctx, client.Text, msg)
				} else {
					err = r.SendAsync(client.Binary, msg)
				}
				if err != nil {
					t.Errorf("goroutine %d message %d: %v", g, i, err)
					return
				}
			}
		})
	}
	p2 := startRealProxy(t, echo.URL, proxyConfig{addr: p.Addr})
	next := make([]int, goroutines)
	msgs := r.Messages(ctx)
	for n := 0; n < goroutines*perG; n++ {
		m, ok := <-msgs
		if !ok {
			t.Fatalf("Messages closed after %d: %v", n, r.Err())
		}
		var g, i int
		if _, err := fmt.Sscanf(string(m.Data), "g%d m%d", &g, &i); err != nil || m.Type != mte.MessageType(g%2) {
			t.Fatalf("message %d: %v %q", n, m.Type, m.Data)
		}
		if i != next[g] {
			t.Fatalf("goroutine %d: message %d, want %d", g, i, next[g])
		}
		next[g]++
	}
	wg.Wait()
	if st := p2.Server.Stats(); st.Decoded != goroutines*perG || st.Paired != 1 {
		t.Fatalf("decoded %d paired %d", st.Decoded, st.Paired)
	}
	if n := len(rec.reconnected); n != 1 {
		t.Fatalf("reconnected %d times", n)
	}
}

// TestContextEndsConnection: the DialReconnecting context is the
// connection's lifetime: when it ends the socket closes with 1001 and the
// connection ends with ctx.Err().
func TestContextEndsConnection(t *testing.T) {
	ctx := testCtx(t)
	echo := testupstream.NewEcho(t)
	p := startRealProxy(t, echo.URL, proxyConfig{})
	life, cancel := context.WithCancel(ctx)
	r, err := client.DialReconnecting(life, p.URL, client.Options{}, client.ReconnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	msgs := r.Messages(ctx)
	cancel()
	for m := range msgs {
		t.Fatalf("unexpected %+v", m)
	}
	if r.Err() != context.Canceled {
		t.Fatalf("Err = %v", r.Err())
	}
	if e := <-echo.Ended(); e.Code != 1001 || e.Reason != "going away" {
		t.Fatalf("upstream saw %d %q", e.Code, e.Reason)
	}
	if err := r.SendAsync(client.Text, nil); err != context.Canceled {
		t.Fatalf("SendAsync = %v", err)
	}
}

// TestMessagesStopResume: stopping a Messages channel with its context loses
// no message; Receive and a new Messages continue the stream.
func TestMessagesStopResume(t *testing.T) {
	ctx := testCtx(t)
	p := startRealProxy(t, testupstream.NewEcho(t).URL, proxyConfig{})
	r := dialReconnecting(t, ctx, p.URL, client.ReconnectOptions{})
	for _, s := range []string{"a", "b", "c"} {
		if err := r.Send(ctx, client.Text, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	mctx, cancel := context.WithCancel(ctx)
	msgs := r.Messages(mctx)
	got := []string{string((<-msgs).Data)}
	cancel()
	for m := range msgs { // the pump may still hand over the message in hand
		got = append(got, string(m.Data))
	}
	if r.Err() != context.Canceled {
		t.Fatalf("Err = %v", r.Err())
	}
	if len(got) < 3 {
		_, p, err := r.Receive(ctx) // a message the pump read is kept for Receive
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(p))
	}
	if len(got) < 3 {
		got = append(got, string((<-r.Messages(ctx)).Data))
	}
	if !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Fatalf("got %q", got)
	}
}
