package client

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/socketx/socketx-server/mte"
)

// ReconnectingConn is a SocketX connection that survives the loss of its
// socket: when the proxy restarts or drains (1001), the upstream drops
// (1011) or the network fails, it dials again with backoff, pairs afresh
// (a new EEID: replicas share no state) and writes the messages that were
// waiting. Create it with DialReconnecting.
//
// # Delivery
//
// A message is "written" once its whole frame was handed to the kernel on a
// connected socket. SocketX has no acknowledgements, so a written message
// can still be lost if that socket dies before the proxy forwards it (in
// flight); it is never written twice. A message that was not written is
// never lost silently:
//
//   - Send returns nil only once the message was written, possibly on a
//     new socket after a reconnect. Any error means it was not written.
//   - SendAsync returns nil once the message is queued; it is then written
//     in order, or, if the connection ends first, listed exactly once in
//     Events.OnUndelivered.
//   - A write that fails part-way (the socket broke under it) did not
//     deliver the message, since the proxy only decodes complete frames:
//     the message is queued again and written on the next socket.
//
// Queued messages keep their order and are written before any message sent
// later. Messages written to one socket are received by the proxy in order;
// across a reconnect, messages lost in flight leave gaps but never reorder.
//
// # Reading
//
// Take the incoming messages (Receive or Messages) continuously, even if the
// application ignores them: the socket is read only as fast as they are
// taken, so an unread connection stops answering the proxy's pings, and
// after a disconnect the reconnect waits until the old socket's messages
// were taken (that is what keeps them in order).
//
// # Concurrency
//
// Send and SendAsync may be called from any number of goroutines. Receive
// and Messages share the incoming stream: a message goes to exactly one of
// them. Close may be called at any time, except from an Events callback.
type ReconnectingConn struct {
	url  string
	opts Options
	ro   ReconnectOptions

	parent context.Context    // the DialReconnecting context
	ctx    context.Context    // parent, also cancelled by Close and at the end
	cancel context.CancelFunc //
	kick   chan struct{}      // cap 1: the queue has messages to write
	in     chan Message       // messages from the current socket; closed at the end
	done   chan struct{}      // closed when run returned

	mu          sync.Mutex // guards the following
	conn        *Conn      // the connected socket; nil while reconnecting
	eeid        mte.EEID   // conn's pairing
	queue       []*outMsg  // messages waiting for a socket, in send order
	unwritable  []Message  // SendAsync messages the encoder refused
	err         error      // why the connection ended; nil while alive
	closing     bool       // Close was called
	closeCode   uint16     // Close's arguments
	closeReason string

	pmu     sync.Mutex // guards pending
	pending []Message  // read by a stopped Messages pump, not handed over
	pump    pump
}

// outMsg is a queued message.
type outMsg struct {
	typ  MessageType
	data []byte
	done chan error // Send's result (cap 1); nil for SendAsync

	// Guarded by ReconnectingConn.mu.
	taken     bool  // being written by the flusher
	abandoned error // Send's ctx ended while taken: its error
}

// DialReconnecting dials like Dial and returns a connection that reconnects
// according to ro. The first dial is not retried: its error (a refused
// Origin, a strength mismatch, an unreachable proxy) is returned as Dial
// returns it. Reconnects begin once a connection has been established.
//
// ctx governs the connection's whole life, not only the first dial: when
// it ends, the socket is closed with 1001, reconnecting stops and Send,
// Receive and Err report ctx.Err(). Use Options.DialTimeout and PairTimeout
// to bound each dial.
func DialReconnecting(ctx context.Context, rawURL string, opts Options, ro ReconnectOptions) (*ReconnectingConn, error) {
	c, err := Dial(ctx, rawURL, opts)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	r := &ReconnectingConn{
		url:    rawURL,
		opts:   opts,
		ro:     ro,
		parent: ctx,
		ctx:    rctx,
		cancel: cancel,
		kick:   make(chan struct{}, 1),
		in:     make(chan Message),
		done:   make(chan struct{}),
		conn:   c,
		eeid:   c.EEID(),
	}
	go r.run(c)
	return r, nil
}

