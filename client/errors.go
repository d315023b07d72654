package client

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/socketx/socketx-server/mte"
)

var (
	// ErrClosed is returned by operations on a Conn that was closed, by
	// either side, or that failed.
	ErrClosed = errors.New("client: connection closed")
	// ErrProtocol is wrapped by errors about WebSocket frames the server
	// must not send (masked or reserved frames, text messages, bad close
	// payloads). The connection is closed with 1002 (1003 for text).
	ErrProtocol = errors.New("client: websocket protocol violation")
	// ErrMessageTooBig: a message from the server exceeds Options.ReadLimit.
	// The connection is closed with 1009.
	ErrMessageTooBig = errors.New("client: message exceeds read limit")
	// ErrQueueFull is returned by ReconnectingConn.Send and SendAsync when
	// ReconnectOptions.QueueLimit messages already wait for a socket. The
	// message was not queued: the caller still owns it.
	ErrQueueFull = errors.New("client: reconnect queue full")
	// ErrServerNotAuthenticated: a client with Options.ServerKeys refused
	// the server. Every *ServerAuthError matches it under errors.Is; it
	// is never retried (DefaultShouldReconnect).
	ErrServerNotAuthenticated = errors.New("client: server not authenticated")

	// ErrOriginNotAllowed: the upgrade was refused with HTTP 403, the
	// proxy's answer to an Origin its DOMAIN_MAP route does not allow
	// (Options.Origin). Every *UpgradeError with Status 403 matches it.
	ErrOriginNotAllowed = errors.New("client: origin not allowed")
	// ErrUnknownHost: the upgrade was refused with HTTP 404, the proxy's
	// answer to a Host no DOMAIN_MAP route serves.
	ErrUnknownHost = errors.New("client: unknown host")
	// ErrUnavailable: the upgrade was refused with HTTP 503, the proxy's
	// answer when it holds MAX_CONNECTIONS connections ("too many
	// connections") or is draining ("server is draining").
	// DefaultShouldReconnect retries it.
	ErrUnavailable = errors.New("client: proxy unavailable")
)

// UpgradeError is a WebSocket upgrade refused with an HTTP status other
// than 101, by the proxy or by something in front of it. The proxy's
// statuses match a sentinel under errors.Is: 403 ErrOriginNotAllowed,
// 404 ErrUnknownHost, 503 ErrUnavailable.
type UpgradeError struct {
	// Status is the HTTP status code.
	Status int
	// Reason is the first line of the response body (the proxy writes its
	// reason there: "origin not allowed", "unknown host", "too many
	// connections", "server is draining"), at most 256 bytes, or the
	// status line's reason phrase when the body is empty.
	Reason string
	// RetryAfter is the Retry-After header in whole seconds (the proxy
	// sends it with 503); 0 when absent.
	RetryAfter time.Duration
}

func (e *UpgradeError) Error() string {
	s := "client: upgrade refused: HTTP " + strconv.Itoa(e.Status)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Is reports whether target is the sentinel of e.Status.
func (e *UpgradeError) Is(target error) bool {
	switch e.Status {
	case 403:
		return target == ErrOriginNotAllowed
	case 404:
		return target == ErrUnknownHost
	case 503:
		return target == ErrUnavailable
	}
	return false
}

// maxUpgradeReason bounds UpgradeError.Reason.
const maxUpgradeReason = 256

// newUpgradeError reads a refused upgrade's response: resp holds the status
// line, header fields and body. The body is read only when it has a
// Content-Length, so a server that keeps the connection open cannot hold
// Dial beyond the bytes it announced (DialTimeout bounds the rest).
func newUpgradeError(status int, phrase []byte, resp io.Reader) *UpgradeError {
	e := &UpgradeError{Status: status, Reason: string(phrase)}
	r, err := http.ReadResponse(bufio.NewReader(io.LimitReader(resp, 8<<10)), nil)
	if err != nil {
		return e
	}
	defer r.Body.Close()
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	if r.ContentLength <= 0 {
		return e
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxUpgradeReason))
	line, _, _ := strings.Cut(string(body), "\n")
	if line = strings.TrimSpace(strings.ToValidUTF8(line, "")); line != "" {
		e.Reason = line
	}
	return e
}

