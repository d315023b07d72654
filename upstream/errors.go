package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"syscall"
)

// Sentinel errors. Callers branch on them with errors.Is; Dial returns them
// wrapped in a *DialError.
var (
	// ErrBackoff: an earlier dial to the same address failed and its backoff
	// window has not elapsed; the dial was not attempted.
	ErrBackoff = errors.New("upstream: address in backoff after failed dial")
	// ErrTooManyDials: the per-address concurrent dial cap stayed full until
	// the dial deadline.
	ErrTooManyDials = errors.New("upstream: too many concurrent dials to address")
)

// Detailed errors, allocated once.
var (
	errBridgeSocket  = errors.New("upstream: socketpair end is not a *net.UnixConn")
	errNoSystemRoots = errors.New("upstream: the system root pool is empty")
)

// Reason labels. The set is closed so they are safe as metric labels.
const (
	ReasonOK           = "ok"
	ReasonRefused      = "refused"
	ReasonTimeout      = "timeout"
	ReasonDNS          = "dns"
	ReasonTLS          = "tls"
	ReasonReset        = "reset"
	ReasonUnreachable  = "unreachable"
	ReasonCanceled     = "canceled"
	ReasonBackoff      = "backoff"
	ReasonTooManyDials = "too_many_dials"
	ReasonBridge       = "bridge"
	ReasonOther        = "other"
)

// dialReasons lists every label a *DialError can carry, in Stats order.
var dialReasons = [...]string{
	ReasonRefused, ReasonTimeout, ReasonDNS, ReasonTLS, ReasonReset,
	ReasonUnreachable, ReasonCanceled, ReasonBackoff, ReasonTooManyDials,
	ReasonBridge, ReasonOther,
}

// DialError is returned by Manager.Dial for every failure.
type DialError struct {
	// Target is the dialed "host:port" (Endpoint.Addr); Dial never sees the
	// path or query, which may hold client secrets.
	Target string
	// Reason is one of the Reason* labels.
	Reason string
	// Err is the underlying error (a sentinel above, a *net.OpError, a
	// *net.DNSError, a *tls.CertificateVerificationError, ...).
	Err error
}

func (e *DialError) Error() string {
	return "upstream: dial " + e.Target + ": " + e.Reason + ": " + e.Err.Error()
}

func (e *DialError) Unwrap() error { return e.Err }

// Reason returns a bounded label for err: "ok" for nil, the *DialError's
// reason, "backoff"/"too_many_dials" for those sentinels, else "other".
func Reason(err error) string {
	if err == nil {
		return ReasonOK
	}
	var de *DialError
	switch {
	case errors.As(err, &de):
		return de.Reason
	case errors.Is(err, ErrBackoff):
		return ReasonBackoff
	case errors.Is(err, ErrTooManyDials):
		return ReasonTooManyDials
	}
	return ReasonOther
}

// classifyDial labels an error from the TCP dial. parent is the caller's
// context: its cancellation is "canceled", not a failure of the upstream.
func classifyDial(parent context.Context, err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return ReasonDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return ReasonRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return ReasonReset
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return ReasonUnreachable
	case errors.Is(parent.Err(), context.Canceled):
		return ReasonCanceled
	case isTimeout(err):
		return ReasonTimeout
	}
	return ReasonOther
}

// classifyHandshake labels an error from the TLS handshake: timeouts and
// cancellation keep their labels, everything else (verification, alerts,
// EOF, resets mid-handshake) is "tls".
func classifyHandshake(parent context.Context, err error) string {
	var (
		verr *tls.CertificateVerificationError
		herr x509.HostnameError
		uerr x509.UnknownAuthorityError
	)
	switch {
	case errors.As(err, &verr), errors.As(err, &herr), errors.As(err, &uerr):
		return ReasonTLS
	case errors.Is(parent.Err(), context.Canceled):
		return ReasonCanceled
	case isTimeout(err):
		return ReasonTimeout
	}
	return ReasonTLS
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// countsAsFailure reports whether a reason says something about the upstream
// (and so feeds the backoff), as opposed to the caller or this process.
func countsAsFailure(reason string) bool {
	switch reason {
	case ReasonCanceled, ReasonBackoff, ReasonTooManyDials, ReasonBridge:
		return false
	}
	return true
}
