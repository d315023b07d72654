package hardening

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/socketx/socketx-server/client"
	"github.com/socketx/socketx-server/internal/proctest"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/perf/wsecho"
)

// The descriptor tests run the real binary under a small RLIMIT_NOFILE
// (prlimit) and flood it with idle TCP connections from other processes:
// this test binary re-executed as a flooder (floodEnv).

const (
	floodEnv  = "SOCKETX_TEST_FLOOD" // addr,count: run as a flooder
	prlimitAt = "/usr/bin/prlimit"
)

// runFlooder is the flooder process: it opens count idle TCP connections
// to addr, prints "opened N", and holds them until its stdin closes.
func runFlooder(spec string) int {
	addr, n, _ := strings.Cut(spec, ",")
	count, err := strconv.Atoi(n)
	if err != nil {
		fmt.Println("bad", floodEnv, spec)
		return 2
	}
	conns := make([]net.Conn, 0, count)
	for failures := 0; len(conns) < count && failures < count; {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			failures++
			continue
		}
		conns = append(conns, c)
	}
	fmt.Println("opened", len(conns))
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
	return 0
}

// flood is a set of flooder processes holding idle connections.
type flood struct {
	cmds   []*exec.Cmd
	stdins []io.WriteCloser
	opened int
	took   time.Duration
}

// startFlood runs procs flooders of perProc connections each against addr
// and returns once every one has opened its connections (at most 60 s).
func startFlood(t *testing.T, addr string, procs, perProc int) *flood {
	t.Helper()
	f := &flood{}
	t.Cleanup(f.stop)
	start := time.Now()
	lines := make(chan string, procs)
	for range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), floodEnv+"="+addr+","+strconv.Itoa(perProc))
		in, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		f.cmds, f.stdins = append(f.cmds, cmd), append(f.stdins, in)
		go func() {
			line, _ := bufio.NewReader(out).ReadString('\n')
			lines <- strings.TrimSpace(line)
			_, _ = io.Copy(io.Discard, out)
		}()
	}
	deadline := time.After(60 * time.Second)
	for range procs {
		select {
		case line := <-lines:
			n, ok := strings.CutPrefix(line, "opened ")
			k, err := strconv.Atoi(n)
			if !ok || err != nil {
				t.Fatalf("flooder said %q", line)
			}
			f.opened += k
		case <-deadline:
			t.Fatal("flooders did not open their connections within 60 s")
		}
	}
	f.took = time.Since(start)
	return f
}

// stop closes the flooders' stdin: they close their connections and exit.
func (f *flood) stop() {
	for _, in := range f.stdins {
		in.Close()
	}
	for _, c := range f.cmds {
		_ = c.Wait()
	}
	f.cmds, f.stdins = nil, nil
}

// startLimited runs the binary with RLIMIT_NOFILE soft = hard = nofile,
// through a script that execs prlimit, which execs socketx: the process
// keeps the script's PID.
func startLimited(t *testing.T, nofile int, env ...string) proc {
	t.Helper()
	if _, err := os.Stat(prlimitAt); err != nil {
		t.Skipf("%s not available: %v", prlimitAt, err)
	}
	script := filepath.Join(t.TempDir(), "socketx-nofile")
	body := fmt.Sprintf("#!/bin/sh\nexec %s --nofile=%d:%d %s \"$@\"\n", prlimitAt, nofile, nofile, socketxBinary(t))
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return proc{proctest.Start(t, script, env...)}
}

// fds counts the process's open descriptors.
func (p proc) fds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(p.Cmd.Process.Pid) + "/fd")
	if err != nil {
		t.Fatalf("process gone? %v", err)
	}
	return len(ents)
}

// peakFDs samples the descriptor count until stop is called; the sampling
// measures, it synchronises nothing.
func (p proc) peakFDs(t *testing.T) (stop func() int) {
	var peak atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	pid := strconv.Itoa(p.Cmd.Process.Pid)
	wg.Go(func() {
		for {
			if ents, err := os.ReadDir("/proc/" + pid + "/fd"); err == nil && int64(len(ents)) > peak.Load() {
				peak.Store(int64(len(ents)))
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	})
	return func() int { close(done); wg.Wait(); return int(peak.Load()) }
}

// noKeepAlive keeps the test from holding idle connections to the process,
// so its descriptor count returns to the baseline.
var noKeepAlive = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

func (p proc) status(url string) (int, error) {
	resp, err := noKeepAlive.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// ok requires a 200 from url.
func (p proc) ok(url string) error {
	code, err := p.status(url)
	if err == nil && code != 200 {
		err = fmt.Errorf("status %d", code)
	}
	return err
}

// retry calls f until it succeeds, at most 10 times 100 ms apart, and
// returns how many calls it took.
func (p proc) retry(t *testing.T, what string, f func() error) int {
	t.Helper()
	var err error
	for i := 1; i <= 10; i++ {
		if err = f(); err == nil {
			return i
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: 10 attempts failed, last: %v", what, err)
	return 0
}

func (p proc) metricsText(t *testing.T) string {
	t.Helper()
	resp, err := noKeepAlive.Get("http://" + p.Admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// metricValue reads one series ("name" or `name{label="v"}`) of a scrape.
func metricValue(t *testing.T, text, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", series, err)
			}
			return f
		}
	}
	t.Fatalf("no %s in /metrics", series)
	return 0
}

// pairAndExchange dials a SocketX session and round-trips msg.
func pairAndExchange(p proc, msg string) (*client.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, p.URL("/fd"), client.Options{})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	if err := exchange(c, msg); err != nil {
		c.Close(1000, "")
		return nil, err
	}
	return c, nil
}

// errorLog keeps the first errors of concurrent workers.
type errorLog struct {
	mu   sync.Mutex // guards errs
	errs []error
}

func (e *errorLog) add(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.errs) < 20 {
		e.errs = append(e.errs, err)
	}
}

// first returns the errors kept so far.
func (e *errorLog) first() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.errs...)
}

