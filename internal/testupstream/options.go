package testupstream

import "github.com/coder/websocket"

// DefaultReadLimit is the largest message the servers read unless
// WithReadLimit says otherwise.
const DefaultReadLimit = 64 << 20

// Option adjusts a server. Options that do not apply to a server are ignored
// by it; each option's comment names the servers that use it.
type Option func(*config)

type config struct {
	readLimit    int64
	subprotocols []string
	messages     chan<- Message
	immediately  bool
	reset        bool
	garbage      []byte
	selected     string
}

func newConfig(opts []Option) config {
	c := config{
		readLimit:    DefaultReadLimit,
		subprotocols: []string{"chat", "superchat"},
		garbage:      []byte(DefaultGarbage),
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithReadLimit sets the largest message a server reads (Echo, TLSEcho,
// Closer, Abrupt, Pinger). A larger message makes the server close with 1009.
func WithReadLimit(n int64) Option { return func(c *config) { c.readLimit = n } }

// WithSubprotocols replaces the subprotocols a server accepts (default "chat"
// and "superchat"); the first one in this list that the client offered wins.
// With no arguments no subprotocol is ever negotiated.
func WithSubprotocols(protocols ...string) Option {
	return func(c *config) { c.subprotocols = append([]string(nil), protocols...) }
}

// WithMessages makes a server send a copy of every data message it receives
// to ch (Echo, TLSEcho, Closer, Abrupt, Pinger). The send blocks until the
// test receives it or the server is closed, so a test that uses this option
// must drain ch.
func WithMessages(ch chan<- Message) Option { return func(c *config) { c.messages = ch } }

// Immediately makes a Closer close right after the upgrade instead of after
// the first message.
func Immediately() Option { return func(c *config) { c.immediately = true } }

// WithReset makes an Abrupt server reset the TCP connection (SO_LINGER 0,
// the peer sees ECONNRESET) instead of closing it with a FIN.
func WithReset() Option { return func(c *config) { c.reset = true } }

// WithGarbage replaces the bytes a Garbage server writes after its 101
// response (default DefaultGarbage).
func WithGarbage(b []byte) Option {
	return func(c *config) { c.garbage = append([]byte(nil), b...) }
}

// WithSelectedSubprotocol makes a Garbage server answer with
// "Sec-WebSocket-Protocol: p" in its 101, whatever the client offered.
func WithSelectedSubprotocol(p string) Option {
	return func(c *config) { c.selected = p }
}

// Message is one data message a server received.
type Message struct {
	Type websocket.MessageType
	Data []byte
}
