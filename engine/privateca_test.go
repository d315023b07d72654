package engine

import (
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/socketx/socketx-server/internal/testupstream"
	"github.com/socketx/socketx-server/internal/wstest"
	"github.com/socketx/socketx-server/mte"
)

// TestTLSUpstreamPrivateCA: a wss upstream whose certificate a private CA
// issued is refused against the system roots (1014 "upstream unavailable:
// tls") and relayed once the CA is added to them through
// upstream.Config.ExtraRoots (what UPSTREAM_CA_FILE / UPSTREAM_CA_PEM set).
func TestTLSUpstreamPrivateCA(t *testing.T) {
	echo := testupstream.NewTLSEcho(t)
	block, _ := pem.Decode(echo.CACertPEM())
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("system roots only", func(t *testing.T) {
		px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512})
		c := wstest.Dial(t, px.addr)
		c.Upgrade("/")
		c.Hello()
		c.Keys(px.profile)
		c.SendPathname("/private")
		c.ExpectClose(1014, "upstream unavailable: tls")
	})
	t.Run("system roots plus the private CA", func(t *testing.T) {
		px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512, roots: []*x509.Certificate{ca}})
		c := connect(t, px, "/private")
		c.Send(mte.TypeText, []byte("over a private CA"))
		if typ, got := c.Recv(); typ != mte.TypeText || string(got) != "over a private CA" {
			t.Fatalf("echo %v %q", typ, got)
		}
		c.Send(mte.TypeBinary, []byte{0, 1, 2})
		if typ, got := c.Recv(); typ != mte.TypeBinary || string(got) != "\x00\x01\x02" {
			t.Fatalf("echo %v %q", typ, got)
		}
	})
}
