package metering

import (
	"errors"
	"fmt"
)

// ExitCodeNotEntitled is the process exit code the command uses when
// [Meter.Register] returns a [*FatalError].
const ExitCodeNotEntitled = 3

var (
	// ErrUnreported is returned (wrapped) by [Meter.Flush] when records are
	// still unreported when its context ends; they stay in METERING_STATE_DIR
	// when it is set.
	ErrUnreported = errors.New("metering: records left unreported")

	// ErrNoResourceID is returned when no Azure resource id could be found
	// (AZURE_RESOURCE_ID, AZURE_EXTENSION_RESOURCE_ID, IMDS).
	ErrNoResourceID = errors.New("metering: no azure resource id (set AZURE_RESOURCE_ID)")

	// ErrBadState is returned by [New] when the state file cannot be parsed.
	ErrBadState = errors.New("metering: unreadable state file")

	// ErrSourceRequired is returned by [New] for request_based without a Source.
	ErrSourceRequired = errors.New("metering: request_based needs a counter source")
)

// FatalError means the product may not run: the Marketplace refused the
// registration (customer not entitled, platform not supported, bad product
// code or key version) or registration could not be completed. The command
// prints Error() as one line and exits with [ExitCodeNotEntitled].
type FatalError struct {
	Op     string // e.g. "aws RegisterUsage"
	Code   string // platform error code, e.g. "CustomerNotEntitledException"
	Reason string // what it means for the operator
	Err    error  // the underlying error
}

func (e *FatalError) Error() string {
	return fmt.Sprintf("metering: %s: %s: %s", e.Op, e.Code, e.Reason)
}

func (e *FatalError) Unwrap() error { return e.Err }
