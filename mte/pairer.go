package mte

import "io"

// Codec is the per-connection message protection the engine drives after
// pairing. *Session implements it without allocating in steady state.
type Codec interface {
	// Seal appends the complete SocketX message (header + encoded payload)
	// for plaintext to dst.
	Seal(dst []byte, a Action, t MessageType, plaintext []byte) ([]byte, error)
	// Open authenticates and decodes a complete SocketX message in place;
	// the returned plaintext aliases msg.
	Open(msg []byte) (Header, []byte, error)
	// EEID identifies the pairing in logs.
	EEID() EEID
}

// Pairer is the server (responder) role of a pairing scheme: the seam where
// a different MTE implementation could be plugged in later. Only the open
// socketx-mte-v1 profile (*Session) exists today.
type Pairer interface {
	Codec
	// Respond answers a pairRequest payload: it appends the pairResponse
	// payload (without header) to dst and makes the codec ready.
	Respond(p *Profile, pairRequest []byte, rand io.Reader, dst []byte) ([]byte, error)
}

var (
	_ Pairer = (*Session)(nil)
	_ Codec  = (*Session)(nil)
)
