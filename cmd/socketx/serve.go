package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/socketx/socketx-server/config"
	"github.com/socketx/socketx-server/engine"
	"github.com/socketx/socketx-server/metering"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/telemetry"
	"github.com/socketx/socketx-server/upstream"
)

// mteVersion names the open MTE profile this build speaks.
const mteVersion = "socketx-mte-v1"

// flushTimeout bounds the metering flush after the drain; ECS and
// Kubernetes stop timeouts (120 s in the shipped templates) cover
// DRAIN_TIMEOUT plus this.
const flushTimeout = 15 * time.Second

// Exit codes.
const (
	exitOK        = 0
	exitFailure   = 1
	exitBadConfig = 2
)

// loadConfig reads and validates the environment; every problem goes to
// stderr, one per line, and the caller exits 2.
func loadConfig(lookup func(string) (string, bool)) (config.Config, bool) {
	cfg, err := config.Load(lookup)
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(os.Stderr, line)
		}
		return cfg, false
	}
	return cfg, true
}

// hooks let the demo observe the running server.
type hooks struct {
	ready func(srv *engine.Server, admin net.Addr)
}

// serve runs the proxy until SIGTERM/SIGINT, then drains.
func serve(lookup func(string) (string, bool), h hooks) int {
	cfg, ok := loadConfig(lookup)
	if !ok {
		return exitBadConfig
	}
	log, err := newLogger(cfg.LogLevel, cfg.UseConsoleLogs)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitBadConfig
	}
	defer log.Sync() //nolint:errcheck
	if !cfg.GOGCSet {
		debug.SetGCPercent(config.DefaultGCPercent) // why 50: see there
	}
	nofile := raiseDescriptorLimit(log)

	profile, err := mte.NewProfile(cfg.MTEParams())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitBadConfig
	}
	fields := []zap.Field{zap.String("socketx_version", version), zap.String("mte_version", mteVersion)}
	for _, kv := range cfg.Redacted() {
		fields = append(fields, zap.String(kv[0], kv[1]))
	}
	log.Info("Starting server", zap.Dict("config", fields...))
	switch st := profile.Strength(); {
	case !st.PostQuantum():
		log.Warn("MTE_KYBER_STRENGTH=0 / MTE_KEY_EXCHANGE=x25519: key exchange is classical X25519, not post-quantum")
	case st.Hybrid():
		log.Info("key exchange is X-Wing, a post-quantum hybrid: ML-KEM-768 + X25519, secure while either half is")
	}

	if profile.ServerAuth() {
		log.Info("server authentication is on: clients that pin one of these keys pair only with this proxy",
			zap.Int("server_keys", len(cfg.ServerKeys)))
	}

	logUpstreamCAs(cfg, time.Now(), log)

	dialer := upstream.NewManager(cfg.UpstreamConfig(), log.Named("upstream"))
	ecfg := cfg.EngineConfig(debug.SetMemoryLimit(-1))
	ecfg.MaxDescriptors = descriptorBudget(cfg, nofile, openDescriptors(), ecfg.Loops, log)
	srv, err := engine.New(ecfg, cfg.Routes, profile, dialer, log)
	if err != nil {
		log.Error("cannot start", zap.Error(err))
		return exitBadConfig
	}

	meter, err := metering.New(cfg.Metering, func() (uint64, uint64) {
		st := srv.Stats()
		return st.Encoded, st.Decoded
	}, log.Named("metering"))
	if err != nil {
		log.Error("metering", zap.Error(err))
		return exitBadConfig
	}
	// Entitlement is checked before the listener opens.
	regCtx, regCancel := context.WithTimeout(context.Background(), 2*time.Minute)
	err = meter.Register(regCtx)
	regCancel()
	if err != nil {
		var fe *metering.FatalError
		if errors.As(err, &fe) {
			fmt.Fprintln(os.Stderr, fe.Error())
			log.Error("Not entitled: exiting", zap.Error(err))
			return metering.ExitCodeNotEntitled
		}
		log.Error("metering registration failed", zap.Error(err))
		return exitFailure
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	meterCtx, meterCancel := context.WithCancel(context.Background())
	meterDone := make(chan struct{})
	go func() {
		defer close(meterDone)
		if err := meter.Run(meterCtx); err != nil {
			log.Error("metering stopped", zap.Error(err))
		}
	}()
	stopMeter := func() {
		meterCancel()
		<-meterDone
		ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
		defer cancel()
		if err := meter.Flush(ctx); err != nil {
			log.Error("metering flush incomplete", zap.Error(err))
		}
	}
	defer meterCancel()

	reload := newReloader(cfg.DomainMapFile, srv, log)
	sources := telemetry.Sources{Engine: srv.Metrics, Upstream: dialer.Stats, Meter: meter.Stats}
	if reload != nil {
		sources.Reloads = reload.Stats
	}
	reg := telemetry.NewRegistry(sources, telemetry.BuildInfo{Version: version, MTEVersion: mteVersion, KyberStrength: cfg.KyberStrength})
	var adminAddr net.Addr
	if cfg.AdminListen != "" {
		ln, err := net.Listen("tcp", cfg.AdminListen)
		if err != nil {
			log.Error("admin listener", zap.String("admin_listen", cfg.AdminListen), zap.Error(err))
			return exitFailure
		}
		adminAddr = ln.Addr()
		admin := &http.Server{
			Handler:           telemetry.AdminHandler(reg, func() bool { return !srv.Draining() }),
			ReadHeaderTimeout: 5 * time.Second,
		}
		go func() { _ = admin.Serve(ln) }()
		defer admin.Close()
		log.Info("Admin listener", zap.Stringer("addr", adminAddr))
	}
	if cfg.MetricsEMF {
		emf := &telemetry.EMF{W: os.Stdout, Interval: time.Minute, Namespace: "SocketX", Service: "socketx", Source: srv.Metrics}
		go emf.Run(ctx)
	}
	if reload != nil {
		go reload.watch(ctx, 2*time.Second)
	}

	done := make(chan error, 1)
	go func() { done <- srv.Run() }()
	select {
	case <-srv.Ready():
		if h.ready != nil {
			h.ready(srv, adminAddr)
		}
	case err := <-done:
		// Named like net.Listen's errors, as the admin listener's are.
		if err == nil {
			err = errors.New("engine stopped before listening")
		}
		log.Error("listener failed", zap.String("listen_addr", cfg.ListenAddr()),
			zap.Error(fmt.Errorf("listen tcp %s: %w", cfg.ListenAddr(), err)))
		return exitFailure
	}

	ecsStop := watchECSStop(ctx, cfg.ECSMetadataURI, log.Named("ecs"))
	for {
		select {
		case err := <-done:
			code := engineStopped(err, log)
			stopMeter()
			return code
		case task := <-ecsStop:
			// ECS deregisters the task from the ALB now and sends SIGTERM
			// once the deregistration delay is over: drain within it, then
			// wait for SIGTERM.
			d := startDrain(srv, cfg.DrainTimeout, log, zap.String("reason", "ECS task DesiredStatus STOPPED"),
				zap.String("task_arn", task.TaskARN), zap.String("known_status", task.KnownStatus))
			code := d.wait(sigs, done, true)
			stopMeter()
			return code
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				if reload != nil {
					reload.reload("SIGHUP")
				} else {
					log.Info("SIGHUP ignored: DOMAIN_MAP does not come from DOMAIN_MAP_FILE")
				}
				continue
			}
			d := startDrain(srv, cfg.DrainTimeout, log, zap.String("reason", "signal"), zap.String("signal", sig.String()))
			code := d.wait(sigs, done, false)
			stopMeter()
			return code
		}
	}
}

