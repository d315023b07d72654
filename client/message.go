package client

import (
	"bytes"
	"context"
	"sync"

	"github.com/socketx/socketx-server/mte"
)

// MessageType is the type of a message, Text or Binary, as the upstream
// sent it or as it is to be sent.
type MessageType = mte.MessageType

// Message types.
const (
	Text   = mte.TypeText
	Binary = mte.TypeBinary
)

// Message is one decoded message from the proxy, or one message handed to
// ReconnectingConn that was never written (Events.OnUndelivered). Data is
// owned by the receiver: it does not alias any connection buffer.
type Message struct {
	// Type is Text or Binary, as the upstream sent it.
	Type MessageType
	// Data is the plaintext.
	Data []byte
}

// ownedMessage copies p so the Message outlives the read buffer. An empty
// message has a non-nil empty Data.
func ownedMessage(t MessageType, p []byte) Message {
	d := bytes.Clone(p)
	if d == nil {
		d = []byte{}
	}
	return Message{Type: t, Data: d}
}

// pump feeds a Messages channel. recv returns the next owned message; when
// ctx ends between a recv and the hand-over, stash keeps the message for the
// next Receive, so stopping a Messages channel never loses a message.
type pump struct {
	mu  sync.Mutex // guards err
	err error      // what closed the most recent channel
}

func (p *pump) start(ctx context.Context, recv func(context.Context) (Message, error), stash func(Message)) <-chan Message {
	p.mu.Lock()
	p.err = nil
	p.mu.Unlock()
	out := make(chan Message)
	go func() {
		var err error
		defer func() {
			p.mu.Lock()
			p.err = err
			p.mu.Unlock()
			close(out)
		}()
		for {
			var m Message
			if m, err = recv(ctx); err != nil {
				return
			}
			select {
			case out <- m:
			case <-ctx.Done():
				stash(m)
				err = ctx.Err()
				return
			}
		}
	}()
	return out
}

func (p *pump) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Messages returns a channel of the messages Receive would return, each an
// owned copy, and closes it when the connection ends (Err then returns the
// *CloseError, ErrClosed, ...) or when ctx ends (Err returns ctx.Err(); the
// connection stays usable and no message is lost: one that was read but not
// yet handed over is returned by the next Receive or Messages).
//
// The channel is unbuffered: a slow consumer slows the reading, and pings
// are answered only while the channel is drained. Messages occupies the
// reading side like Receive: do not call Receive, or Messages again, until
// the channel is closed.
func (c *Conn) Messages(ctx context.Context) <-chan Message {
	return c.pump.start(ctx, c.receiveOwned, c.stash)
}

// Err returns the error that closed the channel of the most recent Messages
// call, nil while it is open (or before Messages was called).
func (c *Conn) Err() error { return c.pump.Err() }

func (c *Conn) receiveOwned(ctx context.Context) (Message, error) {
	t, p, err := c.Receive(ctx)
	if err != nil {
		return Message{}, err
	}
	return ownedMessage(t, p), nil
}

// stash keeps a message read but not handed over; Receive returns it first.
func (c *Conn) stash(m Message) {
	c.rmu.Lock()
	c.pending = append(c.pending, m)
	c.rmu.Unlock()
}
