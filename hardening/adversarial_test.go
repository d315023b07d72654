package hardening

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socketx/socketx-server/client"
	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/internal/wstest"
	"github.com/socketx/socketx-server/mte"
)

// TestAdversarialSoak: legitimate SDK clients relay steadily while every
// resource attack runs at once against the real binary under a small
// descriptor limit and memory budget:
//
//   - descriptor floods: rounds of idle TCP connections from other
//     processes, several times the limit;
//   - pre-pairing frames: connections holding the largest handshake frame
//     less one byte;
//   - partial messages over the memory budget: paired peers holding 90 % of
//     the largest message;
//   - trickles: paired peers sending a large message in small pieces;
//   - slow readers: paired peers that make the echo answer and never read.
//
// The legitimate clients must see no error at all, the process must never
// exit, and once the attacks stop its descriptors, goroutines and heap
// must come back to where they were. SOCKETX_ADVERSARIAL sets the
// duration (default 20s, the CI run); for the 10-minute run:
//
//	SOCKETX_ADVERSARIAL=10m go test -run AdversarialSoak -timeout 20m -v ./hardening
func TestAdversarialSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("adversarial soak skipped in -short mode")
	}
	dur := 20 * time.Second
	if v := os.Getenv("SOCKETX_ADVERSARIAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("SOCKETX_ADVERSARIAL: %v", err)
		}
		dur = d
	}
	const (
		nofile   = 1024
		maxMsg   = 256 << 10
		budget   = 8 << 20
		steadyN  = 8
		churnN   = 4
		floodN   = 3 * nofile // idle connections per flood round
		prePairN = 100
		holdN    = 40 // × maxMsg: > budget
		trickleN = 4
		slowN    = 8
	)
	p := startLimited(t, nofile, startEcho(t), "LOG_LEVEL=warn", "HANDSHAKE_TIMEOUT=3", "WRITE_TIMEOUT=3",
		"WS_MAX_MESSAGE_SIZE="+strconv.Itoa(maxMsg), "WS_MAX_QUEUED_BYTES="+strconv.Itoa(2*maxMsg), "MEMORY_BUDGET="+strconv.Itoa(budget))
	addr := "127.0.0.1:" + strconv.Itoa(p.Port)
	profile, err := mte.NewProfile(mte.Params{Strength: mte.Strength512, Window: 1000})
	if err != nil {
		t.Fatal(err)
	}
	_ = p.metricsText(t)
	base := p.sample(t)

	var legitSessions, legitMessages, legitRetries atomic.Uint64
	var errs errorLog
	fail := errs.add
	// dial pairs a legitimate session. A connection evicted or shed before
	// it paired is what a client sees under a flood (a closed socket or
	// 1013, "try again later"): it backs off and retries, as the SDK's
	// reconnecting client does; only a session that cannot be set up
	// within 30 s counts as an error.
	dial := func() (*client.Conn, error) {
		deadline := time.Now().Add(30 * time.Second)
		for backoff := 10 * time.Millisecond; ; backoff = min(2*backoff, time.Second) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c, err := client.Dial(ctx, p.URL("/legit"), client.Options{DialTimeout: 5 * time.Second, PairTimeout: 5 * time.Second})
			cancel()
			if err == nil {
				legitSessions.Add(1)
				return c, nil
			}
			if time.Now().After(deadline) {
				return nil, err
			}
			legitRetries.Add(1)
			time.Sleep(backoff)
		}
	}
	exchange := func(c *client.Conn, msg []byte) error {
		if err := roundTrip(c, mte.TypeBinary, msg); err != nil {
			return err
		}
		legitMessages.Add(1)
		return nil
	}

	legitCtx, stopLegit := context.WithCancel(context.Background())
	defer stopLegit()
	var legit sync.WaitGroup
	steady := make([]*client.Conn, steadyN)
	for i := range steady {
		c, err := dial()
		if err != nil {
			t.Fatalf("steady session before the attacks: %v", err)
		}
		steady[i] = c
	}
	for i, c := range steady {
		legit.Go(func() {
			defer c.Close(1000, "")
			msg := bytes.Repeat([]byte{byte(i)}, 1024)
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-legitCtx.Done():
					return
				case <-tick.C:
				}
				if err := exchange(c, msg); err != nil {
					fail(fmt.Errorf("steady session %d: %w", i, err))
					return
				}
			}
		})
	}
	for w := range churnN {
		legit.Go(func() {
			for i := 0; legitCtx.Err() == nil; i++ {
				c, err := dial()
				if err != nil {
					fail(fmt.Errorf("churn dial: %w", err))
					return
				}
				for j := range 3 {
					if err := exchange(c, make([]byte, 64<<(j+w%3))); err != nil {
						fail(fmt.Errorf("churn exchange: %w", err))
						c.Close(1000, "")
						return
					}
				}
				if err := c.Close(1000, ""); err != nil {
					fail(fmt.Errorf("churn close: %w", err))
					return
				}
			}
		})
	}

	// The attacks, each in goroutines that end with attackCtx.
	attackCtx, stopAttacks := context.WithTimeout(context.Background(), dur)
	defer stopAttacks()
	var attacks sync.WaitGroup
	var floodRounds, prePairs, holds, trickles, slows atomic.Uint64
	attacks.Go(func() { // descriptor floods: 1 s rounds from two processes
		for attackCtx.Err() == nil {
			f := startFlood(t, addr, 2, floodN/2)
			floodRounds.Add(1)
			select {
			case <-attackCtx.Done():
			case <-time.After(time.Second):
			}
			f.stop()
		}
	})
	hello := codec.AppendFrameHeader(nil, true, codec.OpBinary, maxHandshakeMessage, &[4]byte{})
	hello = append(hello, make([]byte, maxHandshakeMessage-1)...)
	for range prePairN {
		attacks.Go(func() { // pre-pairing frames held until closed
			for attackCtx.Err() == nil {
				attack(func(c *wstest.Client) {
					c.Upgrade("/")
					c.Write(hello)
					prePairs.Add(1)
					waitClosed(attackCtx, c)
				}, t, addr)
			}
		})
	}
	for range holdN {
		attacks.Go(func() { // partial messages: 90 % of the largest, held
			for attackCtx.Err() == nil {
				attack(func(c *wstest.Client) {
					c.Upgrade("/")
					c.Pair(profile, "/hold")
					frame := wstest.Frame(true, codec.OpBinary, c.Seal(mte.TypeBinary, make([]byte, maxMsg)))
					c.Write(frame[:len(frame)*9/10])
					holds.Add(1)
					waitClosed(attackCtx, c)
				}, t, addr)
			}
		})
	}
	for range trickleN {
		attacks.Go(func() { // trickles: 128 KiB in 16-byte pieces, 1 ms apart
			for attackCtx.Err() == nil {
				attack(func(c *wstest.Client) {
					c.Upgrade("/")
					c.Pair(profile, "/trickle")
					frame := wstest.Frame(true, codec.OpBinary, c.Seal(mte.TypeBinary, make([]byte, 128<<10)))
					for off := 0; off < len(frame) && attackCtx.Err() == nil; off += 16 {
						c.Write(frame[off:min(off+16, len(frame))])
						trickles.Add(1)
						time.Sleep(time.Millisecond)
					}
				}, t, addr)
			}
		})
	}
	for range slowN {
		attacks.Go(func() { // slow readers: echoes requested, never read
			for attackCtx.Err() == nil {
				attack(func(c *wstest.Client) {
					c.Upgrade("/")
					c.Pair(profile, "/slow")
					msg := make([]byte, maxMsg)
					for range 16 {
						c.Send(mte.TypeBinary, msg)
					}
					slows.Add(1)
					waitClosed(attackCtx, c)
				}, t, addr)
			}
		})
	}

	var peak procStats
	started := time.Now()
	every := max(dur/10, 2*time.Second)
	tick := time.NewTicker(every)
	for attackCtx.Err() == nil {
		select {
		case <-attackCtx.Done():
		case <-tick.C:
			s := p.sample(t)
			peak.FDs, peak.HWM, peak.Goroutines = max(peak.FDs, s.FDs), max(peak.HWM, s.HWM), max(peak.Goroutines, s.Goroutines)
			peak.HeapInuse = max(peak.HeapInuse, s.HeapInuse)
			t.Logf("t+%v: legit sessions %d messages %d retries %d; attacks: floods %d, pre-pairing %d, holders %d, trickled segments %d, slow readers %d; proxy %+v",
				time.Since(started).Round(time.Second), legitSessions.Load(), legitMessages.Load(), legitRetries.Load(),
				floodRounds.Load(), prePairs.Load(), holds.Load(), trickles.Load(), slows.Load(), s)
		}
	}
	tick.Stop()
	attacks.Wait()
	during := p.metricsText(t)
	// The legitimate clients go on a little after the attacks, then stop.
	time.Sleep(time.Second)
	stopLegit()
	legit.Wait()
	p.alive(t)

	// Everything closed: descriptors, goroutines and the heap come back.
	var end procStats
	deadline := time.Now().Add(30 * time.Second)
	for {
		end = p.sample(t)
		if end.FDs <= base.FDs && end.Goroutines <= base.Goroutines+2 && end.HeapInuse <= base.HeapInuse+4<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the attacks: %+v, baseline %+v", end, base)
		}
		time.Sleep(100 * time.Millisecond)
	}
	shed := func(reason string) float64 {
		return metricValue(t, during, `socketx_connections_shed_total{reason="`+reason+`"}`)
	}
	t.Logf("adversarial soak %v: legitimate sessions %d, messages %d, retries %d, errors %d; attacks: %d flood rounds of %d idle connections, %d pre-pairing frames, %d partial-message holders, %d trickled 16-byte segments, %d slow readers; shed: memory %v, evicted %v, refused %v, dropped by the acceptor %v; peak: fds %d (limit %d), RSS %d MiB, heap after GC %d KiB, goroutines %d; after: fds %d→%d, heap %d→%d KiB, goroutines %d→%d, RSS %d MiB",
		dur, legitSessions.Load(), legitMessages.Load(), legitRetries.Load(), len(errs.first()),
		floodRounds.Load(), floodN, prePairs.Load(), holds.Load(), trickles.Load(), slows.Load(),
		shed("memory"), shed("pending_evicted"), shed("descriptors"), shed("accept_error"),
		peak.FDs, nofile, peak.HWM>>20, peak.HeapInuse>>10, peak.Goroutines,
		base.FDs, end.FDs, base.HeapInuse>>10, end.HeapInuse>>10, base.Goroutines, end.Goroutines, end.RSS>>20)
	if errs := errs.first(); len(errs) > 0 {
		t.Fatalf("%d legitimate client errors, first: %v", len(errs), errs)
	}
	if legitMessages.Load() == 0 || holds.Load() == 0 || prePairs.Load() == 0 || floodRounds.Load() == 0 {
		t.Fatalf("the soak did not run: %d legitimate messages, %d holders, %d pre-pairing frames, %d flood rounds",
			legitMessages.Load(), holds.Load(), prePairs.Load(), floodRounds.Load())
	}
	if shed("memory") == 0 {
		t.Errorf("%d holders of %d KiB each never exceeded a %d MiB budget", holds.Load(), maxMsg>>10, budget>>20)
	}
}

