package enginetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/socketx/socketx-server/engine"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/routing"
	"github.com/socketx/socketx-server/upstream"
)

// Options says what a test's proxy has beyond the base configuration.
type Options struct {
	// DomainMap is the proxy's DOMAIN_MAP JSON ([EchoMap] sends every host
	// to one upstream).
	DomainMap string
	// MTE is the proxy's profile; the zero Strength is X25519.
	MTE mte.Params
	// Config, when set, changes the engine configuration after the base
	// (engine.DefaultConfig, Addr 127.0.0.1:0, Loops 1) is set up.
	Config func(*engine.Config)
	// Upstream configures the upstream dialer. A zero DialTimeout means the
	// engine's DialTimeout (after Config).
	Upstream upstream.Config
	// Log is the proxy's logger. Nil captures Info and above in Proxy.Logs.
	Log *zap.Logger
}

// Proxy is a running engine.Server.
type Proxy struct {
	Server  *engine.Server
	Addr    string // host:port on 127.0.0.1
	URL     string // "ws://" + Addr, without a path
	Profile *mte.Profile
	Logs    *Logs // nil when Options.Log was set

	done chan error // Run's result
	stop sync.Once
}

// startTimeout bounds how long Start waits for the listener.
const startTimeout = 10 * time.Second

// stopTimeout bounds the drain of Stop; after it the engine closes what is
// left.
const stopTimeout = 5 * time.Second

// Start builds and runs a proxy and returns once it listens. Any error
// fails the test. The proxy is stopped when the test ends (see
// [Proxy.Stop]).
func Start(t testing.TB, o Options) *Proxy {
	t.Helper()
	routes, err := routing.Parse([]byte(o.DomainMap))
	if err != nil {
		t.Fatalf("routing.Parse: %v", err)
	}
	profile, err := mte.NewProfile(o.MTE)
	if err != nil {
		t.Fatalf("mte.NewProfile: %v", err)
	}
	p := &Proxy{Profile: profile, done: make(chan error, 1)}
	log := o.Log
	if log == nil {
		p.Logs = NewLogs(zap.InfoLevel)
		log = zap.New(p.Logs)
	}
	cfg := engine.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Loops = 1
	if o.Config != nil {
		o.Config(&cfg)
	}
	ucfg := o.Upstream
	if ucfg.DialTimeout == 0 {
		ucfg.DialTimeout = cfg.DialTimeout
	}
	srv, err := engine.New(cfg, routes, profile, upstream.NewManager(ucfg, log), log)
	if err != nil {
		t.Fatalf("engine.New: %v", err)
	}
	p.Server = srv
	go func() { p.done <- srv.Run() }()
	select {
	case <-srv.Ready():
	case err := <-p.done:
		t.Fatalf("engine Run: %v", err)
	case <-time.After(startTimeout):
		t.Fatal("engine did not start")
	}
	p.Addr = srv.Addr().String()
	p.URL = "ws://" + p.Addr
	t.Cleanup(p.Stop)
	return p
}

// Stop stops the engine (every open WebSocket gets 1001 going away) within
// 5 seconds and waits for Run to return. Calls after the first do nothing;
// Start registers it with t.Cleanup.
func (p *Proxy) Stop() {
	p.stop.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		_ = p.Server.Stop(ctx)
		<-p.done
	})
}

// EchoMap is a DOMAIN_MAP that sends every host, from any origin, to
// upstreamURL.
func EchoMap(upstreamURL string) string {
	return `{"*":{"upstream":"` + upstreamURL + `","allowedOrigins":["*"]}}`
}
