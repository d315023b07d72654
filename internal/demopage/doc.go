// Package demopage serves the SocketX demo page: a static page that loads
// the TypeScript SDK bundle (sdk/js, built into static/socketx.js and
// committed so that no npm is needed to run the demo), pairs through the
// proxy and sends text and binary messages to the demo's echo upstream.
// For each message it shows the round-trip time, the plaintext size, the
// size on the wire (the encoded SocketX message the WebSocket carries: 31
// bytes more) and the first 24 bytes of that encoded message (SocketX
// header, sequence number, ciphertext): what an observer between the
// browser and the proxy sees. The page sees those bytes by passing the SDK
// a WebSocket subclass (the SDK's WebSocket option) that records what it
// sends and receives; the SDK itself is unchanged.
//
// The proxy's public port is the gnet engine, which serves no files, so the
// page is served on its own HTTP listener (cmd/socketx demo). The page finds
// the proxy from its ?proxy= query parameter (for example
// ?proxy=ws://127.0.0.1:8080/), else ws://<the page's host>:8080/. With
// ?serverKey=<base64 public key printed by socketx keygen> it pins the proxy
// (the SDK's serverKeys option); after pairing it shows the key exchange
// that ran and whether the server was authenticated, with which key ID, or
// "not authenticated (no pin)". These pairing details describe the current
// socket only: they are cleared when it drops, so a reconnect that fails
// leaves them empty.
//
// Errors are shown whole (they wrap, never cut), with a hint where the
// message alone does not say what to fix: a socket that never opened and
// closed with 1006 (how a browser reports the proxy's 403 for an Origin
// missing from allowedOrigins, its 404 for an unknown host, or an
// unreachable proxy), a 1002 refusal of the pairRequest (a key exchange
// other than the proxy's), 1008 "mte: unknown server key" and an upstream
// the proxy could not connect. Below 640 px wide the message rows stack,
// so the page does not scroll sideways on a phone.
package demopage
