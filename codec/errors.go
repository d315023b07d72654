package codec

import (
	"errors"
	"strconv"
)

// ErrNeedMore reports that the input is an incomplete prefix: wait for more
// bytes and parse again with the longer slice. Nothing was consumed.
var ErrNeedMore = errors.New("codec: need more data")

// Errors returned by ParseHandshakeResponse for a 101 answer that is not a
// valid WebSocket handshake, or for a head that is malformed or too large.
var (
	ErrResponseTooLarge  = errors.New("codec: upstream response head too large")
	ErrMalformedResponse = errors.New("codec: malformed upstream response")
	ErrNoUpgrade         = errors.New("codec: upstream response lacks Upgrade: websocket")
	ErrNoConnection      = errors.New("codec: upstream response lacks Connection: Upgrade")
	ErrBadAccept         = errors.New("codec: upstream Sec-WebSocket-Accept does not match the key")
	ErrExtension         = errors.New("codec: upstream negotiated an extension that was not offered")
)

// HTTPError is a rejected HTTP request: Status is the HTTP status code to
// answer with and Reason a short, fixed, ASCII text for the text/plain body.
// AppendErrorResponse writes the whole response.
type HTTPError struct {
	Status int
	Reason string
	// RetryAfter is the Retry-After value in seconds written for status 503;
	// 0 means 1.
	RetryAfter int
}

// Error returns "codec: " followed by the reason.
func (e *HTTPError) Error() string { return "codec: " + e.Reason }

// CloseError is a WebSocket protocol violation: Code is the close code to send
// (RFC 6455 §7.4.1) and Reason the short close reason.
type CloseError struct {
	Code   uint16
	Reason string
}

// Error returns "codec: " followed by the reason.
func (e *CloseError) Error() string { return "codec: " + e.Reason }

// UpstreamError reports that an upstream answered the WebSocket handshake
// with a status other than 101.
type UpstreamError struct {
	Status int
}

// Error returns "codec: upstream answered <status>".
func (e *UpstreamError) Error() string {
	return "codec: upstream answered " + strconv.Itoa(e.Status)
}

// Request head rejections. They are shared values so that rejecting a request
// does not allocate; callers must not modify them.
var (
	errHeadTooLarge     = &HTTPError{Status: 431, Reason: "request header too large"}
	errTooManyHeaders   = &HTTPError{Status: 431, Reason: "too many header fields"}
	errBadMethod        = &HTTPError{Status: 400, Reason: "invalid request method"}
	errBadRequestLine   = &HTTPError{Status: 400, Reason: "malformed request line"}
	errBadTarget        = &HTTPError{Status: 400, Reason: "invalid request target"}
	errBadVersion       = &HTTPError{Status: 505, Reason: "HTTP version not supported"}
	errBareLF           = &HTTPError{Status: 400, Reason: "bare LF in request head"}
	errObsFold          = &HTTPError{Status: 400, Reason: "obsolete line folding"}
	errBadHeaderLine    = &HTTPError{Status: 400, Reason: "malformed header line"}
	errBadHeaderName    = &HTTPError{Status: 400, Reason: "invalid header name"}
	errBadHeaderValue   = &HTTPError{Status: 400, Reason: "invalid character in header value"}
	errDupHost          = &HTTPError{Status: 400, Reason: "duplicate Host header"}
	errNoHost           = &HTTPError{Status: 400, Reason: "missing Host header"}
	errBadHost          = &HTTPError{Status: 400, Reason: "invalid Host header"}
	errBadHostPort      = &HTTPError{Status: 400, Reason: "invalid port in Host header"}
	errDupOrigin        = &HTTPError{Status: 400, Reason: "duplicate Origin header"}
	errBadContentLength = &HTTPError{Status: 400, Reason: "invalid Content-Length"}
	errDupContentLength = &HTTPError{Status: 400, Reason: "duplicate Content-Length header"}
	errLengthAndChunked = &HTTPError{Status: 400, Reason: "Content-Length with Transfer-Encoding"}
)

// Upgrade rejections (CheckUpgrade).
var (
	errNotGet       = &HTTPError{Status: 405, Reason: "websocket upgrade requires GET"}
	errNotHTTP11    = &HTTPError{Status: 400, Reason: "websocket upgrade requires HTTP/1.1"}
	errNoUpgradeHdr = &HTTPError{Status: 400, Reason: "missing Upgrade: websocket header"}
	errNoConnHdr    = &HTTPError{Status: 400, Reason: "missing Connection: Upgrade header"}
	errUpgradeBody  = &HTTPError{Status: 400, Reason: "upgrade request has a body"}
	errDupKey       = &HTTPError{Status: 400, Reason: "duplicate Sec-WebSocket-Key header"}
	errDupVersion   = &HTTPError{Status: 400, Reason: "duplicate Sec-WebSocket-Version header"}
	errDupProtocol  = &HTTPError{Status: 400, Reason: "duplicate Sec-WebSocket-Protocol header"}
	errBadProtocol  = &HTTPError{Status: 400, Reason: "invalid Sec-WebSocket-Protocol header"}
	errBadVersionWS = &HTTPError{Status: 426, Reason: "unsupported Sec-WebSocket-Version"}
	errBadKey       = &HTTPError{Status: 400, Reason: "invalid Sec-WebSocket-Key"}
)

// Frame and message violations (ParseHeader, Assembler, ParseClosePayload).
var (
	errReservedBits      = &CloseError{Code: CloseProtocolError, Reason: "reserved bits set"}
	errReservedOpcode    = &CloseError{Code: CloseProtocolError, Reason: "reserved opcode"}
	errFragmentedControl = &CloseError{Code: CloseProtocolError, Reason: "fragmented control frame"}
	errControlTooLong    = &CloseError{Code: CloseProtocolError, Reason: "control frame too long"}
	errNotMasked         = &CloseError{Code: CloseProtocolError, Reason: "frame not masked"}
	errMasked            = &CloseError{Code: CloseProtocolError, Reason: "frame masked"}
	errNonMinimalLength  = &CloseError{Code: CloseProtocolError, Reason: "non-minimal length encoding"}
	errLengthMSB         = &CloseError{Code: CloseProtocolError, Reason: "invalid payload length"}
	errTooBig            = &CloseError{Code: CloseMessageTooBig, Reason: "message too big"}
	errUnexpectedCont    = &CloseError{Code: CloseProtocolError, Reason: "unexpected continuation frame"}
	errExpectedCont      = &CloseError{Code: CloseProtocolError, Reason: "expected continuation frame"}
	errBadClosePayload   = &CloseError{Code: CloseProtocolError, Reason: "invalid close payload"}
	errBadCloseCode      = &CloseError{Code: CloseProtocolError, Reason: "invalid close code"}
	errBadCloseUTF8      = &CloseError{Code: CloseInvalidPayload, Reason: "invalid UTF-8 in close reason"}
)
