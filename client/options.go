package client

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/socketx/socketx-server/mte"
)

// Defaults applied to zero Options fields.
const (
	DefaultStrength    = mte.Strength(512)
	DefaultDialTimeout = 10 * time.Second
	DefaultPairTimeout = 10 * time.Second
	DefaultReadLimit   = 16 << 20
)

// Options configures Dial. The zero value dials with ML-KEM-512 (as the
// official SocketX clients do), no extra headers and the defaults above.
type Options struct {
	// Header holds extra HTTP headers for the upgrade request.
	Header http.Header
	// Origin, if set, is sent as the Origin header.
	Origin string
	// Protocols are offered in Sec-WebSocket-Protocol, by preference.
	Protocols []string
	// TLSConfig is used for wss:// URLs (nil: system roots). If its
	// ServerName is empty, the URL host is used.
	TLSConfig *tls.Config
	// Strength is the key exchange, which must match the proxy's
	// MTE_KEY_EXCHANGE or MTE_KYBER_STRENGTH: mte.Strength512, 768, 1024
	// (ML-KEM), or mte.StrengthXWing (X-Wing, the ML-KEM-768 + X25519
	// hybrid: MTE_KEY_EXCHANGE=xwing). Zero means DefaultStrength (512); to
	// use the classical X25519 exchange (strength 0) set Classical.
	Strength mte.Strength
	// Classical selects strength 0 (X25519, not post-quantum). Strength must
	// then be zero.
	Classical bool
	// Company and License are the optional tenant secret; they must equal
	// the proxy's MTE_COMPANY_NAME and MTE_LICENSE_KEY.
	Company, License string
	// ServerKeys pins the proxy (server authentication, docs/PROTOCOL.md
	// §6.1): the public keys `socketx keygen` printed for the proxy's
	// MTE_SERVER_KEYS / MTE_SERVER_KEY_FILES. When set, Dial pairs only
	// with a server holding the private key of one of them, and fails
	// with a *ServerAuthError (errors.Is ErrServerNotAuthenticated)
	// otherwise, before anything is sent to the upstream. Dial uses the
	// first key; when the proxy closes with 1008 "mte: unknown server key"
	// it tries the next on a new connection. During a rotation list the
	// new key first. Empty: the proxy is not authenticated (anyone who
	// terminates TLS can pair as the proxy), as in the vendor's SDKs.
	ServerKeys []ServerKey
	// DialTimeout bounds the TCP connect, TLS and WebSocket upgrade
	// (default 10 s).
	DialTimeout time.Duration
	// PairTimeout bounds the SocketX handshake, actions 0 to 5, which
	// includes the proxy's dial of the upstream (default 10 s).
	PairTimeout time.Duration
	// Pathname overrides the pathname sent in action 4. By default it is the
	// URL's path, still percent-encoded, plus "?" and the raw query when
	// there is one; "/" for a bare host (as the Android client does).
	Pathname *string
	// ReadLimit is the largest WebSocket message accepted from the proxy,
	// SocketX header and MTE overhead included (default 16 MiB).
	ReadLimit int64
	// NetDial, if set, opens the TCP connection (for example to bind a
	// source address with net.Dialer.LocalAddr); nil uses net.Dialer.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// profileParams returns the mte parameters for these options.
func (o *Options) profileParams() (mte.Params, error) {
	p := mte.Params{Strength: o.Strength, Company: o.Company, License: o.License}
	switch {
	case o.Classical && o.Strength != 0:
		return p, errors.New("client: Options.Classical with a non-zero Strength")
	case o.Classical:
		p.Strength = mte.StrengthClassical
	case o.Strength == 0:
		p.Strength = DefaultStrength
	}
	return p, nil
}

func (o *Options) dialTimeout() time.Duration {
	if o.DialTimeout > 0 {
		return o.DialTimeout
	}
	return DefaultDialTimeout
}

func (o *Options) pairTimeout() time.Duration {
	if o.PairTimeout > 0 {
		return o.PairTimeout
	}
	return DefaultPairTimeout
}

func (o *Options) readLimit() int64 {
	if o.ReadLimit > 0 {
		return o.ReadLimit
	}
	return DefaultReadLimit
}

// Pathname returns the default action 4 pathname for a parsed URL: the
// escaped path ("/" when empty) followed by "?" and the raw query when the
// URL has one. The fragment is dropped.
func Pathname(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" || u.ForceQuery {
		p += "?" + u.RawQuery
	}
	return p
}
