package config

import (
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/socketx/socketx-server/engine"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/upstream"
)

// engineDefaults are the defaults of every setting the engine owns; Vars
// shows them as the variables' defaults.
var engineDefaults = engine.DefaultConfig()

// DefaultMemoryBudget is the engine's memory budget when neither
// MEMORY_BUDGET nor GOMEMLIMIT is set.
const DefaultMemoryBudget = 256 << 20

// EngineConfig returns the engine configuration of c: engine.DefaultConfig
// with every setting a variable controls. goMemLimit is the Go memory
// limit (debug.SetMemoryLimit(-1), which GOMEMLIMIT sets): MemoryBudget is
// MEMORY_BUDGET when set, else half of that limit when one is set, else
// DefaultMemoryBudget, leaving the other half to idle connections, MTE
// state, buffers and the runtime. MaxDescriptors is left 0: the command
// derives it from DescriptorBudget and the descriptor limit.
func (c Config) EngineConfig(goMemLimit int64) engine.Config {
	e := c.engineConfig()
	e.MemoryBudget = memoryBudget(c.MemoryBudget, goMemLimit)
	return e
}

// engineConfig is EngineConfig with MemoryBudget as configured (0 = to be
// derived), which is what Validate checks.
func (c Config) engineConfig() engine.Config {
	e := engine.DefaultConfig()
	e.Addr = c.ListenAddr()
	e.ReadBufferSize = c.ReadBufferSize
	e.WriteBufferSize = c.WriteBufferSize
	e.MaxMessageSize = c.MaxMessageSize
	e.MaxQueuedBytes = c.MaxQueuedBytes
	e.MemoryBudget = c.MemoryBudget
	e.ClientPingInterval = c.ClientPingInterval
	e.ClientPongTimeout = c.ClientPongTimeout
	e.UpstreamPingInterval = c.UpstreamPingInterval
	e.UpstreamPongTimeout = c.UpstreamPongTimeout
	e.WriteTimeout = c.WriteTimeout
	e.HandshakeTimeout = c.HandshakeTimeout
	e.DialTimeout = c.UpstreamDialTimeout
	e.MaxConnections = c.MaxConnections
	e.TrustedProxies = c.TrustedProxies
	e.ProxyProtocol = c.ProxyProtocol
	return e
}

func memoryBudget(configured, goMemLimit int64) int64 {
	switch {
	case configured > 0:
		return configured
	case goMemLimit > 0 && goMemLimit < math.MaxInt64:
		return goMemLimit / 2
	}
	return DefaultMemoryBudget
}

// UpstreamConfig returns the upstream manager's configuration: the dial
// timeout and the CAs of UPSTREAM_CA_FILE and UPSTREAM_CA_PEM; the rest
// takes upstream's defaults.
func (c Config) UpstreamConfig() upstream.Config {
	return upstream.Config{DialTimeout: c.UpstreamDialTimeout, ExtraRoots: c.UpstreamCAs()}
}

// MTEParams returns the MTE profile parameters. The key exchange is
// KeyExchange's; a Config built without one (not by Load) uses
// KyberStrength, and an unknown name gives Params that do not validate.
func (c Config) MTEParams() mte.Params {
	st := mte.Strength(c.KyberStrength)
	if c.KeyExchange != "" {
		var err error
		if st, err = mte.ParseKeyExchange(c.KeyExchange); err != nil {
			st = -1
		}
	}
	return mte.Params{
		Strength: st,
		Window:   c.DecoderWindow,
		Company:  c.MTECompanyName,
		License:  c.MTELicenseKey,
		// Server authentication keys; nil keeps it off.
		ServerKeys: c.ServerKeys,
	}
}

func engineDefaultHost() string {
	host, _, _ := net.SplitHostPort(engineDefaults.Addr)
	return host
}

func engineDefaultPort() string {
	_, port, _ := net.SplitHostPort(engineDefaults.Addr)
	return port
}

// seconds shows a duration as the variable takes it: whole seconds as a
// number ("60"), anything finer as a Go duration ("1.5s").
func seconds(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10)
	}
	return d.String()
}

// shortDuration is d as written in the documentation: 15m, not 15m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
