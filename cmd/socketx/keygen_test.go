package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socketx/socketx-server/config"
	"github.com/socketx/socketx-server/mte"
)

// TestKeygen: the file is 0600, loads through MTE_SERVER_KEY_FILES, is
// never overwritten, and the printed pin parses to the same key ID.
func TestKeygen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "server.key")
	var out, errOut bytes.Buffer
	if code := keygen([]string{path}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", st.Mode(), err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "key id: ") || !strings.HasPrefix(lines[1], "public key: ") {
		t.Fatalf("stdout %q", out.String())
	}
	id := strings.TrimPrefix(lines[0], "key id: ")
	pin, err := mte.ParseServerPublicKey(strings.TrimPrefix(lines[1], "public key: "))
	if err != nil || pin.ID().String() != id {
		t.Fatalf("pin %v %v", pin.ID(), err)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(out.String(), string(data)) || strings.Contains(errOut.String(), "BEGIN") {
		t.Fatal("private key printed")
	}
	cfg, err := config.Load(func(k string) (string, bool) {
		switch k {
		case "DOMAIN_MAP":
			return `{"*":{"upstream":"ws://127.0.0.1:1","allowedOrigins":["*"]}}`, true
		case "MTE_SERVER_KEY_FILES":
			return path, true
		}
		return "", false
	})
	if err != nil || len(cfg.ServerKeys) != 1 || cfg.ServerKeys[0].ID() != pin.ID() {
		t.Fatalf("load: %v", err)
	}
	out.Reset()
	if code := keygen([]string{"-show", path}, &out, &errOut); code != 0 || !strings.Contains(out.String(), id) {
		t.Fatalf("-show: %d %q", code, out.String())
	}
	errOut.Reset()
	if code := keygen([]string{path}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "not overwriting") {
		t.Fatalf("overwrite: %d %q", code, errOut.String())
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, data) {
		t.Fatal("file changed")
	}
	if code := keygen(nil, &out, &errOut); code != 2 {
		t.Fatal("usage")
	}
}
