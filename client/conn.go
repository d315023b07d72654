package client

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/socketx/socketx-server/mte"
)

// closeWait is how long Close waits for the server's close frame.
const closeWait = 2 * time.Second

// Conn is a paired SocketX connection. See the package documentation for its
// concurrency rules.
type Conn struct {
	conn        net.Conn
	subprotocol string
	eeid        mte.EEID
	session     mte.Session // encoder guarded by wmu, decoder by rmu

	wmu       sync.Mutex // guards the following and every write to conn
	wbuf      []byte     // frame being written: maxFrameHeader headroom + message
	ctrl      [maxFrameHeader + maxControl]byte
	mask      [4]byte // scratch: a stack array would escape through crypto/rand
	closeSent bool    // a close frame was sent (no data frame may follow)
	broken    bool    // a write failed: the stream is unusable

	rmu      sync.Mutex // guards the following (the reading side)
	fr       frameReader
	finalErr error     // the error every later Receive returns
	pending  []Message // read by a stopped Messages pump, not handed over

	pump pump // Messages and Err

	peerClosed     chan struct{} // closed when the server's close frame or a read error arrived
	peerClosedOnce sync.Once
}

func newConn(nc net.Conn, fr frameReader, subprotocol string) *Conn {
	return &Conn{conn: nc, fr: fr, subprotocol: subprotocol, peerClosed: make(chan struct{})}
}

// EEID identifies a pairing; the proxy logs the same value. Its String
// method prints it as the proxy's logs do.
type EEID = mte.EEID

// EEID identifies the pairing; the proxy logs the same value.
func (c *Conn) EEID() EEID { return c.eeid }

// Subprotocol is the WebSocket subprotocol the server selected, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// RemoteAddr is the proxy's address.
func (c *Conn) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// LocalAddr is the local address of the connection.
func (c *Conn) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// Send encodes payload as one proxyData message of type t (Text or
// Binary) and writes it as one masked binary WebSocket frame. It is
// safe for concurrent use; messages go out in the order their Send calls
// take the connection's write lock, which is also their encoding order.
//
// ctx bounds the write. A write that fails or is cancelled part-way leaves
// the stream unusable, so it closes the connection; later calls return
// ErrClosed.
func (c *Conn) Send(ctx context.Context, t MessageType, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent || c.broken {
		return ErrClosed
	}
	buf := c.wbuf[:0]
	if cap(buf) < maxFrameHeader {
		buf = make([]byte, 0, maxFrameHeader+mte.HeaderLen+mte.Overhead+len(payload))
	}
	msg, err := c.session.Encoder().Seal(buf[:maxFrameHeader], mte.ActionProxyData, t, payload)
	if err != nil {
		return &MTEError{Op: "encode", Err: err}
	}
	err = c.writeFrameLocked(ctx, ws.OpBinary, msg)
	if cap(msg) <= maxKeptBuffer {
		c.wbuf = msg[:0]
	} else {
		c.wbuf = nil
	}
	return err
}

// writeFrameLocked masks and writes buf[maxFrameHeader:] as one frame,
// writing the frame header into the headroom before it. c.wmu must be held.
func (c *Conn) writeFrameLocked(ctx context.Context, op ws.OpCode, buf []byte) error {
	payload := buf[maxFrameHeader:]
	rand.Read(c.mask[:])
	start := putFrameHeader(buf, op, len(payload), c.mask)
	ws.Cipher(payload, c.mask, 0)
	done := watch(ctx, c.conn, false)
	_, err := c.conn.Write(buf[start:])
	if cancelled := done(); err != nil {
		c.broken = true
		c.conn.Close()
		if cancelled {
			return fmt.Errorf("client: write: %w", ctx.Err())
		}
		return fmt.Errorf("client: write: %w", err)
	}
	return nil
}

// writeControlLocked writes a control frame; c.wmu must be held.
func (c *Conn) writeControlLocked(ctx context.Context, op ws.OpCode, payload []byte) error {
	if c.broken {
		return ErrClosed
	}
	buf := c.ctrl[:maxFrameHeader+copy(c.ctrl[maxFrameHeader:], payload)]
	return c.writeFrameLocked(ctx, op, buf)
}

