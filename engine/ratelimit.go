package engine

import (
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// limiter is a token bucket for rejection log lines: an attack must not
// flood the log. Lines beyond the rate are counted and the count is
// reported on the next line that gets through.
type limiter struct {
	mu         sync.Mutex // guards the following
	tokens     float64
	last       time.Time
	suppressed uint64
}

const (
	rejectLogRate  = 20.0 // lines per second
	rejectLogBurst = 50.0
)

// logRejection returns a checked entry at info level when the rate allows;
// a line counting those dropped since the last one goes first. Both name
// logRejection's caller as theirs (Server.siteLog).
func (s *Server) logRejection(msg string) *zapcore.CheckedEntry {
	ce := s.siteLog.Check(zap.InfoLevel, msg)
	if ce == nil {
		return nil
	}
	ok, suppressed := s.rejectLog.allow()
	if !ok {
		return nil
	}
	if suppressed > 0 {
		s.siteLog.Info("Rejection log lines suppressed by rate limit", zap.Uint64("suppressed", suppressed))
	}
	return ce
}

// allow takes a token: ok reports whether a line may be written, and
// suppressed how many were refused since the last one that was.
func (l *limiter) allow() (ok bool, suppressed uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.last.IsZero() {
		l.tokens = rejectLogBurst
	} else {
		l.tokens = min(rejectLogBurst, l.tokens+now.Sub(l.last).Seconds()*rejectLogRate)
	}
	l.last = now
	if l.tokens < 1 {
		l.suppressed++
		return false, 0
	}
	l.tokens--
	suppressed, l.suppressed = l.suppressed, 0
	return true, suppressed
}
