// Package demopage serves the SocketX demo page: a static page that loads
// the TypeScript SDK bundle (sdk/js, built into static/socketx.js and
// committed so that no npm is needed to run the demo), pairs through the
// proxy and sends text and binary messages to the demo's echo upstream,
// showing each message's round-trip time and the pairing details.
//
// The proxy's public port is the gnet engine, which serves no files, so the
// page is served on its own HTTP listener (cmd/socketx demo). The page finds
// the proxy from its ?proxy= query parameter (for example
// ?proxy=ws://127.0.0.1:8080/), else ws://<the page's host>:8080/. With
// ?serverKey=<base64 public key printed by socketx keygen> it pins the proxy
// (the SDK's serverKeys option); after pairing it shows the key exchange
// that ran and whether the server was authenticated, with which key ID, or
// "not authenticated (no pin)".
package demopage