// exchange round-trips a text message on a paired SDK session.
func exchange(c *client.Conn, msg string) error { return roundTrip(c, mte.TypeText, []byte(msg)) }

// roundTrip sends msg as typ on a paired SDK session and requires the same
// message back within 20 s.
func roundTrip(c *client.Conn, typ mte.MessageType, msg []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Send(ctx, typ, msg); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	gotTyp, got, err := c.Receive(ctx)
	if err != nil {
		return fmt.Errorf("receive: %w", err)
	}
	if gotTyp != typ || !bytes.Equal(got, msg) {
		return fmt.Errorf("echo differs: type %v, %d bytes, want %v, %d bytes", gotTyp, len(got), typ, len(msg))
	}
	return nil
}

// alive requires the process to be running and never to have logged an
// unexpected engine stop.
func (p proc) alive(t *testing.T) {
	t.Helper()
	if err := p.Cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("socketx is not running: %v; output:\n%s", err, p.Output())
	}
	if strings.Contains(p.Output(), "Engine stopped unexpectedly") {
		t.Fatalf("the engine stopped:\n%s", p.Output())
	}
}

// waitFDs waits (bounded) for the descriptor count to fall to at most n.
func (p proc) waitFDs(t *testing.T, n int, within time.Duration) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		got := p.fds(t)
		if got <= n {
			return got, time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("descriptors = %d, still above the baseline %d after %v", got, n, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startEcho(t *testing.T) string {
	t.Helper()
	echo := wsecho.New(wsecho.Config{Addr: "127.0.0.1:0", Loops: 1})
	go func() { _ = echo.Run() }()
	<-echo.Ready()
	t.Cleanup(func() { _ = echo.Stop(context.Background()) })
	return `DOMAIN_MAP={"*":{"upstream":"` + echo.URL() + `","allowedOrigins":["*"]}}`
}

// TestDescriptorFlood: 2,000 idle connections from other processes against
// a process limited to 512 descriptors. The budget evicts unpaired
// connections, so the proxy keeps answering, pairing and relaying, and
// returns to its baseline once the flood ends.
func TestDescriptorFlood(t *testing.T) {
	const nofile, flooders, perFlooder = 512, 4, 500
	p := startLimited(t, nofile, startEcho(t), "HANDSHAKE_TIMEOUT=60")

	steady, err := pairAndExchange(p, "before")
	if err != nil {
		t.Fatalf("paired session before the flood: %v", err)
	}
	defer steady.Close(1000, "")
	_ = p.metricsText(t)
	baseline := p.fds(t)

	peak := p.peakFDs(t)
	start := time.Now()
	f := startFlood(t, "127.0.0.1:"+strconv.Itoa(p.Port), flooders, perFlooder)

	// During the flood: health, a new session, the old session. A new
	// connection may be shed while the flood's backlog is being accepted
	// (dropped by the acceptor, or evicted unpaired), as any client's can;
	// health checkers and clients retry, so the test does too (bounded).
	healthTries := p.retry(t, "proxy /health during the flood", func() error {
		return p.ok("http://127.0.0.1:" + strconv.Itoa(p.Port) + "/health")
	})
	adminTries := p.retry(t, "admin /health during the flood", func() error { return p.ok("http://" + p.Admin + "/health") })
	var fresh *client.Conn
	pairTries := p.retry(t, "new session during the flood", func() (err error) {
		fresh, err = pairAndExchange(p, "during")
		return err
	})
	if err := exchange(steady, "still here"); err != nil {
		t.Fatalf("paired session during the flood: %v", err)
	}
	during := p.metricsText(t)
	fresh.Close(1000, "")
	f.stop()

	after, settle := p.waitFDs(t, baseline, 30*time.Second)
	elapsed := time.Since(start)
	peakFDs := peak()
	if err := exchange(steady, "after"); err != nil {
		t.Fatalf("paired session after the flood: %v", err)
	}
	p.alive(t)
	text := p.metricsText(t)
	evicted := metricValue(t, text, `socketx_connections_shed_total{reason="pending_evicted"}`)
	refused := metricValue(t, text, `socketx_connections_shed_total{reason="descriptors"}`)
	dropped := metricValue(t, text, `socketx_connections_shed_total{reason="accept_error"}`)
	acceptErrs := metricValue(t, text, `socketx_accept_errors_total`)
	if evicted+refused+dropped == 0 {
		t.Errorf("no connection shed by a flood of %d against %d descriptors", f.opened, nofile)
	}
	if peakFDs > nofile {
		t.Errorf("peak descriptors %d above the limit %d", peakFDs, nofile)
	}
	if got := metricValue(t, during, "socketx_descriptor_budget"); got <= 0 || got >= nofile {
		t.Errorf("descriptor budget %v, want between 0 and %d", got, nofile)
	}
	t.Logf("flood of %d idle connections (%d processes, opened in %v) against nofile %d: baseline %d descriptors, sampled peak %d, back to %d in %v after the flood (%v in all); budget %v, in use during %v; shed: %v evicted, %v refused, %v dropped by the acceptor; accept errors %v; attempts during the flood: /health %d, admin /health %d, new session %d",
		f.opened, flooders, f.took.Round(time.Millisecond), nofile, baseline, peakFDs, after, settle.Round(time.Millisecond), elapsed.Round(time.Millisecond),
		metricValue(t, during, "socketx_descriptor_budget"), metricValue(t, during, "socketx_descriptors_in_use"),
		evicted, refused, dropped, acceptErrs, healthTries, adminTries, pairTries)
}

// TestAcceptSurvivesEMFILE: with the budget off, a flood exhausts the
// process's 256 descriptors for real. The acceptor sheds what it cannot
// take instead of stopping the engine; relaying goes on, and accepting
// resumes once descriptors are free.
func TestAcceptSurvivesEMFILE(t *testing.T) {
	const nofile = 256
	p := startLimited(t, nofile, startEcho(t), "HANDSHAKE_TIMEOUT=60", "DESCRIPTOR_BUDGET=1000000")

	steady, err := pairAndExchange(p, "before")
	if err != nil {
		t.Fatalf("paired session before the flood: %v", err)
	}
	defer steady.Close(1000, "")
	baseline := p.fds(t)

	peak := p.peakFDs(t)
	start := time.Now()
	f := startFlood(t, "127.0.0.1:"+strconv.Itoa(p.Port), 2, 300)
	waitLine(t, p, "Accept failed", func(l map[string]any) bool { return l["connection_dropped"] == true })
	if err := exchange(steady, "out of descriptors"); err != nil {
		t.Fatalf("paired session while out of descriptors: %v", err)
	}
	f.stop()

	after, settle := p.waitFDs(t, baseline, 30*time.Second)
	peakFDs := peak()
	if code, err := p.status("http://127.0.0.1:" + strconv.Itoa(p.Port) + "/health"); err != nil || code != 200 {
		t.Fatalf("proxy /health after the flood: %d %v", code, err)
	}
	fresh, err := pairAndExchange(p, "after")
	if err != nil {
		t.Fatalf("new session after the flood: %v", err)
	}
	fresh.Close(1000, "")
	if err := exchange(steady, "after"); err != nil {
		t.Fatalf("paired session after the flood: %v", err)
	}
	p.alive(t)
	text := p.metricsText(t)
	acceptErrs := metricValue(t, text, `socketx_accept_errors_total`)
	dropped := metricValue(t, text, `socketx_connections_shed_total{reason="accept_error"}`)
	if acceptErrs == 0 || dropped == 0 {
		t.Errorf("accept errors %v, dropped %v: want both > 0", acceptErrs, dropped)
	}
	if peakFDs > nofile {
		t.Errorf("peak descriptors %d above the limit %d", peakFDs, nofile)
	}
	t.Logf("flood of %d idle connections against nofile %d, budget off: sampled peak %d descriptors, %v accept errors, %v connections dropped by the acceptor; back to %d (baseline %d) %v after the flood; %v in all",
		f.opened, nofile, peakFDs, acceptErrs, dropped, after, baseline, settle.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// waitLine waits (at most 30 s) for a JSON log line with msg.
func waitLine(t *testing.T, p proc, msg string, match func(map[string]any) bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		for _, line := range p.Lines() {
			var l map[string]any
			if json.Unmarshal([]byte(line), &l) == nil && l["msg"] == msg && (match == nil || match(l)) {
				return
			}
		}
		select {
		case <-p.NewLine():
		case <-deadline:
			t.Fatalf("no %q log line; log:\n%s", msg, p.Output())
		}
	}
}
