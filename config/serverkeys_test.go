package config

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socketx/socketx-server/mte"
)

// seedB64 returns a new server key and its MTE_SERVER_KEYS form.
func seedB64(t *testing.T) (*mte.ServerPrivateKey, string) {
	t.Helper()
	k, err := mte.GenerateServerPrivateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemText := k.MarshalPEM()
	// The PEM body is the seed; MTE_SERVER_KEYS takes its base64.
	lines := strings.Split(strings.TrimSpace(string(pemText)), "\n")
	return k, strings.Join(lines[1:len(lines)-1], "")
}

// TestServerKeys: MTE_SERVER_KEYS and MTE_SERVER_KEY_FILES load together,
// reach the MTE params, and only key IDs are shown; errors never quote a
// key.
func TestServerKeys(t *testing.T) {
	k1, s1 := seedB64(t)
	k2, _ := seedB64(t)
	k3, s3 := seedB64(t)
	path := filepath.Join(t.TempDir(), "k2.pem")
	if err := os.WriteFile(path, k2.MarshalPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(env("DOMAIN_MAP", minimalMap, "MTE_SERVER_KEYS", s1+", "+s3, "MTE_SERVER_KEY_FILES", path))
	if err != nil {
		t.Fatal(err)
	}
	p := c.MTEParams()
	if len(p.ServerKeys) != 3 || p.ServerKeys[0].ID() != k1.ID() || p.ServerKeys[1].ID() != k3.ID() || p.ServerKeys[2].ID() != k2.ID() {
		t.Fatalf("keys %v", p.ServerKeys)
	}
	if _, err := mte.NewProfile(p); err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, kv := range c.Redacted() {
		all = append(all, kv[0]+"="+kv[1])
	}
	joined := strings.Join(all, " ")
	want := "mte_server_key_ids=" + k1.ID().String() + "," + k3.ID().String() + "," + k2.ID().String()
	if !strings.Contains(joined, want) || strings.Contains(joined, s1) || strings.Contains(joined, s3) {
		t.Fatalf("redacted view: %s", joined)
	}
	if c, _ := Load(env("DOMAIN_MAP", minimalMap)); !strings.Contains(keyIDsOf(c), "off") {
		t.Fatal("no keys is not off")
	}

	bad := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 63))
	_, err = Load(env("DOMAIN_MAP", minimalMap, "MTE_SERVER_KEYS", s1+","+bad+","+s1, "MTE_SERVER_KEY_FILES", path+",/nonexistent/k.pem"))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, w := range []string{"config: MTE_SERVER_KEYS: key 2: mte: a server key seed is 64 bytes",
		"config: MTE_SERVER_KEYS: key 3 is server key " + k1.ID().String() + " again (first: key 1)",
		`config: MTE_SERVER_KEY_FILES="/nonexistent/k.pem"`} {
		if !strings.Contains(msg, w) {
			t.Errorf("missing %q in:\n%s", w, msg)
		}
	}
	if strings.Contains(msg, s1) || strings.Contains(msg, bad) {
		t.Fatalf("error quotes a key:\n%s", msg)
	}
}

func keyIDsOf(c Config) string {
	for _, kv := range c.Redacted() {
		if kv[0] == "mte_server_key_ids" {
			return kv[1]
		}
	}
	return ""
}
