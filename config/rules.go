package config

import (
	"errors"
	"fmt"

	"github.com/socketx/socketx-server/engine"
)

// validate checks the rules across variables, skipping those that use a
// variable in bad (one that did not parse, already reported).
//
// Each rule lives once. The engine's (ping below pong, queue above message
// size) are engine.Config.Validate's: validate runs it on the engine
// configuration and says which variables to change. DOMAIN_MAP's presence
// and MEMORY_BUDGET's floor are config's own; metering's are
// metering.Config.Validate's, whose messages already name variables.
func (c Config) validate(bad map[string]bool) error {
	usable := func(names ...string) bool {
		for _, n := range names {
			if bad[n] {
				return false
			}
		}
		return true
	}
	var errs []error
	if len(c.DomainMap) == 0 && usable("DOMAIN_MAP") {
		errs = append(errs, errors.New("config: DOMAIN_MAP is required (or DOMAIN_MAP_BASE64 / DOMAIN_MAP_FILE)"))
	}

	engineErr := c.engineConfig().Validate()
	for _, r := range engineRules {
		if errors.Is(engineErr, r.err) && usable(r.vars[:]...) {
			errs = append(errs, r.message(c))
		}
	}
	if len(bad) == 0 {
		// A rule not translated above cannot fail for values Load
		// accepts; if one does, say so as the engine does.
		for _, err := range unjoin(engineErr) {
			if !isEngineRule(err) {
				errs = append(errs, err)
			}
		}
		if err := c.UpstreamConfig().Validate(); err != nil {
			errs = append(errs, err)
		}
	}

	if c.MemoryBudget != 0 && c.MemoryBudget < int64(c.MaxQueuedBytes) && usable("MEMORY_BUDGET", "WS_MAX_QUEUED_BYTES") {
		errs = append(errs, fmt.Errorf("config: MEMORY_BUDGET=%d must be 0 or at least WS_MAX_QUEUED_BYTES=%d",
			c.MemoryBudget, c.MaxQueuedBytes))
	}
	if err := c.Metering.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// engineRule is one of engine.Config.Validate's cross-field rules in terms
// of the variables that set its fields: the one to change first.
type engineRule struct {
	err     error
	vars    [2]string
	message func(Config) error
}

var engineRules = []engineRule{
	{engine.ErrClientPing, [2]string{"CLIENT_PING_INTERVAL", "CLIENT_PONG_TIMEOUT"}, func(c Config) error {
		return fmt.Errorf("config: CLIENT_PING_INTERVAL=%s must be below CLIENT_PONG_TIMEOUT=%s",
			seconds(c.ClientPingInterval), seconds(c.ClientPongTimeout))
	}},
	{engine.ErrUpstreamPing, [2]string{"UPSTREAM_PING_INTERVAL", "UPSTREAM_PONG_TIMEOUT"}, func(c Config) error {
		return fmt.Errorf("config: UPSTREAM_PING_INTERVAL=%s must be below UPSTREAM_PONG_TIMEOUT=%s",
			seconds(c.UpstreamPingInterval), seconds(c.UpstreamPongTimeout))
	}},
	{engine.ErrQueueBelowSize, [2]string{"WS_MAX_QUEUED_BYTES", "WS_MAX_MESSAGE_SIZE"}, func(c Config) error {
		return fmt.Errorf("config: WS_MAX_QUEUED_BYTES=%d must exceed WS_MAX_MESSAGE_SIZE=%d by at least %d",
			c.MaxQueuedBytes, c.MaxMessageSize, engine.QueueHeadroom)
	}},
}

func isEngineRule(err error) bool {
	for _, r := range engineRules {
		if errors.Is(err, r.err) {
			return true
		}
	}
	return false
}

// unjoin returns the errors errors.Join joined (err itself otherwise).
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
