package hardening

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/engine"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/routing"
	"github.com/socketx/socketx-server/upstream"
)

// The raw client below is adapted from engine/harness_test.go: it speaks the
// SocketX protocol byte by byte so a test controls exactly what goes on the
// wire.

// proxy is a running engine.Server on 127.0.0.1 with its info log captured.
type proxy struct {
	srv     *engine.Server
	addr    string
	profile *mte.Profile
	logs    *capture
}

type proxyOpts struct {
	domainMap string
	strength  mte.Strength
	window    int
	tls       *tls.Config // roots for wss upstreams
	mutate    func(*engine.Config)
}

// startProxy runs a proxy with a short tick so timers are testable.
func startProxy(t testing.TB, o proxyOpts) *proxy {
	t.Helper()
	routes, err := routing.Parse([]byte(o.domainMap))
	if err != nil {
		t.Fatalf("routing.Parse: %v", err)
	}
	profile, err := mte.NewProfile(mte.Params{Strength: o.strength, Window: o.window})
	if err != nil {
		t.Fatalf("mte.NewProfile: %v", err)
	}
	logs := newCapture(zap.InfoLevel)
	log := zap.New(logs)
	cfg := engine.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Loops = 2
	cfg.TickInterval = 20 * time.Millisecond
	cfg.HandshakeTimeout = 3 * time.Second
	cfg.DialTimeout = 3 * time.Second
	cfg.CloseTimeout = 2 * time.Second
	if o.mutate != nil {
		o.mutate(&cfg)
	}
	dialer := upstream.NewManager(upstream.Config{DialTimeout: cfg.DialTimeout, TLSConfig: o.tls}, log)
	srv, err := engine.New(cfg, routes, profile, dialer, log)
	if err != nil {
		t.Fatalf("engine.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run() }()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
		<-done
	})
	return &proxy{srv: srv, addr: srv.Addr().String(), profile: profile, logs: logs}
}

func echoMap(upstreamURL string) string {
	return `{"*":{"upstream":"` + upstreamURL + `","allowedOrigins":["*"]}}`
}

// errorResponse is the exact response the proxy writes for a rejected
// request (written independently of codec.AppendErrorResponse).
func errorResponse(status int, reason string) string {
	extra := ""
	switch status {
	case 405:
		extra = "Allow: GET\r\n"
	case 426:
		extra = "Sec-WebSocket-Version: 13\r\n"
	}
	return "HTTP/1.1 " + strconv.Itoa(status) + " " + codec.StatusText(status) + "\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Length: " + strconv.Itoa(len(reason)+1) + "\r\n" +
		"Connection: close\r\n" + extra + "\r\n" + reason + "\n"
}

// logLine is an expected log entry: the message and the fields that must
// have exactly these values (nested "audit" fields as "audit.close_code").
type logLine struct {
	msg    string
	fields map[string]any
}

// capture is a zapcore.Core that encodes every entry's fields when the
// entry is written, as the production JSON core does. (zaptest/observer
// keeps the zap.Field values and encodes them later, which reads []byte
// fields after the engine reused their buffer: see TestBugRejectLogAliases.)
type capture struct {
	zapcore.LevelEnabler
	ctx []zapcore.Field
	out *captured
}

type captured struct {
	mu      sync.Mutex // guards entries
	entries []entry
}

// entry is one written log line with its fields flattened to strings
// (nested objects as "audit.close_code").
type entry struct {
	Level   zapcore.Level
	Message string
	Fields  map[string]string
}

func newCapture(lvl zapcore.LevelEnabler) *capture {
	return &capture{LevelEnabler: lvl, out: &captured{}}
}

func (c *capture) With(fields []zapcore.Field) zapcore.Core {
	return &capture{LevelEnabler: c.LevelEnabler, ctx: append(append([]zapcore.Field(nil), c.ctx...), fields...), out: c.out}
}

func (c *capture) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *capture) Write(e zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range c.ctx {
		f.AddTo(enc)
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	flat := map[string]string{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
				continue
			}
			flat[prefix+k] = fmt.Sprint(v)
		}
	}
	walk("", enc.Fields)
	c.out.mu.Lock()
	c.out.entries = append(c.out.entries, entry{e.Level, e.Message, flat})
	c.out.mu.Unlock()
	return nil
}

func (c *capture) Sync() error { return nil }

// Len is the number of entries written so far.
func (c *capture) Len() int {
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	return len(c.out.entries)
}

// All returns a copy of the entries written so far.
func (c *capture) All() []entry {
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	return append([]entry(nil), c.out.entries...)
}

// matchLogs compares entries with the expected lines, in order.
func matchLogs(got []entry, want []logLine) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d log lines, want %d:\n%s", len(got), len(want), dumpLogs(got))
	}
	for i, w := range want {
		g := got[i]
		if g.Message != w.msg {
			return fmt.Errorf("log line %d is %q, want %q:\n%s", i, g.Message, w.msg, dumpLogs(got))
		}
		for k, v := range w.fields {
			if g.Fields[k] != fmt.Sprint(v) {
				return fmt.Errorf("log line %d (%q) field %s = %q, want %q:\n%s", i, g.Message, k, g.Fields[k], fmt.Sprint(v), dumpLogs(got))
			}
		}
	}
	return nil
}

func dumpLogs(es []entry) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "  %s %q %v\n", e.Level, e.Message, e.Fields)
	}
	return b.String()
}

// waitFor polls cond (bounded) for state with no event to wait on: the
// engine's counters after a peer vanished, goroutines winding down.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// goroutines counts the goroutines of this process, leaving out gnet's
// ants worker pool (idle workers expire on the pool's own schedule; they are
// bounded by the pool size, not by connections), and returns the stacks.
func goroutines() (int, string) {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	var kept []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "panjf2000/ants") {
			continue
		}
		n++
		kept = append(kept, g)
	}
	return n, strings.Join(kept, "\n\n")
}

// waitGoroutines waits (bounded) until at most base goroutines run.
func waitGoroutines(t testing.TB, base int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, stacks := goroutines()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines: %d, baseline %d; stacks:\n%s", n, base, stacks)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func closePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}
