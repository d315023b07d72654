package client

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/socketx/socketx-server/mte"
)

// Defaults applied to zero Options fields.
const (
	// DefaultKeyExchange is ML-KEM-512, the proxy's default: the exchange
	// it uses when neither MTE_KEY_EXCHANGE nor MTE_KYBER_STRENGTH is set.
	DefaultKeyExchange = MLKEM512
	DefaultDialTimeout = 10 * time.Second
	DefaultPairTimeout = 10 * time.Second
	DefaultReadLimit   = 16 << 20
)

// Options configures Dial. The zero value dials with ML-KEM-512, the
// proxy's default key exchange, no extra headers and the defaults above.
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
	// KeyExchange must be the proxy's key exchange (else Dial fails with
	// *CloseError 1002): X25519, MLKEM512, MLKEM768, MLKEM1024 or XWing,
	// whose values are MTE_KEY_EXCHANGE's names; ParseKeyExchange also
	// reads an MTE_KYBER_STRENGTH number. Empty means DefaultKeyExchange
	// (ML-KEM-512), as an unset MTE_KEY_EXCHANGE does on the proxy.
	KeyExchange KeyExchange
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
	kx := o.KeyExchange
	if kx == "" {
		kx = DefaultKeyExchange
	}
	st, err := kx.strength()
	if err != nil {
		return mte.Params{}, err
	}
	return mte.Params{Strength: st, Company: o.Company, License: o.License}, nil
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
