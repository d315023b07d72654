package loadgen

import (
	"fmt"
	"net/netip"
	"net/url"
	"time"

	"github.com/socketx/socketx-server/mte"
)

// Config is one load run. The zero values of the optional fields take the
// defaults documented on each.
type Config struct {
	URL       string        // ws:// URL of the proxy or echo server
	Conns     int           // total connections (-a)
	Rate      float64       // new connections per second (-c); 0 = as fast as DialParallel allows
	Parallel  int           // dials in flight at most (default 64)
	Messages  int           // messages per connection (-m); 0 = until Duration; with Hold: echoes before holding
	Duration  time.Duration // sending (or holding) time after the dial phase (-d)
	Size      int           // message size in bytes (-s)
	Inflight  int           // messages in flight per connection (default 1)
	Text      bool          // text messages instead of binary
	Strength  int           // SocketX key exchange: 512, 768, 1024, 0 for classical X25519, or int(mte.StrengthXWing) (ParseStrength)
	ServerKey string        // pin the proxy: base64 ML-KEM-768 public key from socketx keygen ("" = no server authentication)
	KeyPool   int           // SocketX only: reuse this many pre-generated client key pairs (0 = a fresh pair per connection, through the Go SDK)
	Plain     bool          // plain WebSocket target instead of SocketX
	Hold      bool          // open and hold idle connections (no messages)
	SrcIPs    int           // bind source addresses 127.0.0.1..N round robin (0 = kernel's choice)
	DstIPs    int           // rewrite a 127.0.0.1 target to 127.0.0.1..N round robin (0 = as given)
	Timeout   time.Duration // dial + handshake deadline per connection (default 10 s)
	Drain     time.Duration // after Duration, wait this long for echoes in flight (default 5 s)

	// IndexBase offsets connection numbers (for address spreading) in
	// worker processes.
	IndexBase int
}

// withDefaults fills the optional fields.
func (c Config) withDefaults() Config {
	if c.Parallel <= 0 {
		c.Parallel = 64
	}
	if c.Inflight <= 0 {
		c.Inflight = 1
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Drain <= 0 {
		c.Drain = 5 * time.Second
	}
	return c
}

// Validate reports the first problem with c, wrapping ErrBadConfig.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadConfig, fmt.Sprintf(format, args...))
	}
	u, err := url.Parse(c.URL)
	switch {
	case err != nil:
		return bad("url: %v", err)
	case u.Scheme != "ws":
		return bad("url scheme must be ws (loopback benchmarks only), got %q", u.Scheme)
	case c.Conns <= 0:
		return bad("connections must be > 0")
	case c.Rate < 0:
		return bad("rate must be >= 0")
	case c.Messages < 0 || c.Size < 0 || c.Inflight < 0 || c.Duration < 0:
		return bad("messages, size, inflight and duration must be >= 0")
	case !c.Hold && c.Messages == 0 && c.Duration == 0:
		return bad("echo mode needs -m or -d")
	case !c.Plain && !validStrength(c.Strength):
		return bad("strength must be 0, 512, 768, 1024 or xwing")
	case c.KeyPool < 0:
		return bad("key pool size must be >= 0")
	case c.Plain && c.KeyPool > 0:
		return bad("-key-pool needs a SocketX target, not -plain")
	case c.Plain && c.ServerKey != "":
		return bad("-server-key needs a SocketX target, not -plain")
	case c.SrcIPs < 0 || c.SrcIPs > 254 || c.DstIPs < 0 || c.DstIPs > 254:
		return bad("src/dst address counts must be 0..254")
	}
	if c.ServerKey != "" {
		if _, err := mte.ParseServerPublicKey(c.ServerKey); err != nil {
			return bad("server key: %v", err)
		}
	}
	if c.DstIPs > 0 {
		a, err := netip.ParseAddr(u.Hostname())
		if err != nil || a != netip.MustParseAddr("127.0.0.1") {
			return bad("-dst-ips needs a ws://127.0.0.1:port URL")
		}
	}
	return nil
}

// nthLoopback is 127.0.0.(1 + i mod n).
func nthLoopback(i, n int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, 0, 0, byte(1 + i%n)})
}
