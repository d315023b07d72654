package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Defaults applied to zero ReconnectOptions fields.
const (
	DefaultBaseDelay  = 250 * time.Millisecond
	DefaultMaxDelay   = 30 * time.Second
	DefaultQueueLimit = 1024
)

// ReconnectOptions configures DialReconnecting. The zero value reconnects
// for ever (until the context given to DialReconnecting ends) with full
// jitter backoff from 250 ms up to 30 s, queues up to 1024 messages while
// disconnected and reconnects after the errors DefaultShouldReconnect
// accepts.
type ReconnectOptions struct {
	// BaseDelay and MaxDelay shape the backoff: before dial attempt n
	// (n = 1, 2, ... since the connection was lost) the connection sleeps a
	// uniformly random duration in [0, min(MaxDelay, BaseDelay·2^(n-1)))
	// ("full jitter"), so clients dropped together by a proxy restart do
	// not come back together. After an upgrade refused with a
	// Retry-After (*UpgradeError.RetryAfter: a full or draining proxy's
	// 503) it sleeps at least that long, at most MaxDelay. Defaults 250 ms
	// and 30 s.
	BaseDelay, MaxDelay time.Duration
	// MaxAttempts is how many dials in a row may fail before the connection
	// gives up with *ReconnectError; 0 means no limit (until the context
	// ends or Close).
	MaxAttempts int
	// QueueLimit is how many MESSAGES (not bytes) may wait for a socket:
	// messages given to SendAsync, and Send calls blocked by a reconnect.
	// Beyond it Send and SendAsync return ErrQueueFull. While connected the
	// queue only holds SendAsync messages not yet written, so the limit is
	// also SendAsync's back-pressure. The queue holds a copy of each
	// payload: memory is bounded by QueueLimit × the largest message.
	// 0 or negative means DefaultQueueLimit (1024).
	QueueLimit int
	// ShouldReconnect decides whether the error that ended a connection, or
	// a failed reconnect dial, is worth another dial. nil means
	// DefaultShouldReconnect.
	ShouldReconnect func(err error) bool
	// Events are called from the connection's own goroutine.
	Events Events

	// Test hooks. jitter returns a random duration in [0, n) (nil:
	// math/rand/v2); queued is called with the queue length after each
	// enqueue, under the connection's lock.
	jitter func(n int64) int64
	queued func(n int)
}

// Events are optional callbacks about a ReconnectingConn's life. They run on
// the goroutine that manages the connection, one at a time: they must
// return promptly and must not call Close (which waits for that goroutine).
type Events struct {
	// OnReconnecting is called before the backoff sleep of each dial
	// attempt (1, 2, ...); err is why: the error that ended the connection
	// for attempt 1, the previous dial's error after that.
	OnReconnecting func(attempt int, err error)
	// OnReconnected is called once a new socket is paired and before the
	// queued messages are written to it, with the new pairing's EEID.
	OnReconnected func(eeid EEID)
	// OnUndelivered is called once, when the connection ends (Close, the
	// context, a close code that is not retried, or the policy giving up),
	// with every message accepted by SendAsync that was never written to a
	// socket, in send order, and the error that ended the connection. It
	// is not called when there are none. Messages of blocked Send calls are
	// not listed: those calls return the error instead.
	OnUndelivered func(msgs []Message, err error)
}

func (o *ReconnectOptions) baseDelay() time.Duration {
	if o.BaseDelay > 0 {
		return o.BaseDelay
	}
	return DefaultBaseDelay
}

func (o *ReconnectOptions) maxDelay() time.Duration {
	if o.MaxDelay > 0 {
		return o.MaxDelay
	}
	return DefaultMaxDelay
}

func (o *ReconnectOptions) queueLimit() int {
	if o.QueueLimit <= 0 {
		return DefaultQueueLimit
	}
	return o.QueueLimit
}

func (o *ReconnectOptions) shouldReconnect(err error) bool {
	if o.ShouldReconnect != nil {
		return o.ShouldReconnect(err)
	}
	return DefaultShouldReconnect(err)
}

// backoffCap is min(MaxDelay, BaseDelay·2^(attempt-1)).
func (o *ReconnectOptions) backoffCap(attempt int) time.Duration {
	d, limit := o.baseDelay(), o.maxDelay()
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// backoff is the full-jitter sleep before dial attempt n.
func (o *ReconnectOptions) backoff(attempt int) time.Duration {
	n := int64(o.backoffCap(attempt))
	if o.jitter != nil {
		return time.Duration(o.jitter(n))
	}
	return time.Duration(rand.Int64N(n))
}

// delay is the sleep before dial attempt n after cause: the full-jitter
// backoff, but at least the Retry-After of an upgrade refused with one
// (503 from a full or draining proxy), itself at most MaxDelay.
func (o *ReconnectOptions) delay(attempt int, cause error) time.Duration {
	d := o.backoff(attempt)
	var ue *UpgradeError
	if errors.As(cause, &ue) && ue.RetryAfter > 0 {
		d = max(d, min(ue.RetryAfter, o.maxDelay()))
	}
	return d
}

// DefaultShouldReconnect is the default reconnect policy. It reconnects
// after:
//
//   - close codes 1001 (going away: the proxy restarts or drains), 1006,
//     1011 (server or upstream error, e.g. the upstream dropped), 1012
//     (service restart), 1013 (try again later) and 1014 (bad gateway:
//     the upstream could not be reached);
//   - network errors: refused, reset, EOF, timeouts (including a pairing
//     that did not finish within Options.PairTimeout);
//   - upgrades refused with HTTP 429 or 5xx (a draining or full proxy).
//
// It does not reconnect after 1000 (normal), 1002 (protocol), 1003, 1005
// (close without a code), 1007, 1008 (policy: pathname or pairing refused),
// 1009, 1010, application codes 3000–4999, other HTTP statuses (403: Origin
// refused, 404: unknown host), *HandshakeError, *MTEError (a strength or tenant mismatch, or a
// message that failed authentication), *ServerAuthError (a pinned client
// refused the server), ErrProtocol, ErrMessageTooBig,
// ErrClosed and context.Canceled: reconnecting would fail the same way.
func DefaultShouldReconnect(err error) bool {
	var (
		ce *CloseError
		he *HandshakeError
		me *MTEError
		ue *UpgradeError
	)
	switch {
	case err == nil:
		return false
	case errors.As(err, &ce):
		switch ce.Code {
		case 1001, 1006, 1011, 1012, 1013, 1014:
			return true
		}
		return false
	case errors.As(err, &ue):
		return ue.Status == 429 || ue.Status >= 500
	case errors.Is(err, ErrServerNotAuthenticated):
		return false
	case errors.As(err, &he), errors.As(err, &me),
		errors.Is(err, ErrProtocol), errors.Is(err, ErrMessageTooBig),
		errors.Is(err, ErrClosed), errors.Is(err, ErrQueueFull),
		errors.Is(err, context.Canceled):
		return false
	}
	return true
}
