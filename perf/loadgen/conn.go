package loadgen

import (
	"context"
	"net"
	"net/url"
	"time"

	"github.com/socketx/socketx-server/client"
	"github.com/socketx/socketx-server/mte"
)

// wsConn is one established load connection; one goroutine uses send and
// receive, abort may be called from another to wake it.
type wsConn interface {
	send(p []byte) error
	receive() ([]byte, error)
	close() // polite close, bounded (about 2 s at most)
	abort() // wake a blocked receive now
}

// dialer opens load connections for one Config.
type dialer struct {
	cfg   Config
	u     *url.URL
	port  string
	uri   string
	opts  client.Options
	mtype mte.MessageType

	// The key-pool client (Config.KeyPool > 0).
	pool     *keyPool
	profile  *mte.Profile
	pathname string
}

func newDialer(cfg Config) (*dialer, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, err
	}
	d := &dialer{cfg: cfg, u: u, port: u.Port(), uri: u.RequestURI(), mtype: mte.TypeBinary}
	if d.port == "" {
		d.port = "80"
	}
	if cfg.Text {
		d.mtype = mte.TypeText
	}
	d.opts = client.Options{DialTimeout: cfg.Timeout, PairTimeout: cfg.Timeout}
	d.opts.KeyExchange = client.KeyExchange(mte.Strength(cfg.Strength).KeyExchange())
	if cfg.ServerKey != "" {
		pin, err := client.ParseServerKey(cfg.ServerKey)
		if err != nil {
			return nil, err
		}
		d.opts.ServerKeys = []client.ServerKey{pin}
	}
	if cfg.KeyPool > 0 {
		if d.profile, err = poolProfile(cfg.Strength); err != nil {
			return nil, err
		}
		var pin *mte.ServerPublicKey
		if len(d.opts.ServerKeys) > 0 {
			pin = &d.opts.ServerKeys[0]
		}
		if d.pool, err = newKeyPool(cfg.KeyPool, d.profile, pin); err != nil {
			return nil, err
		}
		d.pathname = client.Pathname(u)
	}
	return d, nil
}

// dial opens connection number i (global across workers).
func (d *dialer) dial(ctx context.Context, i int) (wsConn, error) {
	host := d.u.Host
	if d.cfg.DstIPs > 0 {
		host = net.JoinHostPort(nthLoopback(i, d.cfg.DstIPs).String(), d.port)
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	var local net.Addr
	if d.cfg.SrcIPs > 0 {
		local = &net.TCPAddr{IP: nthLoopback(i, d.cfg.SrcIPs).AsSlice()}
	}
	if d.cfg.Plain {
		c, err := dialPlain(ctx, host, d.uri, local, d.cfg.Text)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	if d.pool != nil {
		return dialPool(ctx, host, d.uri, d.pathname, local, d.cfg.Text, d.profile, d.pool)
	}
	u := *d.u
	u.Host = host
	opts := d.opts
	if local != nil {
		nd := net.Dialer{LocalAddr: local}
		opts.NetDial = nd.DialContext
	}
	c, err := client.Dial(ctx, u.String(), opts)
	if err != nil {
		return nil, err
	}
	return &sdkConn{c: c, t: d.mtype}, nil
}

// sdkConn adapts a SocketX client.Conn. It passes context.Background so the
// SDK sets no deadline and arms no timer per message.
type sdkConn struct {
	c *client.Conn
	t mte.MessageType
}

func (s *sdkConn) send(p []byte) error { return s.c.Send(context.Background(), s.t, p) }

func (s *sdkConn) receive() ([]byte, error) {
	t, p, err := s.c.Receive(context.Background())
	if err == nil && t != s.t {
		return nil, ErrMismatch
	}
	return p, err
}

func (s *sdkConn) close() { _ = s.c.Close(1000, "") }

func (s *sdkConn) abort() { go func() { _ = s.c.Close(1001, "") }() }

// abort on the plain client closes the socket.
func (c *plainConn) abort() { _ = c.nc.Close() }

var (
	_ wsConn = (*sdkConn)(nil)
	_ wsConn = (*plainConn)(nil)
)

// closeTimeout bounds the goodbye of all connections at the end of a run.
const closeTimeout = 3 * time.Second