// ServerKey is a pinned server public key (Options.ServerKeys): an
// ML-KEM-768 public key and its key ID.
type ServerKey = mte.ServerPublicKey

// ServerKeyID is a ServerKey's ID (ServerKey.ID, ServerAuthError.KeyID).
type ServerKeyID = mte.ServerKeyID

// ParseServerKey parses a pin: the base64 public key `socketx keygen`
// prints.
func ParseServerKey(b64 string) (ServerKey, error) { return mte.ParseServerPublicKey(b64) }

// ServerAuthError is how a pinned client refuses a server during pairing
// (docs/PROTOCOL.md §6.1). The client closes the WebSocket with 1008
// "mte: server not authenticated" before sending action 4, so nothing
// reaches the upstream.
type ServerAuthError struct {
	// Unsupported is true when the pairResponse has no serverConfirm: the
	// server does not support server authentication (a proxy without
	// MTE_SERVER_KEYS, an older proxy, or something in between that
	// stripped the field). False means the confirmation is present but
	// wrong: the server does not hold the pinned key (a wrong server or a
	// man in the middle).
	Unsupported bool
	// KeyID is the pinned key the client used.
	KeyID ServerKeyID
	// Err is the mte error (mte.ErrServerAuthUnsupported or
	// mte.ErrServerAuthMismatch).
	Err error
}

func (e *ServerAuthError) Error() string {
	if e.Unsupported {
		return "client: server not authenticated: it does not support server authentication (pinned key " + e.KeyID.String() + ")"
	}
	return "client: server not authenticated: wrong server, its confirmation does not verify for pinned key " + e.KeyID.String()
}

// Is reports whether target is ErrServerNotAuthenticated.
func (e *ServerAuthError) Is(target error) bool { return target == ErrServerNotAuthenticated }

// Unwrap returns the mte error.
func (e *ServerAuthError) Unwrap() error { return e.Err }

// ReconnectError ends a ReconnectingConn whose reconnect policy gave up:
// MaxAttempts dials failed in a row, or a dial failed with an error that
// ShouldReconnect rejects (a 403 upgrade, a 1008 during pairing, ...).
type ReconnectError struct {
	// Attempts is the number of dials made since the connection was lost.
	Attempts int
	// Err is the error of the last dial.
	Err error
}

func (e *ReconnectError) Error() string {
	return "client: reconnect gave up after " + strconv.Itoa(e.Attempts) + " attempts: " + e.Err.Error()
}

// Unwrap returns the last dial error.
func (e *ReconnectError) Unwrap() error { return e.Err }

// CloseError is a close frame received from the server: the way the proxy
// reports every failure (pairing, decoding, upstream) and a normal close.
type CloseError struct {
	// Code is the close code; 1005 when the close frame had no payload.
	Code uint16
	// Reason is the close reason (at most 123 bytes).
	Reason string
}

func (e *CloseError) Error() string {
	s := "client: closed " + strconv.Itoa(int(e.Code))
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// HandshakeError is a SocketX handshake message that does not fit the
// handshake state, e.g. proxyData while waiting for the hello response.
type HandshakeError struct {
	// State is the handshake state: "sentHello", "sentPairRequest" or
	// "sentUpstreamRequest".
	State string
	// Action is the action of the unexpected message.
	Action mte.Action
}

func (e *HandshakeError) Error() string {
	return "client: unexpected handshake message: state=" + e.State + ", action=" + strconv.Itoa(int(e.Action))
}

// MTEError is an mte failure: Op "pair" (the pairResponse was rejected),
// "encode" (Send could not seal) or "decode" (a message from the server did
// not decode: the connection is closed with mte.CloseCode(Err)).
// errors.Is(err, mte.ErrAuth) and the other mte sentinels work through it.
type MTEError struct {
	Op  string
	Err error
}

func (e *MTEError) Error() string { return "client: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the mte error.
func (e *MTEError) Unwrap() error { return e.Err }
