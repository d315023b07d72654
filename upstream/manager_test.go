package upstream

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/socketx/socketx-server/internal/testupstream"
)

// fakeClock is a Config.Now the test advances by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func wsEndpoint(addr string) Endpoint { return Endpoint{Addr: addr} }

// closedPort returns a 127.0.0.1 address nothing listens on.
func closedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func wantDialError(t *testing.T, err error, reason string) *DialError {
	t.Helper()
	var de *DialError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v (%T), want *DialError", err, err)
	}
	if de.Reason != reason || Reason(err) != reason {
		t.Fatalf("reason = %q / Reason() = %q, want %q (err %v)", de.Reason, Reason(err), reason, err)
	}
	return de
}

func TestDialTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_, _ = io.Copy(c, c)
		_ = c.Close()
	}()
	m := NewManager(Config{}, zap.NewNop())
	c, err := m.Dial(context.Background(), wsEndpoint(ln.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tc, ok := c.(*net.TCPConn)
	if !ok {
		t.Fatalf("conn is %T, want *net.TCPConn", c)
	}
	rc, _ := tc.SyscallConn()
	nodelay := -1
	_ = rc.Control(func(fd uintptr) {
		nodelay, _ = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_NODELAY)
	})
	if nodelay != 1 {
		t.Fatalf("TCP_NODELAY = %d, want 1", nodelay)
	}
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo %q, %v", buf, err)
	}
	if s := m.Stats(); s.DialsOK != 1 || s.DialsFailed[ReasonRefused] != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestDialRefused(t *testing.T) {
	m := NewManager(Config{}, zap.NewNop())
	addr := closedPort(t)
	_, err := m.Dial(context.Background(), wsEndpoint(addr))
	de := wantDialError(t, err, ReasonRefused)
	if de.Target != addr || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("DialError %+v", de)
	}
	if want := "upstream: dial " + addr + ": refused: "; err.Error()[:len(want)] != want {
		t.Fatalf("text %q", err.Error())
	}
	if s := m.Stats(); s.DialsOK != 0 || s.DialsFailed[ReasonRefused] != 1 || len(s.DialsFailed) != len(dialReasons) {
		t.Fatalf("stats %+v", s)
	}
}

func TestDialTimeout(t *testing.T) {
	addr := testupstream.UnansweredAddr(t)
	m := NewManager(Config{DialTimeout: 150 * time.Millisecond}, zap.NewNop())
	_, err := m.Dial(context.Background(), wsEndpoint(addr))
	wantDialError(t, err, ReasonTimeout)

	// A caller deadline shorter than DialTimeout is also a timeout.
	m = NewManager(Config{}, zap.NewNop())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = m.Dial(ctx, wsEndpoint(addr))
	wantDialError(t, err, ReasonTimeout)
}

func TestDialCanceledDoesNotBackOff(t *testing.T) {
	m := NewManager(Config{}, zap.NewNop())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	addr := closedPort(t)
	_, err := m.Dial(ctx, wsEndpoint(addr))
	wantDialError(t, err, ReasonCanceled)
	_, err = m.Dial(context.Background(), wsEndpoint(addr))
	wantDialError(t, err, ReasonRefused) // not "backoff"
}

func TestDialDNS(t *testing.T) {
	res := &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			return nil, errors.New("no DNS in tests")
		},
	}
	m := NewManager(Config{Resolver: res}, zap.NewNop())
	_, err := m.Dial(context.Background(), wsEndpoint("no-such-host.invalid:80"))
	de := wantDialError(t, err, ReasonDNS)
	var dnsErr *net.DNSError
	if de.Target != "no-such-host.invalid:80" || !errors.As(err, &dnsErr) {
		t.Fatalf("DialError %+v", de)
	}
}

