package hardening

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socketx/socketx-server/client"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/perf/wsecho"
)

// TestSoak churns connections (connect, pair, exchange, close) against the
// real binary in front of an event-loop echo, with steady traffic on
// long-lived connections, and checks the proxy process for leaks.
//
// SOCKETX_SOAK sets the duration (default 15s, the CI run) and
// SOCKETX_SOAK_CHURN the number of churning workers (default 40; each
// worker holds one session at a time). Example:
//
//	SOCKETX_SOAK=10m SOCKETX_SOAK_CHURN=400 go test -run Soak -timeout 20m ./hardening
func TestSoak(t *testing.T) {
	dur := 15 * time.Second
	if v := os.Getenv("SOCKETX_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("SOCKETX_SOAK: %v", err)
		}
		dur = d
	}
	churners := 40
	if v := os.Getenv("SOCKETX_SOAK_CHURN"); v != "" {
		fmt.Sscan(v, &churners)
	}
	const steady = 20
	if testing.Short() {
		t.Skip("soak skipped in -short mode")
	}

	echo := wsecho.New(wsecho.Config{Addr: "127.0.0.1:0", Loops: 1})
	go func() { _ = echo.Run() }()
	<-echo.Ready()
	t.Cleanup(func() { _ = echo.Stop(context.Background()) })

	p := startSocketx(t, `DOMAIN_MAP={"*":{"upstream":"`+echo.URL()+`","allowedOrigins":["*"]}}`, "LOG_LEVEL=warn", "DRAIN_TIMEOUT=1s")
	base := p.sample(t)
	t.Logf("baseline: %+v", base)

	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var sessions, messages atomic.Uint64
	var errs errorLog
	fail := errs.add
	dial := func() (*client.Conn, error) {
		dctx, dcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer dcancel()
		return client.Dial(dctx, p.URL("/soak"), client.Options{})
	}
	exchange := func(c *client.Conn, msg []byte) error {
		if err := roundTrip(c, mte.TypeBinary, msg); err != nil {
			return err
		}
		messages.Add(1)
		return nil
	}

	var wg sync.WaitGroup
	for w := range steady {
		wg.Go(func() {
			c, err := dial()
			if err != nil {
				fail(fmt.Errorf("steady dial: %w", err))
				return
			}
			sessions.Add(1)
			defer c.Close(1000, "")
			msg := make([]byte, 256+w)
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				if err := exchange(c, msg); err != nil {
					fail(fmt.Errorf("steady exchange: %w", err))
					return
				}
			}
		})
	}
	for w := range churners {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				c, err := dial()
				if err != nil {
					fail(fmt.Errorf("churn dial: %w", err))
					return
				}
				sessions.Add(1)
				for j := range 1 + (w+i)%5 {
					if err := exchange(c, make([]byte, 16<<(j%8))); err != nil {
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

	// Sample the proxy while the load runs.
	var samples []procStats
	every := max(dur/10, time.Second)
	tick := time.NewTicker(every)
sampling:
	for {
		select {
		case <-ctx.Done():
			break sampling
		case <-tick.C:
			s := p.sample(t)
			samples = append(samples, s)
			t.Logf("t+%v: sessions %d messages %d proxy %+v", time.Duration(len(samples))*every, sessions.Load(), messages.Load(), s)
		}
	}
	tick.Stop()
	wg.Wait()

	// Everything closed: the proxy must come back to its baseline.
	var end procStats
	deadline := time.Now().Add(15 * time.Second)
	for {
		end = p.sample(t)
		if end.FDs <= base.FDs && end.Goroutines <= base.Goroutines+2 {
			break
		}
		if time.Now().After(deadline) {
			g := p.Get(t, "/debug/pprof/goroutine?debug=1")
			t.Fatalf("after the soak: %+v, baseline %+v; goroutines:\n%s", end, base, g[:min(len(g), 6000)])
		}
		time.Sleep(100 * time.Millisecond)
	}
	var peakG int
	var warm int64
	for i, s := range samples {
		peakG = max(peakG, s.Goroutines)
		if i == len(samples)/3 {
			warm = s.HeapInuse
		}
	}
	t.Logf("soak %v: %d sessions served, %d messages echoed (x2 relayed), peak RSS %d MiB, goroutines %d→peak %d→%d, heap in use after GC %d KiB (warm) → %d KiB (end), fds %d→%d",
		dur, sessions.Load(), messages.Load(), end.HWM>>20, base.Goroutines, peakG, end.Goroutines, warm>>10, end.HeapInuse>>10, base.FDs, end.FDs)
	if errs := errs.first(); len(errs) > 0 {
		t.Fatalf("%d errors, first: %v", len(errs), errs)
	}
	if sessions.Load() < uint64(steady+churners) {
		t.Fatalf("only %d sessions", sessions.Load())
	}
	if warm > 0 && end.HeapInuse > warm+8<<20 {
		t.Fatalf("heap grew: %d KiB after warm-up, %d KiB at the end", warm>>10, end.HeapInuse>>10)
	}
}
