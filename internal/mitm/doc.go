// Package mitm is a man in the middle for SocketX pairing, for tests: a
// relay that terminates the client's WebSocket, pairs with the client as if
// it were the proxy (its own ephemeral keys, no server key) and with the
// real proxy as a client (package client, unpinned), and relays messages
// between the two. It is what a party that terminates the client's TLS (a
// load balancer, a CDN, a corporate middlebox) can do, and it reports every
// plaintext it reads as a Record: the pathname of action 4 and each
// message.
//
// An unpinned client cannot tell the relay from the proxy: the relay reads
// everything. A client that pins the proxy's server key (docs/PROTOCOL.md
// §6.1) refuses the relay's pairResponse, whether the relay leaves out
// serverConfirm (ModeStrip, as a proxy without server keys answers) or
// makes one up (ModeForge), before it sends action 4: the relay reads
// nothing and never dials the proxy.
//
// The relay dials the proxy only after the client's action 4, with the
// pathname the client sent and the Origin of the client's upgrade, so the
// proxy and its upstream see what they would see without it; when the proxy
// cannot be reached the client gets 1011 "mitm: proxy unreachable". The command
// internal/mitm/cmd/mitm runs one for the Node and browser tests in e2e/.
//
// The relay prints plaintext by design: it is an attack for tests, never
// part of the proxy.
package mitm
