package mte

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Sentinel errors. Callers branch on them with errors.Is; errors carrying
// details wrap one or more of them.
var (
	// ErrShortMessage: the message is shorter than its format requires.
	ErrShortMessage = errors.New("mte: message too short")
	// ErrBadMagic: bytes 0–3 are not 4D 54 45 02.
	ErrBadMagic = errors.New("mte: bad header magic")
	// ErrBadVersion: byte 4 is not 0x01.
	ErrBadVersion = errors.New("mte: unsupported header version")
	// ErrBadMessageType: the (action, messageType) combination is invalid
	// or the action does not carry an encoded payload where one is needed.
	ErrBadMessageType = errors.New("mte: invalid action/messageType combination")
	// ErrNotPaired: Seal or Open before pairing completed.
	ErrNotPaired = errors.New("mte: not paired")
	// ErrAuth: authentication failed (tampered, truncated or wrong key,
	// including a tenant license mismatch).
	ErrAuth = errors.New("mte: message authentication failed")
	// ErrReplay: the sequence number was already accepted.
	ErrReplay = errors.New("mte: replayed message")
	// ErrOutsideWindow: the sequence number is too old or too far ahead.
	ErrOutsideWindow = errors.New("mte: sequence number outside window")
	// ErrBadPairRequest: the pairRequest payload is malformed.
	ErrBadPairRequest = errors.New("mte: bad pairRequest")
	// ErrBadPairResponse: the pairResponse payload is malformed.
	ErrBadPairResponse = errors.New("mte: bad pairResponse")
	// ErrKeySize: a public key or ciphertext has the wrong size for the
	// configured strength. Always wrapped together with ErrBadPairRequest
	// or ErrBadPairResponse.
	ErrKeySize = errors.New("mte: wrong key size")
	// ErrBadPathname: the action 4 plaintext is not a valid pathname request.
	ErrBadPathname = errors.New("mte: bad pathname request")
	// ErrFirstSeq: the upstream connection request (action 4), the first
	// encoded message of its direction, does not carry sequence number 0.
	ErrFirstSeq = errors.New("mte: action 4 must be sequence 0")
	// ErrSeqExhausted: the encoder used all 2^64 sequence numbers.
	ErrSeqExhausted = errors.New("mte: sequence numbers exhausted")
	// ErrBadParams: Params.Validate failed.
	ErrBadParams = errors.New("mte: invalid parameters")
	// ErrBadServerKey: a server key or pin does not parse (never quoted).
	ErrBadServerKey = errors.New("mte: invalid server key")
	// ErrUnknownServerKey: the pairRequest's serverKeyId names none of the
	// proxy's server keys (close 1008 "mte: unknown server key").
	ErrUnknownServerKey = errors.New("mte: unknown server key")
	// ErrBadServerAuth: the pairRequest's serverKeyId or serverSecret is
	// malformed, or one comes without the other. Always wrapped together
	// with ErrBadPairRequest (close 1002, the detailed message).
	ErrBadServerAuth = errors.New("mte: malformed server authentication fields")
	// ErrServerAuth is wrapped by both ways a pinned client refuses a
	// server: ErrServerAuthUnsupported and ErrServerAuthMismatch.
	ErrServerAuth = errors.New("mte: server not authenticated")
	// ErrServerAuthUnsupported: the pairResponse to a pinned pairRequest
	// lacks serverConfirm: the server does not do server authentication
	// (or something in between removed it).
	ErrServerAuthUnsupported = errors.New("mte: server does not support authentication")
	// ErrServerAuthMismatch: serverConfirm is present but does not verify:
	// the server does not hold the pinned key (a wrong server, or a man
	// in the middle).
	ErrServerAuthMismatch = errors.New("mte: wrong server: serverConfirm does not verify")
)

// detailError is an error with a precise message that still matches its
// sentinels under errors.Is.
type detailError struct {
	msg   string
	kinds []error
}

func (e *detailError) Error() string   { return e.msg }
func (e *detailError) Unwrap() []error { return e.kinds }

func detail(msg string, kinds ...error) error {
	return &detailError{msg: msg, kinds: kinds}
}

// WebSocket close codes (RFC 6455 §7.4.1) used by CloseCode.
const (
	CloseNormal         uint16 = 1000
	CloseProtocolError  uint16 = 1002
	ClosePolicyViolated uint16 = 1008
	CloseInternalError  uint16 = 1011
)

// maxCloseReason is the longest close reason RFC 6455 allows (125-byte
// control payload minus the 2-byte code).
const maxCloseReason = 123

// CloseCode returns the WebSocket close code and a short reason (at most 123
// bytes of valid UTF-8) for an error returned by this package:
//
//   - nil → 1000, "";
//   - authentication, replay and window failures → 1008 (policy violation);
//   - an unknown serverKeyId → 1008 "mte: unknown server key"; a server
//     a pinned client refuses → 1008 "mte: server not authenticated";
//   - pairing and format errors → 1002 (protocol error);
//   - anything else (e.g. a failing random source) → 1011, "mte: internal error".
//
// The reason is the error text: it names fields and sizes, never key
// material.
func CloseCode(err error) (code uint16, reason string) {
	switch {
	case err == nil:
		return CloseNormal, ""
	case errors.Is(err, ErrAuth), errors.Is(err, ErrReplay), errors.Is(err, ErrOutsideWindow):
		return ClosePolicyViolated, truncateReason(err.Error())
	case errors.Is(err, ErrUnknownServerKey):
		return ClosePolicyViolated, ErrUnknownServerKey.Error()
	case errors.Is(err, ErrServerAuth):
		return ClosePolicyViolated, ErrServerAuth.Error()
	case errors.Is(err, ErrShortMessage), errors.Is(err, ErrBadMagic),
		errors.Is(err, ErrBadVersion), errors.Is(err, ErrBadMessageType),
		errors.Is(err, ErrNotPaired), errors.Is(err, ErrBadPairRequest),
		errors.Is(err, ErrBadPairResponse), errors.Is(err, ErrKeySize),
		errors.Is(err, ErrBadPathname), errors.Is(err, ErrFirstSeq),
		errors.Is(err, ErrSeqExhausted):
		return CloseProtocolError, truncateReason(err.Error())
	default:
		return CloseInternalError, "mte: internal error"
	}
}

func truncateReason(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > maxCloseReason {
		s = s[:maxCloseReason]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}
