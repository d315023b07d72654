package mitm

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/socketx/socketx-server/client"
	"github.com/socketx/socketx-server/mte"
)

// Mode is how the relay answers a pairRequest.
type Mode int

const (
	// ModeStrip answers without serverConfirm, as a proxy without server
	// keys does: a pinned client refuses it as "unsupported".
	ModeStrip Mode = iota
	// ModeForge answers with a made-up serverConfirm: a pinned client
	// refuses it as the wrong server.
	ModeForge
)

// String returns "strip" or "forge", the names ParseMode takes.
func (m Mode) String() string {
	switch m {
	case ModeStrip:
		return "strip"
	case ModeForge:
		return "forge"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// ParseMode returns the Mode named "strip" or "forge".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "strip":
		return ModeStrip, nil
	case "forge":
		return ModeForge, nil
	}
	return 0, errors.New("mitm: mode is strip or forge, not " + strconv.Quote(s))
}

// DefaultTimeout bounds a relayed connection when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Config configures a Relay.
type Config struct {
	// Proxy is the real proxy's ws:// URL; its path is ignored (the relay
	// sends the client's pathname).
	Proxy string
	// Strength is the key exchange of both pairings, the proxy's.
	Strength mte.Strength
	// Mode is how the relay answers a pairRequest.
	Mode Mode
	// Timeout bounds each relayed connection (default DefaultTimeout).
	Timeout time.Duration
	// OnRecord, if set, is called with each Record, one call at a time, in
	// the order of Records. The relay waits for it: it must not block on
	// the relay.
	OnRecord func(Record)
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case !strings.HasPrefix(c.Proxy, "ws://") && !strings.HasPrefix(c.Proxy, "wss://"):
		return errors.New("mitm: proxy URL is not ws:// or wss://")
	case !c.Strength.Valid():
		return errors.New("mitm: unknown key exchange " + c.Strength.String())
	case c.Mode != ModeStrip && c.Mode != ModeForge:
		return errors.New("mitm: unknown mode " + c.Mode.String())
	}
	return nil
}

// Record kinds.
const (
	// KindPair: the client's pairRequest arrived. Data is the serverKeyId
	// it names (a pinned client), empty for an unpinned client.
	KindPair = "pair"
	// KindPathname: the relay decoded the client's action 4. Data is the
	// pathname.
	KindPathname = "pathname"
	// KindText and KindBinary: the relay decoded a message the client sent
	// (and passed it on to the proxy). Data is the text, or the hex of the
	// binary message.
	KindText   = "text"
	KindBinary = "binary"
	// KindEnd: the client connection is over, the connection's last
	// record. Data says how: "client closed 1008 mte: server not
	// authenticated", "client gone", "relay closed", "proxy: <error>".
	KindEnd = "end"
)

// Record is one thing the relay learned about a client connection. The
// command prints each as a JSON line.
type Record struct {
	Conn int    `json:"conn"` // 1 for the first accepted connection, and so on
	Kind string `json:"kind"` // one of the Kind constants
	Data string `json:"data"`
}

// Relay is a running man in the middle.
type Relay struct {
	cfg     Config
	profile *mte.Profile
	ln      net.Listener
	ctx     context.Context // cancelled by Close: ends dials to the proxy
	cancel  context.CancelFunc
	wg      sync.WaitGroup // accept loop and connections

	mu      sync.Mutex // guards the following; held while OnRecord runs
	n       int        // connections accepted
	records []Record
	conns   map[net.Conn]struct{}
	closed  bool
}

// Listen validates cfg, listens on addr (e.g. "127.0.0.1:0") and serves
// until Close.
func Listen(addr string, cfg Config) (*Relay, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	prof, err := mte.NewProfile(mte.Params{Strength: cfg.Strength, Window: 64})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	r := &Relay{cfg: cfg, profile: prof, ln: ln, conns: make(map[net.Conn]struct{})}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.wg.Add(1)
	go r.accept()
	return r, nil
}

// URL is the relay's ws:// URL, without a path.
func (r *Relay) URL() string { return "ws://" + r.ln.Addr().String() }

// Records returns a copy of the records so far.
func (r *Relay) Records() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Record(nil), r.records...)
}

// Close stops accepting, closes every client connection and waits for the
// relay's goroutines to end.
func (r *Relay) Close() error {
	err := r.ln.Close()
	r.cancel()
	r.mu.Lock()
	r.closed = true
	for nc := range r.conns {
		nc.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return err
}

func (r *Relay) accept() {
	defer r.wg.Done()
	for {
		nc, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			nc.Close()
			return
		}
		r.n++
		id := r.n
		r.conns[nc] = struct{}{}
		r.wg.Add(1)
		r.mu.Unlock()
		go func() {
			defer r.wg.Done()
			end := r.serve(id, nc)
			nc.Close()
			r.mu.Lock()
			delete(r.conns, nc)
			r.mu.Unlock()
			r.record(id, KindEnd, end)
		}()
	}
}

func (r *Relay) record(conn int, kind, data string) {
	rec := Record{Conn: conn, Kind: kind, Data: data}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec)
	if r.cfg.OnRecord != nil {
		r.cfg.OnRecord(rec)
	}
}

// clientLeg is the relay's end of the client's WebSocket: reads on one
// goroutine, writes (and the close replies wsutil writes while reading)
// under mu.
type clientLeg struct {
	net.Conn
	mu sync.Mutex // guards writes
}

func (c *clientLeg) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.Write(b)
}

// read returns the next message of the client.
func (c *clientLeg) read() ([]byte, error) {
	b, _, err := wsutil.ReadClientData(c)
	return b, err
}

