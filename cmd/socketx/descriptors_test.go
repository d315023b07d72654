package main

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/socketx/socketx-server/config"
	"github.com/socketx/socketx-server/engine"
	"github.com/socketx/socketx-server/internal/proctest"
)

// An engine that stops while no drain was asked for (here: Stop, as gnet
// does on its own when its acceptor fails) makes serve exit 1.
func TestEngineStopThatIsNotADrainExitsOne(t *testing.T) {
	env := map[string]string{
		"DOMAIN_MAP":   strings.TrimPrefix(echoDomainMap("ws://127.0.0.1:1"), "DOMAIN_MAP="),
		"LISTEN_HOST":  "127.0.0.1",
		"LISTEN_PORT":  strconv.Itoa(proctest.FreePort(t)),
		"ADMIN_LISTEN": "off",
		"LOG_LEVEL":    "disabled",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	code := make(chan int, 1)
	go func() {
		code <- serve(lookup, hooks{ready: func(srv *engine.Server, _ net.Addr) {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Stop(ctx)
			}()
		}})
	}()
	select {
	case got := <-code:
		if got != exitFailure {
			t.Fatalf("serve = %d, want %d", got, exitFailure)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return after the engine stopped")
	}
}

func TestEngineStoppedLogsAndFails(t *testing.T) {
	for _, err := range []error{nil, errors.New("gnet: accept a new connection error")} {
		core, logs := observer.New(zap.InfoLevel)
		if got := engineStopped(err, zap.New(core)); got != exitFailure {
			t.Errorf("engineStopped(%v) = %d, want %d", err, got, exitFailure)
		}
		lines := logs.FilterMessage("Engine stopped unexpectedly").All()
		if len(lines) != 1 || lines[0].Level != zap.ErrorLevel {
			t.Fatalf("engineStopped(%v) logged %+v, want one Error line", err, logs.All())
		}
		if got, want := lines[0].ContextMap()["error"], err; want != nil && got != want.Error() {
			t.Errorf("error field = %v, want %q", got, want)
		}
	}
}

func TestDescriptorBudget(t *testing.T) {
	cases := []struct {
		name     string
		budget   int // DESCRIPTOR_BUDGET
		maxConns int
		soft     uint64
		open     int
		loops    int
		want     int
		warn     string
	}{
		// 20000 - 30 open - (2*(2+1)+2 = 8) engine - 200 (1%) headroom.
		{name: "auto", budget: config.DescriptorBudgetAuto, soft: 20000, open: 30, loops: 2, want: 19762},
		// Headroom is at least 64.
		{name: "auto, small limit", budget: config.DescriptorBudgetAuto, soft: 1024, open: 10, loops: 1, want: 1024 - 10 - 6 - 64},
		{name: "auto, limit too low", budget: config.DescriptorBudgetAuto, soft: 64, open: 10, loops: 1, want: 0,
			warn: "File descriptor limit too low for a descriptor budget: connections are not budgeted"},
		{name: "set", budget: 5000, soft: 20000, open: 30, loops: 2, want: 5000},
		{name: "off", budget: 0, soft: 20000, open: 30, loops: 2, want: 0},
		{name: "MAX_CONNECTIONS beyond the budget", budget: config.DescriptorBudgetAuto, maxConns: 10000, soft: 20000, open: 30, loops: 2, want: 19762,
			warn: "File descriptor limit is low for MAX_CONNECTIONS: raise nofile"},
		{name: "MAX_CONNECTIONS within the budget", budget: config.DescriptorBudgetAuto, maxConns: 9000, soft: 20000, open: 30, loops: 2, want: 19762},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(zap.WarnLevel)
			cfg := config.Config{DescriptorBudget: tc.budget, MaxConnections: tc.maxConns}
			if got := descriptorBudget(cfg, tc.soft, tc.open, tc.loops, zap.New(core)); got != tc.want {
				t.Errorf("budget = %d, want %d", got, tc.want)
			}
			var warned []string
			for _, e := range logs.All() {
				warned = append(warned, e.Message)
			}
			if (tc.warn == "" && len(warned) != 0) || (tc.warn != "" && (len(warned) != 1 || warned[0] != tc.warn)) {
				t.Errorf("warnings %q, want %q", warned, tc.warn)
			}
		})
	}
}

// serve runs with the soft descriptor limit at the hard one, even when
// started below it, and logs both. (The Go runtime already raises the soft
// limit as the process starts, so soft_before is what serve found.)
func TestServeRaisesDescriptorLimit(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Max < 2048 {
		t.Skipf("hard limit %d too low to start the child below it", lim.Max)
	}
	lowered := syscall.Rlimit{Cur: 1024, Max: lim.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lowered); err != nil {
		t.Fatal(err)
	}
	p := start(t, echoDomainMap("ws://127.0.0.1:1"))
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	f := p.waitLog("File descriptor limit", nil)
	if _, ok := f["soft_before"]; !ok || f["soft"] != float64(lim.Max) || f["hard"] != float64(lim.Max) {
		t.Fatalf("File descriptor limit: %v, want soft_before, and soft = hard = %d", f, lim.Max)
	}
	p.waitLog("Descriptor budget", func(f map[string]any) bool {
		b, _ := f["descriptor_budget"].(float64)
		return b > 0 && b < float64(lim.Max)
	})
}
