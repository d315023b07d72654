package loadgen

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/socketx/socketx-server/mte"
)

// errKeyPoolHandshake is a SocketX handshake failure of the key-pool client
// (counted as kind "handshake").
var errKeyPoolHandshake = errors.New("loadgen: socketx handshake failed")

// keyPool is a fixed set of client key pairs, generated once, that the
// key-pool client (Config.KeyPool) hands out round robin. An mte.Initiator's
// Finish only reads it, so goroutines share them. The proxy cannot tell: it
// runs its full key exchange for every pairing; only the load generator
// skips its two key generations per connection. Reusing client keys is for
// load tests only.
type keyPool struct {
	ins  []*mte.Initiator
	next atomic.Uint64
}

// newKeyPool generates n initiators for profile, pinned to pin when set.
func newKeyPool(n int, profile *mte.Profile, pin *mte.ServerPublicKey) (*keyPool, error) {
	p := &keyPool{ins: make([]*mte.Initiator, n)}
	for i := range p.ins {
		var err error
		if pin != nil {
			p.ins[i], err = mte.NewPinnedInitiator(profile, *pin, rand.Reader)
		} else {
			p.ins[i], err = mte.NewInitiator(profile, rand.Reader)
		}
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *keyPool) get() *mte.Initiator {
	return p.ins[(p.next.Add(1)-1)%uint64(len(p.ins))]
}

// poolConn is a SocketX connection of the key-pool client: the plain client
// underneath, paired with a pooled key pair (actions 0 to 5 of
// docs/PROTOCOL.md), then sealing and opening each message itself. One
// goroutine uses it, as plainConn.
type poolConn struct {
	*plainConn
	sess mte.Session
	t    mte.MessageType
	sbuf []byte
}

// dialPool connects host, upgrades, and pairs with a key pair from pool.
func dialPool(ctx context.Context, host, uri, pathname string, local net.Addr, text bool, profile *mte.Profile, pool *keyPool) (*poolConn, error) {
	pc, err := dialPlain(ctx, host, uri, local, false) // SocketX messages travel in binary frames
	if err != nil {
		return nil, err
	}
	c := &poolConn{plainConn: pc, t: mte.TypeBinary}
	if text {
		c.t = mte.TypeText
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = pc.nc.SetDeadline(dl)
	}
	if err := c.pair(profile, pool.get(), pathname); err != nil {
		_ = pc.nc.Close()
		return nil, err
	}
	_ = pc.nc.SetDeadline(time.Time{})
	return c, nil
}

// pair runs actions 0 to 5 with in.
func (c *poolConn) pair(profile *mte.Profile, in *mte.Initiator, pathname string) error {
	if err := c.writeHandshake(mte.ActionRequest, nil); err != nil {
		return err
	}
	if _, err := c.expect(mte.ActionResponse); err != nil {
		return err
	}
	if err := c.writeHandshake(mte.ActionPairRequest, in.Request()); err != nil {
		return err
	}
	resp, err := c.expect(mte.ActionPairResponse)
	if err != nil {
		return err
	}
	if err := in.Finish(resp, &c.sess); err != nil {
		return fmt.Errorf("%w: %w", errKeyPoolHandshake, err)
	}
	body := `{"pathname":` + strconv.Quote(pathname) + `}`
	msg, err := c.sess.Encoder().Seal(nil, mte.ActionUpstreamRequest, mte.TypeHandshake, []byte(body))
	if err != nil {
		return err
	}
	if err := c.writeFrame(c.op, msg); err != nil {
		return err
	}
	_, err = c.expect(mte.ActionUpstreamResponse)
	return err
}

// writeHandshake sends one plaintext handshake message (type 254).
func (c *poolConn) writeHandshake(a mte.Action, payload []byte) error {
	msg := mte.AppendHeader(make([]byte, 0, mte.HeaderLen+len(payload)), a, mte.TypeHandshake)
	return c.writeFrame(c.op, append(msg, payload...))
}

// expect reads the next handshake message and returns its payload if its
// action is want.
func (c *poolConn) expect(want mte.Action) ([]byte, error) {
	msg, err := c.plainConn.receive()
	if err != nil {
		if errors.Is(err, errPeerClosed) {
			return nil, fmt.Errorf("%w: closed waiting for action %v", errKeyPoolHandshake, want)
		}
		return nil, err
	}
	h, payload, err := mte.ParseHeader(msg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errKeyPoolHandshake, err)
	}
	if h.Action != want {
		return nil, fmt.Errorf("%w: action %v, want %v", errKeyPoolHandshake, h.Action, want)
	}
	return payload, nil
}

// send seals p and writes it as one frame.
func (c *poolConn) send(p []byte) error {
	msg, err := c.sess.Encoder().Seal(c.sbuf[:0], mte.ActionProxyData, c.t, p)
	if err != nil {
		return err
	}
	c.sbuf = msg
	return c.writeFrame(c.op, msg)
}

// receive opens the next message (valid until the next call).
func (c *poolConn) receive() ([]byte, error) {
	msg, err := c.plainConn.receive()
	if err != nil {
		return nil, err
	}
	h, pt, err := c.sess.Decoder().Open(msg)
	if err != nil {
		return nil, err
	}
	if h.Action != mte.ActionProxyData || h.Type != c.t {
		return nil, ErrMismatch
	}
	return pt, nil
}

var _ wsConn = (*poolConn)(nil)

// poolProfile builds the profile the key-pool client pairs with: the
// SDK's for the same key exchange (no licence fields, as the bench's SDK
// options).
func poolProfile(strength int) (*mte.Profile, error) {
	return mte.NewProfile(mte.Params{Strength: mte.Strength(strength)})
}