func (c *clientLeg) send(b []byte) error { return wsutil.WriteServerBinary(c, b) }

func (c *clientLeg) handshake(a mte.Action, payload []byte) error {
	return c.send(append(mte.AppendHeader(nil, a, mte.TypeHandshake), payload...))
}

// ended describes how reading from the client failed, for KindEnd.
func ended(err error) string {
	var ce wsutil.ClosedError
	if errors.As(err, &ce) {
		s := "client closed " + strconv.Itoa(int(ce.Code))
		if ce.Reason != "" {
			s += " " + ce.Reason
		}
		return s
	}
	if errors.Is(err, net.ErrClosed) {
		return "relay closed"
	}
	return "client gone"
}

// serve relays one client connection and returns how it ended.
func (r *Relay) serve(id int, nc net.Conn) string {
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
	defer cancel()
	nc.SetDeadline(time.Now().Add(r.cfg.Timeout))
	var origin string
	up := ws.Upgrader{OnHeader: func(key, value []byte) error {
		if strings.EqualFold(string(key), "Origin") {
			origin = string(value)
		}
		return nil
	}}
	if _, err := up.Upgrade(nc); err != nil {
		return "client gone"
	}
	c := &clientLeg{Conn: nc}

	// 0 → 1, then 2 → 3 as the proxy would, with the relay's own keys.
	if _, err := c.read(); err != nil {
		return ended(err)
	}
	if err := c.handshake(mte.ActionResponse, nil); err != nil {
		return "client gone"
	}
	req, err := c.read()
	if err != nil {
		return ended(err)
	}
	if len(req) < mte.HeaderLen {
		return "client sent a short pairRequest"
	}
	req = req[mte.HeaderLen:]
	var named struct {
		ServerKeyID string `json:"serverKeyId"`
	}
	json.Unmarshal(req, &named) // absent or malformed: reported as unpinned
	r.record(id, KindPair, named.ServerKeyID)
	var sess mte.Session
	resp, err := sess.Respond(r.profile, req, rand.Reader, nil)
	if err != nil {
		return "respond: " + err.Error()
	}
	if r.cfg.Mode == ModeForge {
		resp = forgeConfirm(resp)
	}
	if err := c.handshake(mte.ActionPairResponse, resp); err != nil {
		return "client gone"
	}

	// 4: only a fooled client sends it.
	msg, err := c.read()
	if err != nil {
		return ended(err)
	}
	_, body, err := sess.Open(msg)
	if err != nil {
		return "action 4: " + err.Error()
	}
	var a4 struct {
		Pathname string `json:"pathname"`
	}
	if err := json.Unmarshal(body, &a4); err != nil {
		return "action 4: " + err.Error()
	}
	r.record(id, KindPathname, a4.Pathname)

	// Pair with the real proxy as an unpinned client: the client's pin
	// would be of no use to the relay, which cannot decapsulate to it.
	real, err := client.Dial(ctx, r.cfg.Proxy, client.Options{
		KeyExchange: client.KeyExchange(r.cfg.Strength.KeyExchange()),
		Origin:      origin, Pathname: &a4.Pathname,
	})
	if err != nil {
		wsutil.WriteServerMessage(c, ws.OpClose, ws.NewCloseFrameBody(ws.StatusInternalServerError, "mitm: proxy unreachable"))
		return "proxy: " + err.Error()
	}
	if err := c.handshake(mte.ActionUpstreamResponse, nil); err != nil {
		real.Close(1000, "")
		return "client gone"
	}
	return r.relay(ctx, id, c, &sess, real)
}

// relay passes messages both ways between the paired client leg and the
// proxy until either ends, and returns how the client leg ended.
func (r *Relay) relay(ctx context.Context, id int, c *clientLeg, sess *mte.Session, real *client.Conn) string {
	// proxy → client.
	done := make(chan struct{})
	defer func() { <-done }()
	defer real.Close(1000, "") // a no-op when the loop below closed it
	go func() {
		defer close(done)
		for {
			typ, b, err := real.Receive(ctx)
			if err != nil {
				var ce *client.CloseError
				if errors.As(err, &ce) {
					wsutil.WriteServerMessage(c, ws.OpClose, ws.NewCloseFrameBody(ws.StatusCode(ce.Code), ce.Reason))
				} else {
					c.Close()
				}
				return
			}
			out, err := sess.Seal(nil, mte.ActionProxyData, typ, b)
			if err != nil || c.send(out) != nil {
				c.Close()
				return
			}
		}
	}()
	// client → proxy.
	for {
		msg, err := c.read()
		if err != nil {
			code, reason := uint16(1000), ""
			var ce wsutil.ClosedError
			if errors.As(err, &ce) && (ce.Code == 1000 || ce.Code >= 3000 && ce.Code < 5000) {
				code, reason = uint16(ce.Code), ce.Reason
			}
			real.Close(code, reason)
			return ended(err)
		}
		h, pt, err := sess.Open(msg)
		if err != nil {
			return "decode: " + err.Error()
		}
		if h.Type == mte.TypeBinary {
			r.record(id, KindBinary, hex.EncodeToString(pt))
		} else {
			r.record(id, KindText, string(pt))
		}
		if err := real.Send(ctx, h.Type, pt); err != nil {
			return "proxy: " + err.Error()
		}
	}
}

// forgeConfirm adds a random serverConfirm to a pairResponse object.
func forgeConfirm(resp []byte) []byte {
	var forged [32]byte
	io.ReadFull(rand.Reader, forged[:])
	resp = append(resp[:len(resp)-1], `,"serverConfirm":"`...)
	resp = base64.StdEncoding.AppendEncode(resp, forged[:])
	return append(resp, `"}`...)
}