// Receive returns the next message from the proxy, decoded: its type
// (Text or Binary) and plaintext. The plaintext aliases the
// connection's read buffer and is valid until the next Receive call.
//
// Receive answers pings while it waits and joins fragmented messages. Only
// one goroutine may call Receive at a time. If ctx ends first, Receive
// returns ctx.Err() and the connection stays usable: a later Receive resumes
// with the partly read message.
//
// When the proxy closes the connection Receive returns *CloseError (and
// keeps returning it). A message that does not decode closes the connection
// with mte.CloseCode and returns *MTEError; a frame the server must not send
// closes it and returns an error wrapping ErrProtocol or ErrMessageTooBig.
func (c *Conn) Receive(ctx context.Context) (MessageType, []byte, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if len(c.pending) > 0 {
		m := c.pending[0]
		c.pending = c.pending[1:]
		return m.Type, m.Data, nil
	}
	if c.finalErr != nil {
		return 0, nil, c.finalErr
	}
	msg, err := c.readMessageLocked(ctx)
	if err != nil {
		return 0, nil, err
	}
	h, _, err := mte.ParseHeader(msg)
	if err == nil {
		err = h.Validate()
	}
	if err != nil {
		return 0, nil, c.failLocked(ctx, &MTEError{Op: "decode", Err: err})
	}
	if h.Action != mte.ActionProxyData {
		err := fmt.Errorf("%w: unexpected message after pairing: action=%d", ErrProtocol, h.Action)
		return 0, nil, c.failLocked(ctx, err)
	}
	h, pt, err := c.session.Decoder().Open(msg)
	if err != nil {
		return 0, nil, c.failLocked(ctx, &MTEError{Op: "decode", Err: err})
	}
	return h.Type, pt, nil
}

// readMessageLocked returns the next complete binary WebSocket message,
// answering pings and handling the server's close frame. c.rmu must be held.
func (c *Conn) readMessageLocked(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	done := watch(ctx, c.conn, true)
	defer done()
	for {
		op, p, err := c.fr.next()
		if err != nil {
			return nil, c.readErrorLocked(ctx, err)
		}
		switch op {
		case ws.OpPing:
			c.wmu.Lock()
			if !c.closeSent {
				err = c.writeControlLocked(ctx, ws.OpPong, p)
			}
			c.wmu.Unlock()
			if err != nil {
				return nil, c.fatalLocked(err)
			}
		case ws.OpPong:
		case ws.OpClose:
			return nil, c.peerCloseLocked(ctx, p)
		case ws.OpText:
			err := fmt.Errorf("%w: text message from the server", ErrProtocol)
			return nil, c.closeWithLocked(ctx, uint16(ws.StatusUnsupportedData), "client: text message", err)
		default: // ws.OpBinary
			return p, nil
		}
	}
}

// readErrorLocked classifies a read error: a deadline from ctx is returned
// as ctx.Err() and keeps the connection; frame violations close it with a
// code; anything else is fatal.
func (c *Conn) readErrorLocked(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, ErrMessageTooBig):
		return c.closeWithLocked(ctx, uint16(ws.StatusMessageTooBig), "client: message too big", err)
	case errors.Is(err, ErrProtocol):
		return c.closeWithLocked(ctx, uint16(ws.StatusProtocolError), "client: protocol error", err)
	}
	return c.fatalLocked(fmt.Errorf("client: read: %w", err))
}

// peerCloseLocked handles the server's close frame: it answers with a close
// frame (unless one was sent), closes TCP and records the CloseError.
func (c *Conn) peerCloseLocked(ctx context.Context, p []byte) error {
	ce := &CloseError{Code: uint16(ws.StatusNoStatusRcvd)}
	var echo []byte
	switch {
	case len(p) == 1:
		return c.closeWithLocked(ctx, uint16(ws.StatusProtocolError), "client: protocol error",
			fmt.Errorf("%w: 1-byte close payload", ErrProtocol))
	case len(p) >= 2:
		ce.Code, ce.Reason = binary.BigEndian.Uint16(p), string(p[2:])
		if !validCloseCode(ce.Code) || !utf8.ValidString(ce.Reason) {
			return c.closeWithLocked(ctx, uint16(ws.StatusProtocolError), "client: protocol error",
				fmt.Errorf("%w: close frame code %d", ErrProtocol, ce.Code))
		}
		echo = p[:2]
	}
	c.wmu.Lock()
	if !c.closeSent {
		c.closeSent = true
		c.writeControlLocked(ctx, ws.OpClose, echo)
	}
	c.wmu.Unlock()
	c.finalErr = ce
	c.signalPeerClosed()
	c.conn.Close()
	return ce
}