// EEID is the current pairing's EEID; it changes on every reconnect and is
// zero while reconnecting.
func (r *ReconnectingConn) EEID() EEID {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.eeid
}

// Done is closed once the connection has ended for good (after
// Events.OnUndelivered returned).
func (r *ReconnectingConn) Done() <-chan struct{} { return r.done }

// Send writes one proxyData message of type t (Text or
// Binary) and returns nil only once it was written to a socket. If
// the connection is reconnecting, or the socket breaks under the write, the
// message waits (counted against QueueLimit) and is written on the next
// socket, after the messages queued before it.
//
// Errors mean the message was not written: ErrQueueFull; ctx.Err() (a
// queued message is withdrawn; if it was already being written, Send waits
// for that write and returns its outcome); the error that ended the
// connection (ErrClosed after Close, *ReconnectError, a *CloseError that is
// not retried, the DialReconnecting context's error).
func (r *ReconnectingConn) Send(ctx context.Context, t MessageType, payload []byte) error {
	if t != Text && t != Binary {
		return &MTEError{Op: "encode", Err: mte.ErrBadMessageType}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	if r.err != nil {
		err := r.err
		r.mu.Unlock()
		return err
	}
	if c := r.conn; c != nil && len(r.queue) == 0 {
		r.mu.Unlock()
		err := c.Send(ctx, t, payload)
		var me *MTEError
		if err == nil || ctx.Err() != nil || errors.As(err, &me) {
			return err
		}
		// The socket broke before the frame was complete: not delivered.
		r.mu.Lock()
		if r.err != nil {
			err := r.err
			r.mu.Unlock()
			return err
		}
	}
	m, err := r.enqueueLocked(t, payload, true)
	r.mu.Unlock()
	if err != nil {
		return err
	}
	return r.wait(ctx, m)
}

// SendAsync queues one proxyData message and returns without waiting for
// the network. Queued messages are written in order by the connection's
// goroutine, on the current socket or the next one. It returns
// ErrQueueFull when QueueLimit messages are already waiting, and the error
// that ended the connection once it has ended; a message for which it
// returned nil is either written or, if the connection ends first, passed
// to Events.OnUndelivered.
func (r *ReconnectingConn) SendAsync(t MessageType, payload []byte) error {
	if t != Text && t != Binary {
		return &MTEError{Op: "encode", Err: mte.ErrBadMessageType}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	_, err := r.enqueueLocked(t, payload, false)
	return err
}

// enqueueLocked appends a copy of payload to the queue; r.mu must be held.
func (r *ReconnectingConn) enqueueLocked(t MessageType, payload []byte, wait bool) (*outMsg, error) {
	if len(r.queue) >= r.ro.queueLimit() {
		return nil, ErrQueueFull
	}
	m := &outMsg{typ: t, data: bytes.Clone(payload)}
	if wait {
		m.done = make(chan error, 1)
	}
	r.queue = append(r.queue, m)
	if r.ro.queued != nil {
		r.ro.queued(len(r.queue))
	}
	select {
	case r.kick <- struct{}{}:
	default:
	}
	return m, nil
}

// wait blocks until m was written or the connection ended, or withdraws m
// when ctx ends first.
func (r *ReconnectingConn) wait(ctx context.Context, m *outMsg) error {
	select {
	case err := <-m.done:
		return err
	case <-ctx.Done():
	}
	r.mu.Lock()
	select {
	case err := <-m.done:
		r.mu.Unlock()
		return err
	default:
	}
	if m.taken {
		m.abandoned = ctx.Err()
		r.mu.Unlock()
		return <-m.done
	}
	for i, q := range r.queue {
		if q == m {
			r.queue = append(r.queue[:i], r.queue[i+1:]...)
			break
		}
	}
	r.mu.Unlock()
	return ctx.Err()
}

// Receive returns the next message from the proxy, from whichever socket is
// connected; Data is owned by the caller. Messages keep their order across
// a reconnect (those of the old socket come first). It returns ctx.Err()
// when ctx ends (the connection is unaffected) and the error that ended the
// connection once it has ended and every message was received.
func (r *ReconnectingConn) Receive(ctx context.Context) (MessageType, []byte, error) {
	m, err := r.receive(ctx)
	return m.Type, m.Data, err
}

func (r *ReconnectingConn) receive(ctx context.Context) (Message, error) {
	r.pmu.Lock()
	if len(r.pending) > 0 {
		m := r.pending[0]
		r.pending = r.pending[1:]
		r.pmu.Unlock()
		return m, nil
	}
	r.pmu.Unlock()
	if err := ctx.Err(); err != nil {
		return Message{}, err
	}
	select {
	case m, ok := <-r.in:
		if !ok {
			r.mu.Lock()
			defer r.mu.Unlock()
			return Message{}, r.err
		}
		return m, nil
	case <-ctx.Done():
		return Message{}, ctx.Err()
	}
}

// Messages returns a channel of the incoming messages, as Receive returns
// them, closed when the connection ends (Err then says why) or ctx ends
// (Err returns ctx.Err(); no message is lost: call Messages or Receive
// again to continue). The channel is unbuffered: read it promptly, since
// the socket is read (and the proxy's pings answered) only as fast as the
// messages are taken.
func (r *ReconnectingConn) Messages(ctx context.Context) <-chan Message {
	return r.pump.start(ctx, r.receive, func(m Message) {
		r.pmu.Lock()
		r.pending = append(r.pending, m)
		r.pmu.Unlock()
	})
}

// Err returns the error that closed the channel of the most recent Messages
// call (nil while it is open): ErrClosed after Close, *ReconnectError,
// a *CloseError that is not retried, or a context's error.
func (r *ReconnectingConn) Err() error { return r.pump.Err() }

// Close stops reconnecting, closes the current socket with code and reason
// (see Conn.Close) and returns once the connection has ended: blocked Send
// calls have returned ErrClosed and Events.OnUndelivered has been called for
// the queued SendAsync messages, which Close does not write. It returns
// ErrClosed if the connection had already ended. It must not be called from
// an Events callback.
func (r *ReconnectingConn) Close(code uint16, reason string) error {
	r.mu.Lock()
	if r.err != nil || r.closing {
		r.mu.Unlock()
		<-r.done
		return ErrClosed
	}
	r.closing, r.closeCode, r.closeReason = true, code, reason
	r.mu.Unlock()
	r.cancel()
	<-r.done
	return nil
}

// run manages the connection: it serves a socket until it ends, then
// reconnects or finishes.
func (r *ReconnectingConn) run(c *Conn) {
	defer close(r.done)
	for {
		err := r.serve(c)
		if end := r.endErr(); end != nil {
			r.finish(end)
			return
		}
		if !r.ro.shouldReconnect(err) {
			r.finish(err)
			return
		}
		if c = r.redial(err); c == nil {
			return
		}
	}
}

// serve makes c the current socket, writes queued messages to it whenever
// there are some, and returns the error that ended it. When the connection
// is closing it closes c.
func (r *ReconnectingConn) serve(c *Conn) error {
	readErr := make(chan error, 1)
	go r.read(c, readErr)
	r.mu.Lock()
	r.conn, r.eeid = c, c.EEID()
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.conn, r.eeid = nil, mte.EEID{}
		r.mu.Unlock()
	}()
	for r.ctx.Err() == nil {
		if r.flush(c) != nil {
			return <-readErr // the failed write closed c: the reader ends
		}
		select {
		case err := <-readErr:
			return err
		case <-r.kick:
		case <-r.ctx.Done():
		}
	}
	code, reason := uint16(1001), "going away"
	r.mu.Lock()
	if r.closing {
		code, reason = r.closeCode, r.closeReason
	}
	r.conn = nil // sends queue from now on
	r.mu.Unlock()
	c.Close(code, reason)
	return <-readErr
}

// flush writes the queued messages to c in order until the queue is empty.
// It returns the error of a failed write; the message stays queued.
func (r *ReconnectingConn) flush(c *Conn) error {
	for {
		r.mu.Lock()
		if len(r.queue) == 0 {
			r.mu.Unlock()
			return nil
		}
		m := r.queue[0]
		m.taken = true
		r.mu.Unlock()

		err := c.Send(r.ctx, m.typ, m.data)

		r.mu.Lock()
		m.taken = false
		var me *MTEError
		switch {
		case err == nil:
			r.popLocked(m, nil)
		case m.abandoned != nil:
			r.popLocked(m, m.abandoned)
		case errors.As(err, &me):
			// The encoder refused this message; the socket is fine.
			if m.done == nil {
				r.unwritable = append(r.unwritable, Message{Type: m.typ, Data: m.data})
			}
			r.popLocked(m, err)
		default:
			r.mu.Unlock()
			return err
		}
		r.mu.Unlock()
	}
}

// popLocked removes the queue's head m and reports err to its Send.
func (r *ReconnectingConn) popLocked(m *outMsg, err error) {
	r.queue[0] = nil
	r.queue = r.queue[1:]
	if m.done != nil {
		m.done <- err
	}
}

// read passes c's messages to r.in until c ends, then reports its error.
func (r *ReconnectingConn) read(c *Conn, end chan<- error) {
	for {
		t, p, err := c.Receive(context.Background())
		if err != nil {
			end <- err
			return
		}
		select {
		case r.in <- ownedMessage(t, p):
		case <-r.ctx.Done(): // ending: nobody is owed this message
		}
	}
}

// redial dials until a socket is paired, with full-jitter backoff that
// honours a refused upgrade's Retry-After (ReconnectOptions.delay). It
// returns nil after finishing the connection when the policy gives up.
func (r *ReconnectingConn) redial(cause error) *Conn {
	for attempt := 1; ; attempt++ {
		if r.ro.MaxAttempts > 0 && attempt > r.ro.MaxAttempts {
			r.finish(&ReconnectError{Attempts: attempt - 1, Err: cause})
			return nil
		}
		if f := r.ro.Events.OnReconnecting; f != nil {
			f(attempt, cause)
		}
		t := time.NewTimer(r.ro.delay(attempt, cause))
		select {
		case <-t.C:
		case <-r.ctx.Done():
			t.Stop()
			r.finish(r.endErr())
			return nil
		}
		c, err := Dial(r.ctx, r.url, r.opts)
		if err == nil {
			if f := r.ro.Events.OnReconnected; f != nil {
				f(c.EEID())
			}
			return c
		}
		if end := r.endErr(); end != nil {
			r.finish(end)
			return nil
		}
		if !r.ro.shouldReconnect(err) {
			r.finish(&ReconnectError{Attempts: attempt, Err: err})
			return nil
		}
		cause = err
	}
}

// endErr is ErrClosed after Close, the parent context's error when it
// ended, else nil.
func (r *ReconnectingConn) endErr() error {
	if r.ctx.Err() == nil {
		return nil
	}
	r.mu.Lock()
	closing := r.closing
	r.mu.Unlock()
	if closing || r.parent.Err() == nil {
		return ErrClosed
	}
	return r.parent.Err()
}

// finish ends the connection with err: blocked Sends get err, the queued
// SendAsync messages go to OnUndelivered, Receive and Messages see the end.
// No reader goroutine is running when it is called.
func (r *ReconnectingConn) finish(err error) {
	r.mu.Lock()
	r.err = err
	r.conn, r.eeid = nil, mte.EEID{}
	undelivered := r.unwritable
	for _, m := range r.queue {
		if m.done != nil {
			m.done <- err
		} else {
			undelivered = append(undelivered, Message{Type: m.typ, Data: m.data})
		}
	}
	r.queue, r.unwritable = nil, nil
	r.mu.Unlock()
	r.cancel()
	close(r.in)
	if f := r.ro.Events.OnUndelivered; f != nil && len(undelivered) > 0 {
		f(undelivered, err)
	}
}
