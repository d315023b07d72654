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
// proxyData messages, text or binary, each encoded with the connection's
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
package client
