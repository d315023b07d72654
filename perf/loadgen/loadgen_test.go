package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/socketx/socketx-server/engine"
	"github.com/socketx/socketx-server/internal/enginetest"
	"github.com/socketx/socketx-server/internal/testwait"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/perf/wsecho"
	"github.com/socketx/socketx-server/upstream"
)

// TestMain lets RunWorkers re-execute the test binary as a worker.
func TestMain(m *testing.M) {
	if spec := os.Getenv(WorkerEnv); spec != "" {
		if err := ServeWorker(spec, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func startEcho(t *testing.T) *wsecho.Server {
	t.Helper()
	srv := wsecho.New(wsecho.Config{Addr: "127.0.0.1:0", Loops: 1})
	done := make(chan error, 1)
	go func() { done <- srv.Run() }()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("echo Run: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
	})
	return srv
}

// startProxy runs the engine in-process (internal/enginetest) in front of
// the echo at echoURL.
func startProxy(t *testing.T, echoURL string, mutate ...func(*engine.Config)) *engine.Server {
	t.Helper()
	return enginetest.Start(t, enginetest.Options{
		DomainMap: enginetest.EchoMap(echoURL),
		MTE:       mte.Params{Strength: 512},
		Config: func(cfg *engine.Config) {
			for _, m := range mutate {
				m(cfg)
			}
		},
		Upstream: upstream.Config{DialTimeout: 3 * time.Second},
		Log:      zap.NewNop(),
	}).Server
}

// A 2-second SocketX run through an in-process proxy and echo: every
// connection pairs, messages flow, nothing fails, and the proxy decoded and
// encoded exactly the messages the bench counted.
func TestSocketXThroughProxy(t *testing.T) {
	echo := startEcho(t)
	proxy := startProxy(t, echo.URL())
	url := fmt.Sprintf("ws://%s/bench", proxy.Addr())
	var progress int
	res, err := Run(context.Background(), Config{
		URL: url, Conns: 8, Inflight: 4, Size: 64, Duration: 2 * time.Second, Strength: 512, SrcIPs: 2,
	}, Hooks{Progress: func(Progress) { progress++ }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Established != 8 || res.Failed != 0 || res.ErrorCount() != 0 {
		t.Fatalf("established %d failed %d errors %v", res.Established, res.Failed, res.Errors)
	}
	if res.Msgs == 0 || res.MsgsPerSec <= 0 || res.RTTHist.Count() != res.Msgs || res.SetupHist.Count() != 8 {
		t.Fatalf("msgs %d rate %.0f rtt count %d setup count %d", res.Msgs, res.MsgsPerSec, res.RTTHist.Count(), res.SetupHist.Count())
	}
	if progress == 0 {
		t.Fatal("no progress reported")
	}
	st := proxy.Stats()
	if st.Decoded != res.Msgs || st.Encoded != res.Msgs {
		t.Fatalf("proxy decoded %d encoded %d, bench echoed %d", st.Decoded, st.Encoded, res.Msgs)
	}
}

// The key-pool client: 12 connections share 3 pre-generated key pairs,
// yet the proxy pairs each of them with its own key exchange and relays
// exactly the messages the bench counted, text messages checked byte for
// byte; a strength the proxy does not run fails every setup as "handshake".
func TestKeyPoolThroughProxy(t *testing.T) {
	echo := startEcho(t)
	proxy := startProxy(t, echo.URL())
	url := fmt.Sprintf("ws://%s/bench", proxy.Addr())
	res, err := Run(context.Background(), Config{
		URL: url, Conns: 12, Inflight: 2, Size: 100, Messages: 25, Text: true, Strength: 512, KeyPool: 3,
	}, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Established != 12 || res.Failed != 0 || res.ErrorCount() != 0 || res.Msgs != 12*25 || res.KeyPool != 3 {
		t.Fatalf("established %d failed %d errors %v msgs %d", res.Established, res.Failed, res.Errors, res.Msgs)
	}
	st := proxy.Stats()
	if st.Paired != 12 || st.Decoded != 12*25 || st.Encoded != 12*25 {
		t.Fatalf("proxy paired %d decoded %d encoded %d, want 12, 300, 300", st.Paired, st.Decoded, st.Encoded)
	}

	res, err = Run(context.Background(), Config{URL: url, Conns: 3, Hold: true, Strength: 768, KeyPool: 2}, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Established != 0 || res.Errors[KindHandshake.String()] != 3 {
		t.Fatalf("strength mismatch: established %d errors %v, want 3 handshake errors", res.Established, res.Errors)
	}
}

// Two worker processes (this test binary re-executed) against the echo
// directly, a fixed message count each: the merged result counts exactly.
func TestPlainWorkersExactCounts(t *testing.T) {
	echo := startEcho(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dialDone := 0
	res, err := RunWorkers(context.Background(), Config{
		URL: echo.URL() + "/", Conns: 5, Messages: 40, Inflight: 3, Size: 1000, Plain: true, Text: true, SrcIPs: 3,
	}, 2, exe, Hooks{DialDone: func() { dialDone++ }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Workers != 2 || res.Conns != 5 || res.Established != 5 || res.Msgs != 200 || res.WindowMsgs > 200 || res.ErrorCount() != 0 || dialDone != 1 {
		t.Fatalf("workers %d conns %d established %d msgs %d window %d errors %v dialDone %d",
			res.Workers, res.Conns, res.Established, res.Msgs, res.WindowMsgs, res.Errors, dialDone)
	}
	if got := echo.Stats().Frames; got != 200 {
		t.Fatalf("echo saw %d frames, want 200", got)
	}
}

// Hold mode opens, holds for zero time and closes; a refused port counts as
// dial errors, each connection once.
func TestHoldAndDialErrors(t *testing.T) {
	echo := startEcho(t)
	res, err := Run(context.Background(), Config{URL: echo.URL(), Conns: 20, Hold: true, Plain: true}, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Scenario != "hold" || res.Established != 20 || res.Msgs != 0 || res.ErrorCount() != 0 {
		t.Fatalf("%+v", res)
	}
	res, err = Run(context.Background(), Config{URL: "ws://127.0.0.1:1/", Conns: 3, Hold: true, Plain: true}, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Established != 0 || res.Failed != 3 || res.Errors["dial"] != 3 || len(res.Errors) != 1 {
		t.Fatalf("failed %d errors %v", res.Failed, res.Errors)
	}
}

// Hold mode with -m echoes that many messages on every connection before
// reporting it set up (DialDone), then holds it idle.
func TestHoldAfterWarmUp(t *testing.T) {
	echo := startEcho(t)
	var framesAtReady uint64
	res, err := Run(context.Background(), Config{URL: echo.URL(), Conns: 10, Hold: true, Plain: true, Messages: 3, Size: 32},
		Hooks{DialDone: func() { framesAtReady = echo.Stats().Frames }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Scenario != "hold" || res.Established != 10 || res.ErrorCount() != 0 {
		t.Fatalf("%+v", res)
	}
	if framesAtReady != 30 {
		t.Fatalf("echo had echoed %d frames when every connection was reported set up, want 10 × 3", framesAtReady)
	}
}

// Held SocketX connections answer the proxy's keepalive pings: with a
// 50 ms ping interval and a 300 ms pong timeout, a 1.2 s hold loses none
// (before hold mode read, the proxy closed every one with "pong timeout").
func TestHoldAnswersPings(t *testing.T) {
	echo := startEcho(t)
	proxy := startProxy(t, echo.URL(), func(c *engine.Config) {
		c.ClientPingInterval = 50 * time.Millisecond
		c.ClientPongTimeout = 300 * time.Millisecond
		c.TickInterval = 20 * time.Millisecond
	})
	res, err := Run(context.Background(), Config{
		URL: fmt.Sprintf("ws://%s/", proxy.Addr()), Conns: 6, Hold: true, Duration: 1200 * time.Millisecond, Strength: 512,
	}, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	// A connection the proxy dropped would count as a "closed" error.
	if res.Established != 6 || res.ErrorCount() != 0 {
		t.Fatalf("established %d errors %v", res.Established, res.Errors)
	}
	// Every close the bench sent at the end reaches the proxy (bounded wait:
	// the proxy handles them after Run returns).
	if !testwait.Until(10*time.Second, func() bool { return proxy.Stats().WebSocketsClosed == 6 }) {
		t.Fatalf("proxy closed %d WebSockets, want the 6 held ones", proxy.Stats().WebSocketsClosed)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{URL: "wss://127.0.0.1:1/", Conns: 1, Hold: true}, `loadgen: invalid configuration: url scheme must be ws (loopback benchmarks only), got "wss"`},
		{Config{URL: "ws://127.0.0.1:1/", Conns: 1}, "loadgen: invalid configuration: echo mode needs -m or -d"},
		{Config{URL: "ws://127.0.0.1:1/", Conns: 1, Hold: true, Strength: 256}, "loadgen: invalid configuration: strength must be 0, 512, 768, 1024 or xwing"},
		{Config{URL: "ws://127.0.0.1:1/", Conns: 1, Hold: true, Plain: true, KeyPool: 4}, "loadgen: invalid configuration: -key-pool needs a SocketX target, not -plain"},
		{Config{URL: "ws://127.0.0.1:1/", Conns: 1, Hold: true, KeyPool: -1}, "loadgen: invalid configuration: key pool size must be >= 0"},
		{Config{URL: "ws://localhost:1/", Conns: 1, Hold: true, Plain: true, DstIPs: 2}, "loadgen: invalid configuration: -dst-ips needs a ws://127.0.0.1:port URL"},
	} {
		if err := c.cfg.Validate(); err == nil || err.Error() != c.want {
			t.Errorf("Validate(%+v) = %v, want %q", c.cfg, err, c.want)
		}
	}
}

// The result survives the worker wire format exactly.
func TestResultJSONRoundTrip(t *testing.T) {
	var h Hist
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	res := &Result{Msgs: 7, Errors: map[string]uint64{"io": 1}, SetupHist: &Hist{}, RTTHist: &h}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.RTTHist.Count() != 1000 || back.RTTHist.Max() != time.Millisecond || back.RTTHist.Quantile(0.5) != h.Quantile(0.5) || back.Msgs != 7 || back.Errors["io"] != 1 {
		t.Fatalf("round trip: count %d max %v p50 %v", back.RTTHist.Count(), back.RTTHist.Max(), back.RTTHist.Quantile(0.5))
	}
}
