package testupstream

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// TLSEcho is an Echo served over TLS with a certificate for 127.0.0.1 and
// localhost, issued by a test CA generated for this server alone.
type TLSEcho struct {
	*Echo

	roots *x509.CertPool
	caPEM []byte
}

// NewTLSEcho starts an Echo behind TLS. Its URL is "wss://127.0.0.1:port/".
// The CA and leaf keys are ECDSA P-256 and both certificates are valid for
// one hour.
func NewTLSEcho(tb testing.TB, opts ...Option) *TLSEcho {
	tb.Helper()
	ca, err := newTestCA(time.Now())
	if err != nil {
		tb.Fatalf("testupstream: %v", err)
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{ca.leaf},
		MinVersion:   tls.VersionTLS12,
	}
	t := &TLSEcho{Echo: newEcho(tb, cfg, opts), roots: x509.NewCertPool(), caPEM: ca.caPEM}
	t.roots.AddCert(ca.ca)
	return t
}

// RootCAs returns a new pool holding only the test CA.
func (t *TLSEcho) RootCAs() *x509.CertPool { return t.roots.Clone() }

// CACertPEM returns the test CA certificate, PEM encoded.
func (t *TLSEcho) CACertPEM() []byte { return append([]byte(nil), t.caPEM...) }

// ClientTLSConfig returns a client configuration that trusts only the test CA.
func (t *TLSEcho) ClientTLSConfig() *tls.Config {
	return &tls.Config{RootCAs: t.RootCAs(), MinVersion: tls.VersionTLS12}
}

type testCA struct {
	ca    *x509.Certificate
	caPEM []byte
	leaf  tls.Certificate
}

// newTestCA generates a CA and a server certificate for 127.0.0.1, ::1 and
// localhost, valid from a minute before now (clock skew) to an hour after.
func newTestCA(now time.Time) (*testCA, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "testupstream CA"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}

	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	return &testCA{
		ca:    ca,
		caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		leaf:  tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey},
	}, nil
}

// NewTLSConfigs generates a test CA like NewTLSEcho's and returns a server
// configuration presenting a certificate for 127.0.0.1 and localhost, and a
// client configuration trusting only that CA. It serves tests that run their
// own TLS listener.
func NewTLSConfigs(tb testing.TB) (server, client *tls.Config) {
	tb.Helper()
	ca, err := newTestCA(time.Now())
	if err != nil {
		tb.Fatalf("testupstream: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.ca)
	return &tls.Config{Certificates: []tls.Certificate{ca.leaf}, MinVersion: tls.VersionTLS12},
		&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
}
