package hardening

import (
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/engine"
	"github.com/socketx/socketx-server/internal/enginetest"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/upstream"
)

// proxyOpts is what a hardening proxy varies; the rest is fixed below.
type proxyOpts struct {
	domainMap string
	strength  mte.Strength
	window    int
	tls       *tls.Config // roots for wss upstreams
	mutate    func(*engine.Config)
	keys      []*mte.ServerPrivateKey // server authentication keys
}

// startProxy runs a proxy (internal/enginetest) on two loops with a short
// tick so timers are testable, its Info log captured in px.Logs.
func startProxy(t testing.TB, o proxyOpts) *enginetest.Proxy {
	t.Helper()
	return enginetest.Start(t, enginetest.Options{
		DomainMap: o.domainMap,
		MTE:       mte.Params{Strength: o.strength, Window: o.window, ServerKeys: o.keys},
		Config: func(cfg *engine.Config) {
			cfg.Loops = 2
			cfg.TickInterval = 20 * time.Millisecond
			cfg.HandshakeTimeout = 3 * time.Second
			cfg.DialTimeout = 3 * time.Second
			cfg.CloseTimeout = 2 * time.Second
			if o.mutate != nil {
				o.mutate(cfg)
			}
		},
		Upstream: upstream.Config{TLSConfig: o.tls},
	})
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

// matchLogs compares entries with the expected lines, in order.
func matchLogs(got []enginetest.Entry, want []logLine) error {
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

func dumpLogs(es []enginetest.Entry) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "  %s %q %v\n", e.Level, e.Message, e.Fields)
	}
	return b.String()
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