// engineStopped handles the engine's Run returning while no drain or stop
// was asked for (drain consumes Run's result itself): the listener failed
// or the engine shut down on its own, with or without an error. The
// process must not look like a clean exit.
func engineStopped(err error, log *zap.Logger) int {
	log.Error("Engine stopped unexpectedly", zap.Error(err))
	return exitFailure
}

// drainer is a drain in progress: clients are closed with 1001 at random
// moments within the spread, then the engine stops.
type drainer struct {
	srv        *engine.Server
	start      time.Time
	deadline   time.Duration // from start: stop waiting for clients
	stopBudget time.Duration // for srv.Stop after that
	log        *zap.Logger
}

// startDrain starts the drain (/ready answers 503 from here on) and logs
// why with fields.
func startDrain(srv *engine.Server, timeout time.Duration, log *zap.Logger, why ...zap.Field) *drainer {
	// Spread the closes over most of the window, leaving time for the
	// close handshakes and for stopping the event loops (gnet polls its
	// shutdown every 500 ms) before the deadline. Drain first, then log:
	// once "Draining" is logged, /ready already answers 503.
	d := &drainer{srv: srv, start: time.Now(), stopBudget: min(time.Second, timeout/4), log: log}
	d.deadline = timeout - d.stopBudget
	active := srv.Stats().ActiveWebSockets
	srv.Drain(d.deadline * 3 / 4)
	log.Info("Draining", append(why, zap.Float64("drain_timeout_seconds", timeout.Seconds()), zap.Int64("connections", active))...)
	return d
}

