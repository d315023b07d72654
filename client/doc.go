// Package client is the Go SocketX client SDK: it dials a SocketX proxy,
// pairs with it and exchanges MTE-protected messages.
//
// Dial opens an RFC 6455 WebSocket (github.com/gobwas/ws), then runs the
// SocketX handshake, every message a binary WebSocket message with the 7-byte
// SocketX header (docs/PROTOCOL.md):
//
//	client → action 0 request (hello, empty)        state sentHello
//	server → action 1 response (payload ignored)
//	client → action 2 pairRequest (JSON, two key pairs) state sentPairRequest
//	server → action 3 pairResponse (JSON)
//	client → action 4 upstreamConnectionRequest:     state sentUpstreamRequest
//	         the encoder's first message, {"pathname":"/path?query"}
//	server → action 5 upstreamConnectionResponse (payload ignored)
//
// after which the Conn is connected and Send/Receive exchange action 6
// proxyData messages, Text or Binary, each encoded with the connection's
// mte.Session (encoder: client→server, decoder: server→client, strictly in
// order as in every SocketX client).
//
// # Concurrency
//
// Send may be called from any number of goroutines: a mutex around seal and
// write makes the encode order the wire order, which the proxy's decoder
// requires. Receive reads the socket itself (there is no reader goroutine), so
// at most one goroutine may call Receive at a time; it answers pings while it
// reads. Close may be called concurrently with both.
//
// # Errors
//
// The proxy never sends an error message: it closes the WebSocket with a code
// and a short reason, which Receive (or Dial) returns as *CloseError. A
// handshake message out of order is a *HandshakeError; a message that fails
// MTE decoding closes the connection with the code from mte.CloseCode and is
// returned as *MTEError wrapping the mte sentinel.
//
// # Server authentication
//
// Pairing alone does not authenticate the proxy: whoever terminates the
// client's TLS can pair as the proxy. Options.ServerKeys pins the proxy's
// public keys (printed by `socketx keygen`; parse them with
// ParseServerKey): Dial then pairs only with a proxy that proves it holds
// one of them (docs/PROTOCOL.md §6.1), and otherwise fails before action 4
// with a *ServerAuthError, which matches ErrServerNotAuthenticated and
// says whether the server does not support authentication (Unsupported)
// or is the wrong server. It is never retried.
//
// # Receiving with a channel
//
// Conn.Messages and ReconnectingConn.Messages return a channel of owned
// Message values, closed when the connection ends or the given context
// ends; Err then says why. Stopping a channel loses no message.
//
// # Reconnecting
//
// DialReconnecting returns a ReconnectingConn that dials again, with
// exponential backoff and full jitter (waiting at least the Retry-After of a
// refused upgrade), after the errors DefaultShouldReconnect
// accepts (1001 going away, 1011–1014, network failures, HTTP 429/5xx), pairs
// afresh on every new socket (a new EEID) and writes the messages that waited,
// in order. Events report each attempt, each new pairing and, when it finally
// gives up, every queued message that was never written. See ReconnectingConn
// for the exact delivery guarantee.
//
// # Options
//
// Options.Header, Origin and Protocols go into the upgrade request;
// TLSConfig is used for wss:// URLs; KeyExchange must be the proxy's key
// exchange, named as MTE_KEY_EXCHANGE names it (X25519, MLKEM512,
// MLKEM768, MLKEM1024, XWing; ParseKeyExchange also reads an
// MTE_KYBER_STRENGTH number, 0 being X25519), else Dial fails with
// *CloseError 1002; empty means ML-KEM-512, the proxy's default. Company
// and License must match MTE_COMPANY_NAME and MTE_LICENSE_KEY;
// DialTimeout bounds TCP, TLS and the upgrade, PairTimeout the SocketX
// handshake including the proxy's upstream dial; Pathname overrides the
// pathname of action 4; ReadLimit caps a received message.
//
// # Refused upgrades
//
// An upgrade refused with an HTTP status is an *UpgradeError carrying the
// status, the proxy's reason and Retry-After. errors.Is matches
// ErrOriginNotAllowed (403: an Origin the proxy's DOMAIN_MAP refuses),
// ErrUnknownHost (404: a Host no route serves) and ErrUnavailable (503:
// the proxy is full or draining; retried by DefaultShouldReconnect).
//
// # Words
//
// As in docs/ARCHITECTURE.md, "client" is the side this package is: the
// app that dials the proxy, and the client leg of the proxied connection.
// The backend behind the proxy is the upstream. In pairing this package is
// the initiator (mte.Initiator) and the proxy the responder.
package client
