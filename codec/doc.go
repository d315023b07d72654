// Package codec parses and writes the bytes of the two protocols the proxy
// speaks: the HTTP/1.1 upgrade handshake (both as a server towards clients and
// as a client towards upstreams) and RFC 6455 WebSocket frames.
//
// Everything here works on borrowed bytes. The engine Peeks what the
// connection has buffered, calls a parser on that slice, acts, and then
// Discards what the parser consumed. Parsers therefore:
//
//   - never read from an io.Reader and never block;
//   - return ErrNeedMore when the input is an incomplete prefix, so the caller
//     waits for more bytes and calls again with the longer slice (parsing is
//     repeated from the start; it keeps no state between calls);
//   - enforce their limits (head size, header count, frame and message size)
//     before anything could be allocated;
//   - do not allocate on success or on rejection;
//   - return slices that alias the input. Such slices stay valid only until
//     the caller Discards (or otherwise reuses) the bytes they point into.
//
// Writers append to, or write into, the caller's buffer.
//
// Protocol violations carry the data the engine needs to answer them: an
// *HTTPError holds the HTTP status and a short reason for the response body,
// a *CloseError holds the WebSocket close code and reason for the close frame,
// and an *UpstreamError holds the status an upstream answered instead of 101.
//
// Where to look:
//
//   - Towards clients, the proxy is the WebSocket server: request.go
//     (ParseRequest; host.go checks the Host header), upgrade.go
//     (CheckUpgrade), response.go (AppendUpgradeResponse,
//     AppendErrorResponse) and proxyproto.go (ParseProxyHeader). head.go
//     holds the HTTP head lexing both directions share.
//   - Towards upstreams, the proxy is the WebSocket client:
//     upstreamhandshake.go holds NewKey, ClientHandshake and
//     AppendClientHandshake for the opening request and
//     ParseHandshakeResponse for the upstream's 101 (an *UpstreamError when
//     it answers anything else). The engine runs this handshake on its event
//     loop once package upstream has dialed; it lives here, not in upstream,
//     because it shares the head parser above and must never block.
//   - Frames, both directions: frame.go (ParseHeader), mask.go, write.go,
//     close.go and assemble.go (reassembling fragmented messages).
//
// Splitting input never changes a result: for every prefix b[:k] of an input
// b, a parser returns either ErrNeedMore or the same result it returns for b.
// Errors are reported as soon as the offending line (HTTP) or header byte
// (WebSocket) is present.
//
// Words (docs/ARCHITECTURE.md): the client's handshake is the upgrade
// (request.go, upgrade.go, response.go); the one the proxy sends an upstream,
// as a WebSocket client, is the upstream handshake (upstreamhandshake.go:
// ClientHandshake, ParseHandshakeResponse). Header and ParseHeader here are
// the RFC 6455 frame header, not the SocketX header of package mte.
package codec
