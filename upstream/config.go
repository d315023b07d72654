package upstream

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"time"
)

// Defaults applied by NewManager to zero Config fields.
const (
	DefaultDialTimeout        = 10 * time.Second
	DefaultMaxConcurrentDials = 256
	DefaultBackoffBase        = 500 * time.Millisecond
	DefaultBackoffMax         = 30 * time.Second
	DefaultBridgeBufferSize   = 16 << 10

	minBridgeBufferSize = 1 << 10
	maxBridgeBufferSize = 1 << 20
)

// Config is the Manager's plain-data configuration. Zero fields take the
// defaults above.
type Config struct {
	// DialTimeout bounds one Dial: waiting for a dial slot, TCP connect and
	// the TLS handshake together.
	DialTimeout time.Duration
	// MaxConcurrentDials caps dials in flight per upstream Addr.
	MaxConcurrentDials int
	// BackoffBase is the fail-fast window after the first failed dial to an
	// Addr; it doubles per consecutive failure up to BackoffMax.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// TLSConfig for wss:// upstreams. nil verifies against the system roots
	// with TLS 1.2 minimum and a client session cache. A non-nil config is
	// cloned; ServerName is set per target, NextProtos defaults to
	// ["http/1.1"] and MinVersion to TLS 1.2.
	TLSConfig *tls.Config
	// ExtraRoots are trusted for wss:// upstreams in addition to the
	// system roots (x509.SystemCertPool, which honours SSL_CERT_FILE and
	// SSL_CERT_DIR), or in addition to TLSConfig.RootCAs when that is set.
	// The command fills it from UPSTREAM_CA_FILE and UPSTREAM_CA_PEM.
	ExtraRoots []*x509.Certificate
	// BridgeBufferSize is the size of each of the two copy buffers of a wss
	// bridge (1 KiB..1 MiB).
	BridgeBufferSize int
	// Resolver for host names; nil uses net.DefaultResolver. Tests inject one.
	Resolver *net.Resolver
	// Now is the clock for backoff windows; nil uses time.Now. Tests inject
	// one. Dial deadlines always use the real clock.
	Now func() time.Time
}

// Validate reports the first invalid field. Zero values are valid (defaults).
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.DialTimeout < 0:
		return errors.New("upstream: DialTimeout must not be negative")
	case c.MaxConcurrentDials < 0:
		return errors.New("upstream: MaxConcurrentDials must not be negative")
	case c.BackoffBase < 0:
		return errors.New("upstream: BackoffBase must not be negative")
	case c.BackoffMax < c.BackoffBase:
		return errors.New("upstream: BackoffMax must be at least BackoffBase")
	case c.BridgeBufferSize < minBridgeBufferSize || c.BridgeBufferSize > maxBridgeBufferSize:
		return errors.New("upstream: BridgeBufferSize must be between 1 KiB and 1 MiB")
	}
	for _, cert := range c.ExtraRoots {
		if cert == nil {
			return errors.New("upstream: ExtraRoots must not hold nil")
		}
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.MaxConcurrentDials == 0 {
		c.MaxConcurrentDials = DefaultMaxConcurrentDials
	}
	if c.BackoffBase == 0 {
		c.BackoffBase = DefaultBackoffBase
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = max(DefaultBackoffMax, c.BackoffBase)
	}
	if c.BridgeBufferSize == 0 {
		c.BridgeBufferSize = DefaultBridgeBufferSize
	}
	if c.Resolver == nil {
		c.Resolver = net.DefaultResolver
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// baseTLSConfig returns the config every wss dial clones its per-server
// config from. sysErr is set when ExtraRoots is set, TLSConfig.RootCAs is
// not and the system roots could not be loaded: the roots are then
// ExtraRoots alone.
func (c Config) baseTLSConfig() (t *tls.Config, sysErr error) {
	if c.TLSConfig == nil {
		t = &tls.Config{
			MinVersion:         tls.VersionTLS12,
			NextProtos:         []string{"http/1.1"},
			ClientSessionCache: tls.NewLRUClientSessionCache(0),
		}
	} else {
		t = c.TLSConfig.Clone()
		if len(t.NextProtos) == 0 {
			t.NextProtos = []string{"http/1.1"}
		}
		if t.MinVersion == 0 {
			t.MinVersion = tls.VersionTLS12
		}
	}
	if len(c.ExtraRoots) > 0 {
		t.RootCAs, sysErr = rootPool(t.RootCAs, c.ExtraRoots)
	}
	return t, sysErr
}

// rootPool returns a copy of base, or of the system roots when base is nil,
// with extra added. If the system roots cannot be loaded or there are none
// (an image without CA certificates), it returns a pool of extra alone and
// an error saying so.
func rootPool(base *x509.CertPool, extra []*x509.Certificate) (*x509.CertPool, error) {
	var err error
	if base != nil {
		base = base.Clone()
	} else if base, err = x509.SystemCertPool(); err != nil {
		base = x509.NewCertPool()
	} else if base.Equal(x509.NewCertPool()) {
		err = errNoSystemRoots
	}
	for _, cert := range extra {
		base.AddCert(cert)
	}
	return base, err
}
