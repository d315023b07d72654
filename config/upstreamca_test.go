package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCAPEM returns a self-signed CA certificate named cn, PEM encoded.
func testCAPEM(t *testing.T, cn string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func subjects(certs []*x509.Certificate) string {
	var s []string
	for _, c := range certs {
		s = append(s, c.Subject.CommonName)
	}
	return strings.Join(s, ",")
}

func redactedValue(c Config, key string) string {
	for _, kv := range c.Redacted() {
		if kv[0] == key {
			return kv[1]
		}
	}
	return "<missing>"
}

func TestUpstreamCAs(t *testing.T) {
	dir := t.TempDir()
	a, b, c := testCAPEM(t, "CA A"), testCAPEM(t, "CA B"), testCAPEM(t, "CA C")
	// Distribution bundles carry comments between blocks.
	bundle := writeFile(t, dir, "bundle.pem", "# CA A\n"+a+"\n# CA B\n"+b)

	cases := []struct {
		name                 string
		kv                   []string
		file, pem, union     string // subjects, in order
		rFile, rPEM, rCounts string // Redacted values
	}{
		{"unset", nil, "", "", "", "unset", "unset", "0"},
		{"file", []string{"UPSTREAM_CA_FILE", bundle}, "CA A,CA B", "", "CA A,CA B", bundle, "unset", "2"},
		{"pem", []string{"UPSTREAM_CA_PEM", c}, "", "CA C", "CA C", "unset", "1 certificate", "1"},
		{"both, union without duplicates", []string{"UPSTREAM_CA_FILE", " " + bundle + " ", "UPSTREAM_CA_PEM", b + c},
			"CA A,CA B", "CA B,CA C", "CA A,CA B,CA C", bundle, "2 certificates", "3"},
		{"blank is unset", []string{"UPSTREAM_CA_FILE", "  ", "UPSTREAM_CA_PEM", "\n"}, "", "", "", "unset", "unset", "0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(env(append([]string{"DOMAIN_MAP", minimalMap}, tc.kv...)...))
			if err != nil {
				t.Fatal(err)
			}
			if got := subjects(cfg.UpstreamCAFileCerts); got != tc.file {
				t.Errorf("file certificates %q, want %q", got, tc.file)
			}
			if got := subjects(cfg.UpstreamCAPEMCerts); got != tc.pem {
				t.Errorf("PEM certificates %q, want %q", got, tc.pem)
			}
			if got := subjects(cfg.UpstreamCAs()); got != tc.union {
				t.Errorf("UpstreamCAs %q, want %q", got, tc.union)
			}
			for key, want := range map[string]string{"upstream_ca_file": tc.rFile, "upstream_ca_pem": tc.rPEM, "upstream_ca_certificates": tc.rCounts} {
				if got := redactedValue(cfg, key); got != want {
					t.Errorf("Redacted %s=%q, want %q", key, got, want)
				}
			}
			for _, kv := range cfg.Redacted() {
				if strings.Contains(kv[1], "BEGIN") {
					t.Errorf("Redacted %s shows PEM: %q", kv[0], kv[1])
				}
			}
		})
	}
}

func TestUpstreamCAErrors(t *testing.T) {
	dir := t.TempDir()
	good := testCAPEM(t, "CA A")
	key := "-----BEGIN PRIVATE KEY-----\nTUlJQ2RnSUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NBbUF3Z2dKY0FnRUFBb0dCQU5v\n-----END PRIVATE KEY-----\n"
	garbled := "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
	missing := filepath.Join(dir, "nope.pem")
	empty := writeFile(t, dir, "empty.pem", "")
	text := writeFile(t, dir, "text.pem", "not a certificate\n")
	withKey := writeFile(t, dir, "withkey.pem", good+key)
	bad := writeFile(t, dir, "bad.pem", good+garbled)
	const noCert = "no PEM CERTIFICATE block (want -----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----, line breaks kept)"

	cases := []struct {
		name string
		kv   []string
		want string
	}{
		{"missing file", []string{"UPSTREAM_CA_FILE", missing},
			`config: UPSTREAM_CA_FILE="` + missing + `": open ` + missing + `: no such file or directory`},
		{"directory", []string{"UPSTREAM_CA_FILE", dir},
			`config: UPSTREAM_CA_FILE="` + dir + `": read ` + dir + `: is a directory`},
		{"empty file", []string{"UPSTREAM_CA_FILE", empty}, `config: UPSTREAM_CA_FILE="` + empty + `": ` + noCert},
		{"text file", []string{"UPSTREAM_CA_FILE", text}, `config: UPSTREAM_CA_FILE="` + text + `": ` + noCert},
		{"private key in file", []string{"UPSTREAM_CA_FILE", withKey},
			`config: UPSTREAM_CA_FILE="` + withKey + `": PEM block 2 is "PRIVATE KEY", want only CERTIFICATE blocks`},
		{"garbled certificate", []string{"UPSTREAM_CA_FILE", bad},
			`config: UPSTREAM_CA_FILE="` + bad + `": PEM block 2: x509: malformed certificate`},
		{"PEM without certificate", []string{"UPSTREAM_CA_PEM", "MIIB...no armour"}, "config: UPSTREAM_CA_PEM: " + noCert},
		{"PEM with newlines flattened", []string{"UPSTREAM_CA_PEM", strings.ReplaceAll(good, "\n", " ")}, "config: UPSTREAM_CA_PEM: " + noCert},
		{"private key in PEM", []string{"UPSTREAM_CA_PEM", key}, `config: UPSTREAM_CA_PEM: PEM block 1 is "PRIVATE KEY", want only CERTIFICATE blocks`},
		{"both bad, one line each", []string{"UPSTREAM_CA_FILE", empty, "UPSTREAM_CA_PEM", "x"},
			`config: UPSTREAM_CA_FILE="` + empty + `": ` + noCert + "\nconfig: UPSTREAM_CA_PEM: " + noCert},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(env(append([]string{"DOMAIN_MAP", minimalMap}, tc.kv...)...))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error:\n%v\nwant:\n%s", err, tc.want)
			}
			if strings.Contains(err.Error(), "TUlJQ2Rn") {
				t.Fatalf("error repeats key material: %v", err)
			}
		})
	}
}
