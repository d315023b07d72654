package engine

// upstreamClosePrefix starts the reason of a forwarded upstream close whose
// code the proxy also sends on its own decision, so that a client can tell
// the two apart (docs/PROTOCOL.md §10). No reason the proxy chooses starts
// with it.
const upstreamClosePrefix = "upstream: "

// forwardedReason returns the close reason the client gets for a close
// frame the upstream sent with code and reason: the upstream's reason
// verbatim for the codes the proxy never decides itself (1000, 1005 i.e.
// an empty close, 1010, 1012, 3000–4999), else upstreamClosePrefix +
// reason (cut to 123 bytes when the close frame is written).
func forwardedReason(code uint16, reason []byte) string {
	switch code {
	case 1001, 1002, 1003, 1007, 1008, 1009, 1011, 1013, 1014:
		return upstreamClosePrefix + string(reason)
	}
	return string(reason)
}