// closeWithLocked sends a close frame with code and reason, closes TCP and
// makes err the final error. c.rmu must be held.
func (c *Conn) closeWithLocked(ctx context.Context, code uint16, reason string, err error) error {
	c.wmu.Lock()
	if !c.closeSent && !c.broken {
		c.closeSent = true
		c.writeControlLocked(ctx, ws.OpClose, closePayload(code, reason))
	}
	c.broken = true
	c.wmu.Unlock()
	c.finalErr = err
	c.signalPeerClosed()
	c.conn.Close()
	return err
}

// failLocked closes the connection for an mte or protocol failure with the
// code mte.CloseCode gives for it (1002 for client protocol errors).
func (c *Conn) failLocked(ctx context.Context, err error) error {
	var me *MTEError
	if errors.As(err, &me) {
		code, reason := mte.CloseCode(me.Err)
		return c.closeWithLocked(ctx, code, reason, err)
	}
	return c.closeWithLocked(ctx, uint16(ws.StatusProtocolError), "client: protocol error", err)
}

// fatalLocked closes TCP and records err as the final error. If the
// connection was closed locally, the final error is ErrClosed.
func (c *Conn) fatalLocked(err error) error {
	c.wmu.Lock()
	if c.closeSent && c.finalErr == nil && !c.broken {
		// Close is in progress: its own TCP close ended the read.
		err = ErrClosed
	}
	c.broken = true
	c.wmu.Unlock()
	c.finalErr = err
	c.signalPeerClosed()
	c.conn.Close()
	return err
}

func (c *Conn) signalPeerClosed() { c.peerClosedOnce.Do(func() { close(c.peerClosed) }) }

// Close sends a close frame with code and reason (reason is cut to 123 bytes
// at a UTF-8 boundary; code 0 sends an empty close frame), waits briefly
// (up to 2 s) for the server's close frame, then closes the TCP connection.
// It returns ErrClosed if the connection was already closed.
func (c *Conn) Close(code uint16, reason string) error {
	c.wmu.Lock()
	if c.closeSent || c.broken {
		c.wmu.Unlock()
		c.conn.Close()
		return ErrClosed
	}
	c.closeSent = true
	ctx, cancel := context.WithTimeout(context.Background(), closeWait)
	defer cancel()
	err := c.writeControlLocked(ctx, ws.OpClose, closePayload(code, reason))
	c.wmu.Unlock()
	if err != nil {
		return err
	}
	if c.rmu.TryLock() {
		// No Receive in progress: read until the close frame ourselves.
		for c.finalErr == nil {
			if _, err := c.readMessageLocked(ctx); err != nil {
				break
			}
		}
		// A Receive that finished between our close frame and TryLock may
		// already have reported the server's close: keep that answer.
		if c.finalErr == nil {
			c.finalErr = ErrClosed
		}
		c.rmu.Unlock()
	} else {
		select {
		case <-c.peerClosed:
		case <-ctx.Done():
		}
	}
	c.conn.Close()
	return nil
}

// validCloseCode reports whether a received close code may appear on the
// wire (RFC 6455 §7.4 and the IANA registry): 1000–1003, 1007–1014 and the
// application ranges 3000–4999. 1004–1006 and 1015 must never be sent.
func validCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	default:
		return code >= 3000 && code <= 4999
	}
}

// closePayload encodes a close frame payload; code 0 gives none.
func closePayload(code uint16, reason string) []byte {
	if code == 0 {
		return nil
	}
	if len(reason) > maxControl-2 {
		reason = reason[:maxControl-2]
		for len(reason) > 0 && !utf8.ValidString(reason) {
			reason = reason[:len(reason)-1]
		}
	}
	p := make([]byte, 2, 2+len(reason))
	binary.BigEndian.PutUint16(p, code)
	return append(p, reason...)
}

// aLongTimeAgo is a deadline in the past: setting it interrupts blocked I/O.
var aLongTimeAgo = time.Unix(1, 0)

// watch applies ctx's deadline to conn's read (or write) deadline, and
// interrupts blocked I/O when ctx is cancelled. The returned func undoes the
// watch and reports whether ctx ended while watched. A context that can
// never be cancelled costs no allocation.
func watch(ctx context.Context, conn net.Conn, read bool) func() bool {
	d, _ := ctx.Deadline()
	setDeadline(conn, read, d)
	if ctx.Done() == nil {
		return notCancelled
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		setDeadline(conn, read, aLongTimeAgo)
		close(fired)
	})
	return func() bool {
		if stop() {
			return false
		}
		<-fired
		return true
	}
}

func notCancelled() bool { return false }

func setDeadline(conn net.Conn, read bool, t time.Time) {
	if read {
		conn.SetReadDeadline(t)
	} else {
		conn.SetWriteDeadline(t)
	}
}
