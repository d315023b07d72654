package config

import (
	"errors"
	"math"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/socketx/socketx-server/engine"
)

// TestEngineConfig: with no variable set, the engine gets its own
// defaults except where a variable's documented default differs.
func TestEngineConfig(t *testing.T) {
	c, err := Load(env("DOMAIN_MAP", minimalMap))
	if err != nil {
		t.Fatal(err)
	}
	got := c.EngineConfig(math.MaxInt64)
	want := engine.DefaultConfig()
	want.ReadBufferSize = 1024 // WS_READ_BUFFER_SIZE; the engine reads at least 64 KiB anyway
	want.MemoryBudget = DefaultMemoryBudget
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("EngineConfig:\n got %+v\nwant %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	if u := c.UpstreamConfig(); u.DialTimeout != 10*time.Second || u.ExtraRoots != nil {
		t.Fatalf("UpstreamConfig: %+v", u)
	}
}

func TestMemoryBudgetDefault(t *testing.T) {
	for _, c := range []struct{ configured, limit, want int64 }{
		{0, math.MaxInt64, DefaultMemoryBudget}, // no GOMEMLIMIT
		{0, 1740 << 20, 870 << 20},              // half of GOMEMLIMIT
		{64 << 20, 1740 << 20, 64 << 20},        // MEMORY_BUDGET wins
		{64 << 20, math.MaxInt64, 64 << 20},
	} {
		cfg := Config{MemoryBudget: c.configured}
		if got := cfg.EngineConfig(c.limit).MemoryBudget; got != c.want {
			t.Errorf("MEMORY_BUDGET=%d, memory limit %d: budget %d, want %d", c.configured, c.limit, got, c.want)
		}
	}
}

// TestEngineRulesAtTheirBoundary: config reports an engine rule exactly
// when engine.Config.Validate breaks it, so the two cannot drift apart.
func TestEngineRulesAtTheirBoundary(t *testing.T) {
	const msg = 1 << 20
	for _, tc := range []struct {
		env     []string
		rule    error
		message string
	}{
		{[]string{"WS_MAX_QUEUED_BYTES", strconv.Itoa(msg + engine.QueueHeadroom), "WS_MAX_MESSAGE_SIZE", strconv.Itoa(msg)}, nil, ""},
		{[]string{"WS_MAX_QUEUED_BYTES", strconv.Itoa(msg + engine.QueueHeadroom - 1), "WS_MAX_MESSAGE_SIZE", strconv.Itoa(msg)}, engine.ErrQueueBelowSize,
			"config: WS_MAX_QUEUED_BYTES=1048639 must exceed WS_MAX_MESSAGE_SIZE=1048576 by at least 64"},
		{[]string{"CLIENT_PING_INTERVAL", "59"}, nil, ""},
		{[]string{"CLIENT_PING_INTERVAL", "60"}, engine.ErrClientPing, "config: CLIENT_PING_INTERVAL=60 must be below CLIENT_PONG_TIMEOUT=60"},
		{[]string{"UPSTREAM_PONG_TIMEOUT", "55"}, nil, ""},
		{[]string{"UPSTREAM_PONG_TIMEOUT", "54"}, engine.ErrUpstreamPing, "config: UPSTREAM_PING_INTERVAL=54 must be below UPSTREAM_PONG_TIMEOUT=54"},
	} {
		c, err := Load(env(append([]string{"DOMAIN_MAP", minimalMap}, tc.env...)...))
		engineErr := c.EngineConfig(0).Validate()
		if tc.rule == nil {
			if err != nil || engineErr != nil {
				t.Errorf("%v: config %v, engine %v", tc.env, err, engineErr)
			}
			continue
		}
		if err == nil || err.Error() != tc.message || !errors.Is(engineErr, tc.rule) {
			t.Errorf("%v: config %v (want %q), engine %v (want %v)", tc.env, err, tc.message, engineErr, tc.rule)
		}
	}
}
