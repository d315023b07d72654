package routing

import (
	"errors"
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
