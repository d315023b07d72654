package main

import (
	"os"
	"runtime"
	"syscall"

	"go.uber.org/zap"

	"github.com/socketx/socketx-server/config"
)

// raiseDescriptorLimit lifts RLIMIT_NOFILE's soft limit to the hard one,
// which needs no privilege, logs both and returns the soft limit now in
// force (0 when it cannot be read).
func raiseDescriptorLimit(log *zap.Logger) uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("Cannot read the file descriptor limit", zap.Error(err))
		return 0
	}
	before := lim.Cur
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
			log.Warn("Cannot raise the file descriptor limit", zap.Uint64("soft", lim.Cur), zap.Uint64("hard", lim.Max), zap.Error(err))
		} else {
			lim = raised
		}
	}
	log.Info("File descriptor limit", zap.Uint64("soft_before", before), zap.Uint64("soft", lim.Cur), zap.Uint64("hard", lim.Max))
	return lim.Cur
}

// openDescriptors counts the process's open descriptors (Linux; 0 where
// /proc/self/fd does not exist).
func openDescriptors() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(ents) - 1 // the directory being read
}

// engineDescriptors is what the engine opens for itself when it runs: an
// epoll descriptor and an eventfd per event loop and for the main reactor,
// the listener, and the acceptor's reserve descriptor.
func engineDescriptors(loops int) int {
	if loops <= 0 {
		loops = runtime.NumCPU()
	}
	return 2*(loops+1) + 2
}

// descriptorHeadroom is what the budget leaves free below the limit for
// everything that is not a proxied connection: admin and metrics requests,
// DNS lookups, metering calls, connections the acceptor holds briefly
// before a loop counts them. 64 or 1% of the limit, whichever is larger.
func descriptorHeadroom(limit uint64) int {
	return max(64, int(limit/100))
}

// descriptorBudget returns engine.Config.MaxDescriptors: DESCRIPTOR_BUDGET
// when set, else the soft limit minus the descriptors open now, the
// engine's own and the headroom (0, no budget, when that leaves too
// little or the limit is unknown). It warns when the result cannot hold
// MAX_CONNECTIONS sessions at 2 descriptors each.
func descriptorBudget(cfg config.Config, soft uint64, open, loops int, log *zap.Logger) int {
	budget := cfg.DescriptorBudget
	if budget == config.DescriptorBudgetAuto {
		budget = 0
		if soft > 0 && soft < 1<<31 {
			budget = int(soft) - open - engineDescriptors(loops) - descriptorHeadroom(soft)
		}
		if budget < 4 {
			log.Warn("File descriptor limit too low for a descriptor budget: connections are not budgeted",
				zap.Uint64("soft", soft), zap.Int("open", open))
			budget = 0
		}
		log.Info("Descriptor budget", zap.Int("descriptor_budget", budget), zap.Int("open_at_startup", open),
			zap.Int("engine", engineDescriptors(loops)), zap.Int("headroom", descriptorHeadroom(soft)))
	}
	if cfg.MaxConnections > 0 {
		need := 2 * cfg.MaxConnections
		room := budget
		if room == 0 && soft > 0 && soft < 1<<31 {
			room = int(soft) - open
		}
		if room > 0 && room < need {
			log.Warn("File descriptor limit is low for MAX_CONNECTIONS: raise nofile",
				zap.Int("max_connections", cfg.MaxConnections), zap.Int("descriptors_needed", need+descriptorHeadroom(soft)),
				zap.Int("descriptors_available", room), zap.Uint64("soft", soft))
		}
	}
	return budget
}
