// Package mte implements the SocketX client↔proxy message layer: the 7-byte
// SocketX header, the pairing handshake (actions 2 and 3) and the open
// "socketx-mte-v1" message protection profile used for action 4
// (upstreamConnectionRequest) and action 6 (proxyData).
//
// The wire format of the header and of the pairing JSON matches what public
// SocketX client SDKs send. The encoding of protected payloads is this
// project's open profile, specified byte for byte in docs/PROTOCOL.md and
// pinned by mte/testdata/vectors.json:
//
//   - key exchange per direction: ML-KEM-512/768/1024 (FIPS 203), X-Wing
//     (StrengthXWing: the ML-KEM-768 + X25519 hybrid of
//     draft-connolly-cfrg-xwing-kem) or, for Strength 0, X25519 (RFC 7748)
//     — one independent exchange per direction;
//   - key schedule: HKDF-SHA256 (RFC 5869) with an optional tenant secret in
//     the salt, then a hash ratchet that replaces the key every 65,536
//     messages and forgets the old chain key;
//   - encoding: seq (8 bytes) || AES-256-GCM (NIST SP 800-38D) with the
//     header and seq as additional data;
//   - the server decoder accepts reordering within an anti-replay window
//     (RFC 4303 §3.4.3 model); clients decode strictly in order.
//
// # Roles and state
//
// A [Profile] is prepared once from [Params] and shared read-only by every
// connection. A [Session] is the per-connection state: the server calls
// [Session.Respond] with the client's pairRequest, the client (Go SDK, tests)
// uses an [Initiator]. After pairing, the session's [Encoder] seals outgoing
// messages and its [Decoder] opens incoming ones, both without allocating. The
// encoder and the decoder share no mutable state: one goroutine may Seal
// while another Opens, but each of them is single-user. A Session must not
// be copied once paired (go vet's copylocks check flags copies).
//
// # How the engine uses it
//
// The engine holds a Session by value inside its per-connection state and
// calls [Session.Respond], [Session.Encoder], [Session.Decoder],
// [Session.Release] and [Session.EEID] directly: no interface, so the
// per-message Seal and Open are direct calls and a connection's MTE state
// costs no extra allocation or pointer. Another implementation would
// replace Session in the engine, not plug in beside it.
//
// # Errors
//
// Every error returned is, or wraps, one of the sentinels in errors.go;
// [CloseCode] maps an error to the WebSocket close code and reason the engine
// sends. No message ever carries an error.
//
// # Words
//
// As in docs/ARCHITECTURE.md: [Header] and [ParseHeader] are the 7-byte
// SocketX header, not the WebSocket frame header of package codec. Pairing
// has an initiator (the client, [Initiator], initiator.go) and a responder
// (the proxy, [Session.Respond]). Encode and decode name the operations on
// messages, which Seal and Open perform. c2s and s2c (client→server,
// server→client) name directions only in the key schedule, as
// docs/PROTOCOL.md does; elsewhere the directions are client → upstream and
// upstream → client.
package mte
