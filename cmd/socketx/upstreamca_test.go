package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socketx/socketx-server/internal/testupstream"
	"github.com/socketx/socketx-server/mte"
)

// TestUpstreamCAConfigCheck: config check counts the certificates of
// UPSTREAM_CA_FILE and UPSTREAM_CA_PEM and never prints the PEM; a missing
// file makes config check and serve exit 2 with one precise line.
func TestUpstreamCAConfigCheck(t *testing.T) {
	a, b := testupstream.NewTLSEcho(t), testupstream.NewTLSEcho(t)
	file := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(file, a.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "config", "check")
	cmd.Env = []string{echoDomainMap(a.URL), "UPSTREAM_CA_FILE=" + file, "UPSTREAM_CA_PEM=" + string(b.CACertPEM())}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	s := string(out)
	for _, want := range []string{"\nupstream_ca_file=" + file + "\n", "\nupstream_ca_pem=1 certificate\n", "\nupstream_ca_certificates=2\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("config check output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "BEGIN") {
		t.Errorf("config check prints PEM:\n%s", s)
	}

	missing := filepath.Join(t.TempDir(), "nope.crt")
	for _, args := range [][]string{{"config", "check"}, {"serve"}} {
		cmd := exec.Command(binary, args...)
		cmd.Env = []string{echoDomainMap(a.URL), "UPSTREAM_CA_FILE=" + missing}
		out, _ := cmd.CombinedOutput()
		want := `config: UPSTREAM_CA_FILE="` + missing + `": open ` + missing + ": no such file or directory\n"
		if cmd.ProcessState.ExitCode() != 2 || string(out) != want {
			t.Errorf("%v: exit %d, output %q, want 2 and %q", args, cmd.ProcessState.ExitCode(), out, want)
		}
	}
}

// TestUpstreamCAServe: with UPSTREAM_CA_FILE the running binary relays to a
// wss upstream whose certificate a private CA issued, and logs the added
// certificate at start.
func TestUpstreamCAServe(t *testing.T) {
	up := testupstream.NewTLSEcho(t)
	file := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(file, up.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, echoDomainMap(up.URL), "LOG_LEVEL=info", "UPSTREAM_CA_FILE="+file)
	cert := p.waitLog("Upstream CA certificate", nil)
	if cert["source"] != "UPSTREAM_CA_FILE" || cert["subject"] != "CN=testupstream CA" || cert["not_after"] == nil || len(cert["sha256"].(string)) != 64 {
		t.Errorf("certificate log line %v", cert)
	}
	if added := p.waitLog("Upstream CAs added to the system roots for wss:// upstreams", nil); added["certificates"] != 1.0 {
		t.Errorf("summary log line %v", added)
	}
	c := dial(t, p, "/private")
	roundTrip(t, c, mte.TypeText, "over a private CA")
	_ = c.Close(1000, "")
	if strings.Contains(p.Output(), "BEGIN") {
		t.Errorf("PEM in the log:\n%s", p.Output())
	}
}
