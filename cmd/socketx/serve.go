package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/socketx/socketx-server/config"
	"github.com/socketx/socketx-server/engine"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/routing"
	"github.com/socketx/socketx-server/upstream"
)

// mteVersion names the open MTE profile this build speaks.
const mteVersion = "socketx-mte-v1"

// loadConfig reads and validates the environment; problems go to stderr,
// one per line, and the caller exits 2.
func loadConfig(lookup func(string) (string, bool)) (config.Config, *routing.Map, bool) {
	cfg, err := config.Load(lookup)
	var routes *routing.Map
	if err == nil {
		routes, err = routing.Parse(cfg.DomainMap)
	}
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(os.Stderr, line)
		}
		return cfg, nil, false
	}
	return cfg, routes, true
}

// serve runs the proxy until SIGTERM/SIGINT. ready, when non-nil, receives
// the server once it listens (the demo uses it).
func serve(lookup func(string) (string, bool), ready func(*engine.Server)) int {
	cfg, routes, ok := loadConfig(lookup)
	if !ok {
		return 2
	}
	log, err := newLogger(cfg.LogLevel, cfg.UseConsoleLogs)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer log.Sync() //nolint:errcheck

	profile, err := mte.NewProfile(mte.Params{
		Strength: mte.Strength(cfg.KyberStrength),
		Window:   cfg.DecoderWindow,
		Company:  cfg.MTECompanyName,
		License:  cfg.MTELicenseKey,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fields := []zap.Field{zap.String("socketx_version", version), zap.String("mte_version", mteVersion)}
	for _, kv := range cfg.Redacted() {
		fields = append(fields, zap.String(kv[0], kv[1]))
	}
	log.Info("Starting server", zap.Dict("config", fields...))
	if !profile.PostQuantum() {
		log.Warn("MTE_KYBER_STRENGTH=0: key exchange is classical X25519, not post-quantum")
	}

	dialer := upstream.NewManager(upstream.Config{DialTimeout: cfg.UpstreamDialTimeout}, log.Named("upstream"))
	ecfg := engine.DefaultConfig()
	ecfg.Addr = cfg.ListenAddr()
	ecfg.ReadBufferSize = cfg.ReadBufferSize
	ecfg.WriteBufferSize = cfg.WriteBufferSize
	ecfg.MaxMessageSize = cfg.MaxMessageSize
	ecfg.MaxQueuedBytes = cfg.MaxQueuedBytes
	ecfg.ClientPingInterval = cfg.ClientPingInterval
	ecfg.ClientPongTimeout = cfg.ClientPongTimeout
	ecfg.UpstreamPingInterval = cfg.UpstreamPingInterval
	ecfg.UpstreamPongTimeout = cfg.UpstreamPongTimeout
	ecfg.WriteTimeout = cfg.WriteTimeout
	ecfg.HandshakeTimeout = cfg.HandshakeTimeout
	ecfg.DialTimeout = cfg.UpstreamDialTimeout
	srv, err := engine.New(ecfg, routes, profile, dialer, log)
	if err != nil {
		log.Error("cannot start", zap.Error(err))
		return 2
	}

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	done := make(chan error, 1)
	go func() { done <- srv.Run() }()
	select {
	case <-srv.Ready():
		if ready != nil {
			ready(srv)
		}
	case err := <-done:
		log.Error("listener failed", zap.Error(err))
		return 1
	}
	select {
	case err := <-done:
		if err != nil {
			log.Error("server stopped", zap.Error(err))
			return 1
		}
		return 0
	case sig := <-sigs:
		log.Info("Shutting down", zap.String("signal", sig.String()))
	}
	srv.SetDraining(true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
		log.Warn("stop", zap.Error(err))
	}
	<-done
	st := srv.Stats()
	log.Info("Stopped", zap.Uint64("connections", st.ConnectionsOpened),
		zap.Uint64("decoded_messages", st.Decoded), zap.Uint64("encoded_messages", st.Encoded))
	return 0
}

func configCheck(lookup func(string) (string, bool)) int {
	cfg, routes, ok := loadConfig(lookup)
	if !ok {
		return 2
	}
	fmt.Printf("configuration is valid (%d DOMAIN_MAP keys)\n", len(routes.Routes()))
	for _, kv := range cfg.Redacted() {
		fmt.Printf("%s=%s\n", kv[0], kv[1])
	}
	return 0
}