func TestDialBackoff(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	m := NewManager(Config{BackoffBase: 100 * time.Millisecond, BackoffMax: 400 * time.Millisecond, Now: clock.now}, zap.NewNop())
	addr := closedPort(t)
	ep := wsEndpoint(addr)
	dial := func() error {
		c, err := m.Dial(context.Background(), ep)
		if c != nil {
			_ = c.Close()
		}
		return err
	}
	until := func() time.Duration {
		st := m.addr(addr)
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.until.Sub(clock.now())
	}

	steps := []struct {
		advance time.Duration
		reason  string
		window  time.Duration // remaining backoff after the dial
	}{
		{0, ReasonRefused, 100 * time.Millisecond},
		{0, ReasonBackoff, 100 * time.Millisecond},
		{99 * time.Millisecond, ReasonBackoff, time.Millisecond},
		{time.Millisecond, ReasonRefused, 200 * time.Millisecond},
		{199 * time.Millisecond, ReasonBackoff, time.Millisecond},
		{time.Millisecond, ReasonRefused, 400 * time.Millisecond},
		{400 * time.Millisecond, ReasonRefused, 400 * time.Millisecond}, // capped
	}
	for i, s := range steps {
		clock.advance(s.advance)
		err := dial()
		if Reason(err) != s.reason || until() != s.window {
			t.Fatalf("step %d: %v (reason %q), window %v; want %q, %v", i, err, Reason(err), until(), s.reason, s.window)
		}
		if s.reason == ReasonBackoff && (!errors.Is(err, ErrBackoff) ||
			err.Error() != "upstream: dial "+addr+": backoff: upstream: address in backoff after failed dial") {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if st := m.Stats(); st.DialsFailed[ReasonRefused] != 4 || st.DialsFailed[ReasonBackoff] != 3 {
		t.Fatalf("stats %+v", st)
	}

	// The upstream comes back: the first dial after the window succeeds and
	// resets the backoff, so the next failure waits only BackoffBase.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("could not rebind %s: %v", addr, err)
	}
	clock.advance(400 * time.Millisecond)
	if err := dial(); err != nil {
		t.Fatalf("dial after window: %v", err)
	}
	if err := dial(); err != nil {
		t.Fatalf("dial after success: %v", err)
	}
	_ = ln.Close()
	if err := dial(); Reason(err) != ReasonRefused || until() != 100*time.Millisecond {
		t.Fatalf("after reset: %v, window %v", err, until())
	}
}

func TestDialBackoffCountsConcurrentFailuresOnce(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	m := NewManager(Config{BackoffBase: 100 * time.Millisecond, Now: clock.now}, zap.NewNop())
	st := m.addr("a:1")
	gen := st.gen
	for range 5 { // five dials started together, all failing
		m.record(st, gen, Endpoint{Addr: "a:1"}, ReasonRefused)
	}
	if st.failures != 1 || st.until.Sub(clock.now()) != 100*time.Millisecond {
		t.Fatalf("failures %d, window %v", st.failures, st.until.Sub(clock.now()))
	}
}

func TestDialConcurrencyCap(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	capped := ln.Addr().String()

	m := NewManager(Config{MaxConcurrentDials: 1}, zap.NewNop())
	// The first dial to capped holds its slot until release. (A non-blocking
	// send on an unbuffered channel here once hung CI for 15 minutes: when
	// the dial got there before the test was receiving, it signalled
	// nothing.)
	entered, release := make(chan struct{}), make(chan struct{})
	var hold sync.Once
	real := m.dial
	m.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == capped {
			hold.Do(func() {
				close(entered)
				<-release
			})
		}
		return real(ctx, network, addr)
	}

	first := make(chan error, 1)
	go func() {
		c, err := m.Dial(context.Background(), wsEndpoint(capped))
		if c != nil {
			_ = c.Close()
		}
		first <- err
	}()
	<-entered // the only slot for capped is taken

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = m.Dial(ctx, wsEndpoint(capped))
	wantDialError(t, err, ReasonTooManyDials)
	if !errors.Is(err, ErrTooManyDials) {
		t.Fatalf("err %v", err)
	}

	// Another address has its own slots.
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	c, err := m.Dial(context.Background(), wsEndpoint(other.Addr().String()))
	if err != nil {
		t.Fatalf("other addr: %v", err)
	}
	_ = c.Close()

	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first dial: %v", err)
	}
	// The slot is free again and too_many_dials did not start a backoff.
	c, err = m.Dial(context.Background(), wsEndpoint(capped))
	if err != nil {
		t.Fatalf("dial after release: %v", err)
	}
	_ = c.Close()
	if s := m.Stats(); s.DialsOK != 3 || s.DialsFailed[ReasonTooManyDials] != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestReason(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{nil, "ok"},
		{&DialError{Reason: ReasonTLS, Err: io.EOF}, "tls"},
		{ErrBackoff, "backoff"},
		{ErrTooManyDials, "too_many_dials"},
		{io.EOF, "other"},
	}
	for _, tc := range cases {
		if got := Reason(tc.err); got != tc.want {
			t.Errorf("Reason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{}, ""},
		{Config{BackoffBase: time.Minute}, ""},
		{Config{DialTimeout: -1}, "upstream: DialTimeout must not be negative"},
		{Config{MaxConcurrentDials: -1}, "upstream: MaxConcurrentDials must not be negative"},
		{Config{BackoffBase: -1}, "upstream: BackoffBase must not be negative"},
		{Config{BackoffBase: time.Second, BackoffMax: time.Millisecond}, "upstream: BackoffMax must be at least BackoffBase"},
		{Config{BridgeBufferSize: 100}, "upstream: BridgeBufferSize must be between 1 KiB and 1 MiB"},
		{Config{BridgeBufferSize: 2 << 20}, "upstream: BridgeBufferSize must be between 1 KiB and 1 MiB"},
	}
	for _, tc := range cases {
		err := tc.cfg.Validate()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.cfg, got, tc.want)
		}
	}
}
