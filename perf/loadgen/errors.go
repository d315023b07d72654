package loadgen

import (
	"context"
	"errors"
	"net"
	"os"

	"github.com/socketx/socketx-server/client"
	"github.com/socketx/socketx-server/codec"
)

// Sentinel errors.
var (
	ErrBadConfig = errors.New("loadgen: invalid configuration")
	ErrMismatch  = errors.New("loadgen: echoed message differs from the one sent")
	ErrWorker    = errors.New("loadgen: worker process failed")
)

// Kind is an error class, one counter each.
type Kind int

// Error kinds, in report order.
const (
	KindDial      Kind = iota // TCP connect failed
	KindUpgrade               // HTTP status other than 101, bad handshake response
	KindHandshake             // SocketX pairing failed (close frame, out-of-order action, MTE)
	KindTimeout               // dial, pairing or drain deadline passed
	KindClosed                // the peer closed the connection during the run
	KindIO                    // other read/write errors
	KindMismatch              // an echo that was not the message sent
	numKinds
)

var kindNames = [numKinds]string{"dial", "upgrade", "handshake", "timeout", "closed", "io", "mismatch"}

// String names the kind as the report does.
func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return "unknown"
	}
	return kindNames[k]
}

// classifyDial maps an error from connection setup to its kind.
func classifyDial(err error) Kind {
	var refused *client.UpgradeError
	var upErr *codec.UpstreamError
	var ce *client.CloseError
	var he *client.HandshakeError
	var me *client.MTEError
	var op *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return KindTimeout
	case errors.As(err, &refused), errors.As(err, &upErr), errors.Is(err, errUpgrade):
		return KindUpgrade
	case errors.As(err, &ce), errors.As(err, &he), errors.As(err, &me), errors.Is(err, errKeyPoolHandshake):
		return KindHandshake
	case errors.As(err, &op) && op.Op == "dial":
		return KindDial
	}
	return KindIO
}

// classifyRelay maps an error from Send or Receive to its kind.
func classifyRelay(err error) Kind {
	var ce *client.CloseError
	switch {
	case errors.Is(err, ErrMismatch):
		return KindMismatch
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return KindTimeout
	case errors.As(err, &ce), errors.Is(err, errPeerClosed), errors.Is(err, client.ErrClosed):
		return KindClosed
	}
	return KindIO
}
