package client

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/socketx/socketx-server/engine"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/routing"
	"github.com/socketx/socketx-server/upstream"
)

// realProxy is the production engine running in-process on 127.0.0.1.
type realProxy struct {
	srv  *engine.Server
	addr string // host:port
	url  string // ws://host:port
	done chan error
}

type proxyConfig struct {
	addr     string // "" picks a free port
	origins  string // allowedOrigins JSON list; "" is ["*"]
	strength mte.Strength
}

// startRealProxy runs engine.Server in front of upstreamURL, as
// cmd/socketx serve does, and stops it at the end of the test.
func startRealProxy(t *testing.T, upstreamURL string, pc proxyConfig) *realProxy {
	t.Helper()
	if pc.addr == "" {
		pc.addr = "127.0.0.1:0"
	}
	if pc.origins == "" {
		pc.origins = `["*"]`
	}
	if pc.strength == 0 {
		pc.strength = 512
	}
	routes, err := routing.Parse([]byte(`{"*":{"upstream":"` + upstreamURL + `","allowedOrigins":` + pc.origins + `}}`))
	if err != nil {
		t.Fatalf("routing.Parse: %v", err)
	}
	profile, err := mte.NewProfile(mte.Params{Strength: pc.strength, Window: 64})
	if err != nil {
		t.Fatalf("mte.NewProfile: %v", err)
	}
	cfg := engine.DefaultConfig()
	cfg.Addr = pc.addr
	cfg.Loops = 1
	cfg.TickInterval = 20 * time.Millisecond
	cfg.CloseTimeout = time.Second
	log := zap.NewNop()
	dialer := upstream.NewManager(upstream.Config{DialTimeout: 3 * time.Second}, log)
	srv, err := engine.New(cfg, routes, profile, dialer, log)
	if err != nil {
		t.Fatalf("engine.New: %v", err)
	}
	p := &realProxy{srv: srv, done: make(chan error, 1)}
	go func() { p.done <- srv.Run() }()
	select {
	case <-srv.Ready():
	case err := <-p.done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("proxy did not start")
	}
	p.addr = srv.Addr().String()
	p.url = "ws://" + p.addr
	t.Cleanup(p.stop)
	return p
}

// stop stops the engine (every connection gets 1001) and waits for Run to
// return; a second call does nothing.
func (p *realProxy) stop() {
	if p.done == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.srv.Stop(ctx)
	<-p.done
	p.done = nil
}
