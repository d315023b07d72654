package engine

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/socketx/socketx-server/internal/wstest"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/routing"
	"github.com/socketx/socketx-server/upstream"
)

// proxy is a running Server on 127.0.0.1 with its log captured.
type proxy struct {
	srv     *Server
	addr    string
	profile *mte.Profile
	logs    *observer.ObservedLogs
	dialer  *upstream.Manager
}

type proxyOpts struct {
	domainMap string
	strength  mte.Strength
	window    int
	tls       *tls.Config         // for wss upstreams
	roots     []*x509.Certificate // upstream.Config.ExtraRoots
	mutate    func(*Config)
	keys      []*mte.ServerPrivateKey // server authentication keys
}

// startProxy runs a proxy with a short tick so timers are testable.
func startProxy(t testing.TB, o proxyOpts) *proxy {
	t.Helper()
	routes, err := routing.Parse([]byte(o.domainMap))
	if err != nil {
		t.Fatalf("routing.Parse: %v", err)
	}
	profile, err := mte.NewProfile(mte.Params{Strength: o.strength, Window: o.window, ServerKeys: o.keys})
	if err != nil {
		t.Fatalf("mte.NewProfile: %v", err)
	}
	core, logs := observer.New(zap.DebugLevel)
	log := zap.New(core, zap.AddCaller()) // as production: lines name their caller
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Loops = 2
	cfg.TickInterval = 20 * time.Millisecond
	cfg.HandshakeTimeout = 3 * time.Second
	cfg.DialTimeout = 3 * time.Second
	if o.mutate != nil {
		o.mutate(&cfg)
	}
	dialer := upstream.NewManager(upstream.Config{DialTimeout: cfg.DialTimeout, TLSConfig: o.tls, ExtraRoots: o.roots}, log)
	srv, err := New(cfg, routes, profile, dialer, log)
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
	return &proxy{srv: srv, addr: srv.Addr().String(), profile: profile, logs: logs, dialer: dialer}
}

func echoMap(upstreamURL string) string {
	return `{"*":{"upstream":"` + upstreamURL + `","allowedOrigins":["*"]}}`
}

// connect = dial + upgrade + pair.
func connect(t testing.TB, px *proxy, pathname string, headers ...string) *wstest.Client {
	t.Helper()
	c := wstest.Dial(t, px.addr)
	c.Upgrade("/", headers...)
	c.Pair(px.profile, pathname)
	return c
}

// httpExchange sends a raw request and returns the raw response.
func httpExchange(t testing.TB, addr, request string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(request)); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_, _ = io.Copy(&b, conn)
	return b.String()
}

// statusOf extracts the status code of a raw HTTP response.
func statusOf(resp string) int {
	var code int
	fmt.Sscanf(resp, "HTTP/1.1 %d", &code)
	return code
}

// waitFor polls cond (bounded) for state with no event to wait on, such as
// the server's counters after a peer vanished.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