// attack runs one attacking connection: f drives a wstest client whose
// failures (the proxy closing on it, mostly) end the attempt instead of the
// test, and whose socket is closed when f returns.
func attack(f func(c *wstest.Client), t testing.TB, addr string) {
	tb := &attackerTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer tb.cleanup()
		f(wstest.Dial(tb, addr))
	}()
	<-done
}

// waitClosed blocks until the proxy closes c or ctx ends.
func waitClosed(ctx context.Context, c *wstest.Client) {
	stop := context.AfterFunc(ctx, func() { c.Conn.Close() })
	defer stop()
	_ = c.Conn.SetReadDeadline(time.Time{})
	buf := make([]byte, 4096)
	for {
		if _, err := c.Conn.Read(buf); err != nil {
			return
		}
	}
}

// attackerTB is the testing.TB of an attacking connection: a failure ends
// the attacker's goroutine (runtime.Goexit), not the test, and cleanups run
// when the attempt ends.
type attackerTB struct {
	testing.TB
	mu       sync.Mutex // guards cleanups
	cleanups []func()
}

func (a *attackerTB) Helper()               {}
func (a *attackerTB) Fatal(...any)          { runtime.Goexit() }
func (a *attackerTB) Fatalf(string, ...any) { runtime.Goexit() }
func (a *attackerTB) FailNow()              { runtime.Goexit() }
func (a *attackerTB) Error(...any)          {}
func (a *attackerTB) Errorf(string, ...any) {}
func (a *attackerTB) Log(...any)            {}
func (a *attackerTB) Logf(string, ...any)   {}
func (a *attackerTB) Cleanup(f func()) {
	a.mu.Lock()
	a.cleanups = append(a.cleanups, f)
	a.mu.Unlock()
}
func (a *attackerTB) cleanup() { a.mu.Lock(); defer a.mu.Unlock(); runCleanups(a.cleanups) }
func runCleanups(fs []func()) {
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}
