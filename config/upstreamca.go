package config

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// UpstreamCAs returns the certificates of UPSTREAM_CA_FILE followed by those
// of UPSTREAM_CA_PEM, each once, in that order. They are trusted for wss://
// upstreams in addition to the system roots, not instead of them.
func (c Config) UpstreamCAs() []*x509.Certificate {
	var out []*x509.Certificate
	for _, cert := range append(append([]*x509.Certificate(nil), c.UpstreamCAFileCerts...), c.UpstreamCAPEMCerts...) {
		dup := false
		for _, have := range out {
			if bytes.Equal(have.Raw, cert.Raw) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, cert)
		}
	}
	return out
}

// caFile reads a PEM bundle from the path in name. The file must be readable
// and hold at least one certificate.
func (l *loader) caFile(name string) (path string, certs []*x509.Certificate) {
	path = l.raw(name)
	if path == "" {
		return "", nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		l.failErr(name, fmt.Errorf("config: %s=%q: %v", name, path, err))
		return path, nil
	}
	certs, err = parseCertificates(data)
	if err != nil {
		l.failErr(name, fmt.Errorf("config: %s=%q: %v", name, path, err))
		return path, nil
	}
	return path, certs
}

// caPEM reads a PEM bundle from the value of name itself. The value is not
// repeated in errors: it is long, and a misplaced key must not reach a log.
func (l *loader) caPEM(name string) []*x509.Certificate {
	s := l.raw(name)
	if s == "" {
		return nil
	}
	certs, err := parseCertificates([]byte(s))
	if err != nil {
		l.failErr(name, fmt.Errorf("config: %s: %v", name, err))
		return nil
	}
	return certs
}

// errNoCertificate is parseCertificates' error for input without a
// CERTIFICATE block.
var errNoCertificate = errors.New("no PEM CERTIFICATE block (want -----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----, line breaks kept)")

// parseCertificates returns every certificate of a PEM bundle. Text between
// blocks (the comments of distribution bundles) is ignored; a block that is
// not a CERTIFICATE (a private key, a CSR) or a certificate that does not
// parse is an error naming the block by position, never by content.
func parseCertificates(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for n := 1; ; n++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is %q, want only CERTIFICATE blocks", n, strings.ToValidUTF8(block.Type, "?"))
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %v", n, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errNoCertificate
	}
	return certs, nil
}
