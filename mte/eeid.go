package mte

import (
	"crypto/sha256"
	"encoding/hex"
)

// EEID identifies one pairing in logs and metrics on both sides without
// revealing anything about its keys: the first 8 bytes of
// SHA-256("socketx-mte-v1 eeid" || pairResponse payload).
type EEID [8]byte

const eeidLabel = "socketx-mte-v1 eeid"

// computeEEID hashes the exact pairResponse payload bytes.
func computeEEID(pairResponse []byte) (id EEID) {
	h := sha256.New()
	h.Write([]byte(eeidLabel))
	h.Write(pairResponse)
	var sum [sha256.Size]byte
	copy(id[:], h.Sum(sum[:0]))
	return id
}

// String returns 16 lowercase hex digits.
func (id EEID) String() string {
	var b [16]byte
	hex.Encode(b[:], id[:])
	return string(b[:])
}

// AppendText appends the 16 hex digits to b (encoding.TextAppender).
func (id EEID) AppendText(b []byte) ([]byte, error) {
	return hex.AppendEncode(b, id[:]), nil
}

// MarshalText implements encoding.TextMarshaler.
func (id EEID) MarshalText() ([]byte, error) { return id.AppendText(nil) }
