package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// caCert parses the test PKI's CA certificate.
func (p *testPKI) caCert(t testing.TB) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(p.caPEM)
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// verifiesAgainst reports whether the PKI's server certificate chains to
// a root of pool.
func (p *testPKI) verifiesAgainst(t testing.TB, pool *x509.CertPool) bool {
	t.Helper()
	leaf, err := x509.ParseCertificate(p.server.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost"})
	return err == nil
}

// TestExtraRootsAddToSystemRoots: the Manager's roots are exactly the
// system roots plus ExtraRoots, and the defaults of a nil TLSConfig stay.
func TestExtraRootsAddToSystemRoots(t *testing.T) {
	pki, other := newTestPKI(t), newTestPKI(t)
	m := NewManager(Config{ExtraRoots: []*x509.Certificate{pki.caCert(t), other.caCert(t)}}, zap.NewNop())
	got := m.tlsBase.RootCAs
	sys, err := x509.SystemCertPool()
	if err != nil {
		t.Skipf("no system roots on this machine: %v", err)
	}
	if got == nil || got.Equal(sys) {
		t.Fatal("roots are the system roots alone")
	}
	want := sys.Clone()
	want.AddCert(pki.caCert(t))
	want.AddCert(other.caCert(t))
	if !got.Equal(want) {
		t.Fatal("roots are not the system roots plus the two added CAs")
	}
	if !pki.verifiesAgainst(t, got) || !other.verifiesAgainst(t, got) {
		t.Fatal("a certificate issued by an added CA does not verify")
	}
	// The system pool itself is untouched.
	if sys2, _ := x509.SystemCertPool(); !sys2.Equal(sys) || pki.verifiesAgainst(t, sys2) {
		t.Fatal("the process's system roots changed")
	}
	if m.tlsBase.ClientSessionCache == nil || m.tlsBase.MinVersion != tls.VersionTLS12 || m.tlsBase.NextProtos[0] != "http/1.1" {
		t.Fatalf("defaults lost: %+v", m.tlsBase)
	}
	// Without ExtraRoots nothing is set: crypto/tls uses the system roots.
	if r := NewManager(Config{}, zap.NewNop()).tlsBase.RootCAs; r != nil {
		t.Fatal("RootCAs set without ExtraRoots")
	}
}

// TestExtraRootsAddToTLSConfigRoots: with TLSConfig.RootCAs set, ExtraRoots
// are added to a copy of that pool, not to the system roots.
func TestExtraRootsAddToTLSConfigRoots(t *testing.T) {
	pki, other := newTestPKI(t), newTestPKI(t)
	base := x509.NewCertPool()
	base.AddCert(other.caCert(t))
	m := NewManager(Config{TLSConfig: &tls.Config{RootCAs: base}, ExtraRoots: []*x509.Certificate{pki.caCert(t)}}, zap.NewNop())
	want := x509.NewCertPool()
	want.AddCert(other.caCert(t))
	want.AddCert(pki.caCert(t))
	if !m.tlsBase.RootCAs.Equal(want) {
		t.Fatal("roots are not TLSConfig.RootCAs plus ExtraRoots")
	}
	if pki.verifiesAgainst(t, base) {
		t.Fatal("the caller's pool was modified")
	}
}

// TestDialPrivateCA: a wss upstream whose certificate a private CA issued
// fails with "tls" against the system roots and is bridged once the CA is
// in ExtraRoots.
func TestDialPrivateCA(t *testing.T) {
	pki := newTestPKI(t)
	srv := startTLSServer(t, pki, echo)
	defer srv.close()

	_, err := NewManager(Config{}, zap.NewNop()).Dial(context.Background(), wssEndpoint(srv.port()))
	wantDialError(t, err, ReasonTLS)
	var uerr x509.UnknownAuthorityError
	if !errors.As(err, &uerr) {
		t.Fatalf("err %v, want x509.UnknownAuthorityError", err)
	}

	m := NewManager(Config{ExtraRoots: []*x509.Certificate{pki.caCert(t)}}, zap.NewNop())
	c, err := m.Dial(context.Background(), wssEndpoint(srv.port()))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c)
	_ = c.Close()
	waitBridges(t, m)
}

func TestValidateExtraRoots(t *testing.T) {
	err := Config{ExtraRoots: []*x509.Certificate{nil}}.Validate()
	if err == nil || err.Error() != "upstream: ExtraRoots must not hold nil" {
		t.Fatalf("err %v", err)
	}
}

// TestHelperNoSystemRoots is not a test: TestExtraRootsWithoutSystemRoots
// runs it in a child process whose system roots cannot be loaded (the
// process loads them once).
func TestHelperNoSystemRoots(t *testing.T) {
	if os.Getenv("UPSTREAM_NO_SYSTEM_ROOTS_HELPER") != "1" {
		t.Skip("helper process only")
	}
	pki := newTestPKI(t)
	core, logs := observer.New(zapcore.WarnLevel)
	m := NewManager(Config{ExtraRoots: []*x509.Certificate{pki.caCert(t)}}, zap.New(core))
	want := x509.NewCertPool()
	want.AddCert(pki.caCert(t))
	entries := logs.All()
	switch {
	case !m.tlsBase.RootCAs.Equal(want):
		fmt.Println("roots are not the added CA alone")
	case len(entries) != 1 || entries[0].Message != "system roots unavailable: wss:// upstreams are verified against the added CAs only":
		fmt.Printf("log %v\n", entries)
	default:
		fmt.Println("ok")
	}
}

// TestExtraRootsWithoutSystemRoots: when the system roots cannot be loaded,
// or there are none, the Manager warns and verifies against the added CAs
// alone.
func TestExtraRootsWithoutSystemRoots(t *testing.T) {
	dir := t.TempDir()
	for name, roots := range map[string][]string{
		// Missing files are skipped: the pool is empty, without error.
		"none":       {"SSL_CERT_FILE=" + dir + "/missing.pem", "SSL_CERT_DIR=" + dir + "/missing"},
		"unreadable": {"SSL_CERT_FILE=" + dir, "SSL_CERT_DIR=" + dir + "/missing"}, // read: is a directory
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperNoSystemRoots$")
		cmd.Env = append(append(os.Environ(), "UPSTREAM_NO_SYSTEM_ROOTS_HELPER=1"), roots...)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "ok\n") {
			t.Fatalf("%s: helper: %v\n%s", name, err, out)
		}
	}
}
