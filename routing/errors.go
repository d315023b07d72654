package routing

import (
	"errors"
	"fmt"
	"strconv"
)

// Errors from Parse. Problems with one entry are *EntryError values, all of
// them joined with errors.Join.
var (
	ErrEmptyMap  = errors.New("routing: DOMAIN_MAP has no entries")
	ErrNotObject = errors.New("routing: DOMAIN_MAP must be a JSON object")
)

// EntryError is one problem with one DOMAIN_MAP entry.
type EntryError struct {
	Key     string // the key as written in DOMAIN_MAP
	Field   string // "", "upstream", "allowedOrigins", "allowedOrigins[2]", ...
	Problem string
}

func (e *EntryError) Error() string {
	s := "routing: DOMAIN_MAP[" + strconv.Quote(e.Key) + "]"
	if e.Field != "" {
		s += "." + e.Field
	}
	return s + ": " + e.Problem
}

// Errors from Route.Resolve. Callers branch on the first two with errors.Is;
// Resolve returns them wrapped in one of the detailed errors below. The
// engine logs them ("Pathname refused"); clients see only 1008 "pathname
// not allowed".
var (
	// ErrPathEscape: the pathname would leave the base path (dot segments,
	// encoded slashes or backslashes).
	ErrPathEscape = errors.New("routing: pathname escapes the base path")
	// ErrBadPathname: the pathname is malformed (control character, not
	// starting with '/', too long).
	ErrBadPathname = errors.New("routing: bad pathname")
	// ErrBadBase: the base URL is not an absolute ws:// or wss:// URL with a
	// host. Parse never produces such a URL.
	ErrBadBase = errors.New("routing: base URL must be absolute ws:// or wss:// with a host")
)

// Detailed Resolve errors, allocated once; each wraps one sentinel above.
var (
	errNotAbsolute = fmt.Errorf("%w: must start with '/'", ErrBadPathname)
	errControl     = fmt.Errorf("%w: control character", ErrBadPathname)
	errTooLong     = fmt.Errorf("%w: request URI longer than %d bytes", ErrBadPathname, MaxRequestURI)
	errEncodedSep  = fmt.Errorf("%w: encoded slash or backslash", ErrPathEscape)
	errBackslash   = fmt.Errorf("%w: backslash", ErrPathEscape)
	errDotParam    = fmt.Errorf("%w: dot segment with parameters", ErrPathEscape)
	errAboveBase   = fmt.Errorf("%w: dot segments climb above the base path", ErrPathEscape)
)
