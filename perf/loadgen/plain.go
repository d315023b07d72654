package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/socketx/socketx-server/codec"
)

var (
	errUpgrade    = errors.New("loadgen: websocket upgrade failed")
	errPeerClosed = errors.New("loadgen: peer closed the connection")
)

// plainReadBuffer is the plain client's read buffer; larger messages grow it.
const plainReadBuffer = 16 << 10

// plainConn is a minimal RFC 6455 client for plain WebSocket targets. One
// goroutine uses it (send and receive alternate in the connection's loop).
type plainConn struct {
	nc       net.Conn
	rbuf     []byte // rbuf[r:w] is buffered input
	r, w     int
	wbuf     []byte
	maskSeed uint32
	op       codec.OpCode
}

// dialPlain connects, upgrades and returns the connection; local may be nil.
func dialPlain(ctx context.Context, host, uri string, local net.Addr, text bool) (*plainConn, error) {
	d := net.Dialer{LocalAddr: local}
	nc, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	var key [24]byte
	if err := codec.NewKey(rand.Reader, &key); err != nil {
		nc.Close()
		return nil, err
	}
	req := codec.AppendClientHandshake(nil, &codec.ClientHandshake{Host: host, RequestURI: uri, Key: string(key[:]), UserAgent: "socketx-bench"})
	if _, err := nc.Write(req); err != nil {
		nc.Close()
		return nil, err
	}
	c := &plainConn{nc: nc, rbuf: make([]byte, plainReadBuffer), op: codec.OpBinary}
	if text {
		c.op = codec.OpText
	}
	var seed [4]byte
	_, _ = rand.Read(seed[:])
	c.maskSeed = binary.LittleEndian.Uint32(seed[:]) | 1
	for {
		var resp codec.HandshakeResponse
		n, err := codec.ParseHandshakeResponse(c.rbuf[:c.w], 8<<10, key[:], &resp)
		if err == nil {
			c.r = n
			break
		}
		if !errors.Is(err, codec.ErrNeedMore) {
			nc.Close()
			return nil, fmt.Errorf("%w: %w", errUpgrade, err)
		}
		m, err := nc.Read(c.rbuf[c.w:])
		if err != nil {
			nc.Close()
			return nil, err
		}
		c.w += m
	}
	_ = nc.SetDeadline(time.Time{})
	return c, nil
}

// nextMask is a cheap per-frame mask (xorshift); a load generator needs no
// unpredictability.
func (c *plainConn) nextMask() [4]byte {
	x := c.maskSeed
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	c.maskSeed = x
	var m [4]byte
	binary.LittleEndian.PutUint32(m[:], x)
	return m
}

// send writes payload as one masked frame.
func (c *plainConn) send(payload []byte) error {
	return c.writeFrame(c.op, payload)
}

func (c *plainConn) writeFrame(op codec.OpCode, payload []byte) error {
	mask := c.nextMask()
	b := codec.AppendFrameHeader(c.wbuf[:0], true, op, len(payload), &mask)
	start := len(b)
	b = append(b, payload...)
	codec.Unmask(b[start:], mask, 0)
	c.wbuf = b
	_, err := c.nc.Write(b)
	return err
}

// receive returns the next data frame's payload (valid until the next call),
// answering pings. A close frame returns errPeerClosed.
func (c *plainConn) receive() ([]byte, error) {
	lim := codec.Limits{ForbidMask: true}
	for {
		var h codec.Header
		n, err := codec.ParseHeader(c.rbuf[c.r:c.w], lim, &h)
		if err == nil && c.w-c.r >= n+int(h.Length) {
			p := c.rbuf[c.r+n : c.r+n+int(h.Length)]
			c.r += n + int(h.Length)
			switch h.Op {
			case codec.OpPing:
				if err := c.writeFrame(codec.OpPong, p); err != nil {
					return nil, err
				}
				continue
			case codec.OpPong:
				continue
			case codec.OpClose:
				return nil, errPeerClosed
			}
			return p, nil
		}
		if err != nil && !errors.Is(err, codec.ErrNeedMore) {
			return nil, err
		}
		need := plainReadBuffer
		if err == nil {
			need = n + int(h.Length)
		}
		if c.r > 0 { // compact
			c.w = copy(c.rbuf, c.rbuf[c.r:c.w])
			c.r = 0
		}
		if need > len(c.rbuf) {
			nb := make([]byte, need)
			c.w = copy(nb, c.rbuf[:c.w])
			c.rbuf = nb
		}
		m, err := c.nc.Read(c.rbuf[c.w:])
		c.w += m
		if err != nil && m == 0 {
			if errors.Is(err, io.EOF) {
				return nil, errPeerClosed
			}
			return nil, err
		}
	}
}

// close sends a close frame and closes the socket without waiting. It may
// run while another goroutine is in receive (hold mode), so it builds its
// frame in its own buffer with a fixed mask instead of using c's.
func (c *plainConn) close() {
	var p [2]byte
	binary.BigEndian.PutUint16(p[:], codec.CloseNormal)
	var buf [codec.MaxHeaderLen + 2]byte
	mask := [4]byte{0x5a, 0x5a, 0x5a, 0x5a}
	b := codec.AppendFrameHeader(buf[:0], true, codec.OpClose, len(p), &mask)
	start := len(b)
	b = append(b, p[:]...)
	codec.Unmask(b[start:], mask, 0)
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.nc.Write(b)
	_ = c.nc.Close()
}