// wait lets the drain finish, stops the engine and returns the exit code.
// The drain is over when no connection is left or at the deadline. With
// untilSignal (a drain ECS started before its SIGTERM), the process then
// keeps its listener, answering /ready 503, until SIGTERM or SIGINT; that
// signal during the drain lets the drain finish rather than restart it. A
// further terminating signal stops at once.
func (d *drainer) wait(sigs <-chan os.Signal, done <-chan error, untilSignal bool) int {
	deadline := time.NewTimer(time.Until(d.start.Add(d.deadline)))
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	ticks := tick.C // nil once drained: nothing left to poll
	drained, forced := false, false
wait:
	for {
		select {
		case s := <-sigs:
			switch {
			case s == syscall.SIGHUP:
			case untilSignal && drained:
				d.log.Info("Signal after the drain: stopping", zap.String("signal", s.String()))
				break wait
			case untilSignal:
				d.log.Info("Signal during the drain: finishing it", zap.String("signal", s.String()),
					zap.Float64("drain_left_seconds", time.Until(d.start.Add(d.deadline)).Seconds()))
				untilSignal = false
			default:
				d.log.Warn("Second signal: stopping now", zap.String("signal", s.String()))
				forced = true
				break wait
			}
		case err := <-done:
			return engineStopped(err, d.log)
		case <-deadline.C:
			if left := d.srv.Stats().Active; !drained && left > 0 {
				d.log.Warn("Drain timeout reached", zap.Int64("connections_left", left))
			}
			drained = true
		case <-ticks:
			drained = d.srv.Stats().Active == 0
		}
		if drained && !untilSignal {
			break wait
		}
		if drained && ticks != nil {
			d.log.Info("Drained; waiting for SIGTERM", zap.Float64("drain_seconds", time.Since(d.start).Seconds()), zap.Int64("connections_left", d.srv.Stats().Active))
			ticks = nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.stopBudget)
	defer cancel()
	if err := d.srv.Stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
		d.log.Warn("stop", zap.Error(err))
	}
	<-done
	st := d.srv.Stats()
	d.log.Info("Stopped", zap.Float64("drain_seconds", time.Since(d.start).Seconds()), zap.Bool("forced", forced),
		zap.Uint64("connections", st.ConnectionsOpened), zap.Uint64("decoded_messages", st.Decoded), zap.Uint64("encoded_messages", st.Encoded))
	return exitOK
}

func configCheck(lookup func(string) (string, bool)) int {
	cfg, ok := loadConfig(lookup)
	if !ok {
		return exitBadConfig
	}
	fmt.Printf("configuration is valid (%d DOMAIN_MAP keys)\n", len(cfg.Routes.Routes()))
	for _, kv := range cfg.Redacted() {
		fmt.Printf("%s=%s\n", kv[0], kv[1])
	}
	return exitOK
}
