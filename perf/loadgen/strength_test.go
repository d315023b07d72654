package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/socketx/socketx-server/client"
	"github.com/socketx/socketx-server/internal/enginetest"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/upstream"
)

func TestParseStrength(t *testing.T) {
	for in, want := range map[string]int{
		"0": 0, "512": 512, "768": 768, "1024": 1024,
		"x25519": 0, "mlkem512": 512, "mlkem768": 768, "MLKEM1024": 1024,
		"xwing": int(mte.StrengthXWing), " XWing ": int(mte.StrengthXWing),
	} {
		if got, err := ParseStrength(in); err != nil || got != want {
			t.Errorf("ParseStrength(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	// The internal X-Wing number is not a flag value; nor are other numbers.
	for _, in := range []string{"", "256", "-1", "x-wing", "66304", "mlkem"} {
		if got, err := ParseStrength(in); !errors.Is(err, ErrBadConfig) {
			t.Errorf("ParseStrength(%q) = %d, %v; want ErrBadConfig", in, got, err)
		}
	}
	if got := StrengthName(int(mte.StrengthXWing)); got != "xwing" {
		t.Errorf("StrengthName(X-Wing) = %q", got)
	}
}

// The flags as perf/bench declares them: -strength and its alias -kex take
// numbers and MTE_KEY_EXCHANGE names; -server-key fills Config.ServerKey.
func parseBenchFlags(args ...string) (Config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(new(bytes.Buffer))
	cfg := Config{Strength: 512}
	fs.Var(StrengthFlag{P: &cfg.Strength}, "strength", "")
	fs.Var(StrengthFlag{P: &cfg.Strength}, "kex", "")
	fs.StringVar(&cfg.ServerKey, "server-key", "", "")
	err := fs.Parse(args)
	return cfg, err
}

func TestStrengthFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want int
	}{
		{nil, 512},
		{[]string{"-strength", "768"}, 768},
		{[]string{"-strength", "0"}, 0},
		{[]string{"-strength", "xwing"}, int(mte.StrengthXWing)},
		{[]string{"-kex", "xwing"}, int(mte.StrengthXWing)},
		{[]string{"-kex=mlkem1024"}, 1024},
		{[]string{"-kex", "x25519"}, 0},
	} {
		cfg, err := parseBenchFlags(c.args...)
		if err != nil || cfg.Strength != c.want {
			t.Errorf("%v: strength %d, %v; want %d", c.args, cfg.Strength, err, c.want)
		}
	}
	for _, args := range [][]string{{"-strength", "256"}, {"-kex", "kyber"}, {"-strength", "66304"}} {
		if _, err := parseBenchFlags(args...); err == nil || !strings.Contains(err.Error(), "key exchange") {
			t.Errorf("%v: err %v, want a key exchange error", args, err)
		}
	}
	s := int(mte.StrengthXWing)
	if got := (StrengthFlag{P: &s}).String(); got != "xwing" {
		t.Errorf("String() = %q, want xwing", got)
	}
	s = 768
	if got := (StrengthFlag{P: &s}).String(); got != "768" {
		t.Errorf("String() = %q, want 768", got)
	}
}

func TestServerKeyFlag(t *testing.T) {
	sk, err := mte.GenerateServerPrivateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub := sk.Public().String()
	cfg, err := parseBenchFlags("-kex", "xwing", "-server-key", pub)
	if err != nil || cfg.ServerKey != pub {
		t.Fatalf("parse: %v, server key %.16q", err, cfg.ServerKey)
	}
	cfg.URL, cfg.Conns, cfg.Hold = "ws://127.0.0.1:1/", 1, true
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	d, err := newDialer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d.opts.KeyExchange != client.XWing || len(d.opts.ServerKeys) != 1 || d.opts.ServerKeys[0].ID() != sk.ID() {
		t.Fatalf("dialer options: key exchange %q, %d server keys", d.opts.KeyExchange, len(d.opts.ServerKeys))
	}

	for _, c := range []struct {
		key   string
		plain bool
		want  string
	}{
		{"not base64!", false, "loadgen: invalid configuration: server key: "},
		{pub[:100], false, "loadgen: invalid configuration: server key: "},
		{pub, true, "loadgen: invalid configuration: -server-key needs a SocketX target, not -plain"},
	} {
		bad := Config{URL: "ws://127.0.0.1:1/", Conns: 1, Hold: true, Strength: 512, ServerKey: c.key, Plain: c.plain}
		if err := bad.Validate(); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Validate(server key %.12q, plain %v) = %v, want %q…", c.key, c.plain, err, c.want)
		}
	}
}

// A pinned X-Wing run through an in-process proxy holding the key: every
// connection pairs and the result names the key ID; pinned to another key,
// every pairing fails as a handshake error.
func TestXWingPinnedThroughProxy(t *testing.T) {
	sk, err := mte.GenerateServerPrivateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := mte.GenerateServerPrivateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	echo := startEcho(t)
	proxy := enginetest.Start(t, enginetest.Options{
		DomainMap: enginetest.EchoMap(echo.URL()),
		MTE:       mte.Params{Strength: mte.StrengthXWing, ServerKeys: []*mte.ServerPrivateKey{sk}},
		Upstream:  upstream.Config{DialTimeout: 3 * time.Second},
		Log:       zap.NewNop(),
	}).Server
	cfg := Config{
		URL: fmt.Sprintf("ws://%s/", proxy.Addr()), Conns: 4, Hold: true, Messages: 2, Strength: int(mte.StrengthXWing),
		ServerKey: sk.Public().String(), Timeout: 5 * time.Second,
	}
	res, err := Run(context.Background(), cfg, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Established != 4 || res.ErrorCount() != 0 || res.ServerKeyID != sk.ID().String() {
		t.Fatalf("established %d errors %v server key %q", res.Established, res.Errors, res.ServerKeyID)
	}
	var tbl bytes.Buffer
	res.WriteTable(&tbl)
	if want := "strength=xwing server-key=" + sk.ID().String(); !strings.Contains(tbl.String(), want) {
		t.Errorf("table lacks %q:\n%s", want, tbl.String())
	}

	cfg.ServerKey, cfg.Conns = other.Public().String(), 2
	res, err = Run(context.Background(), cfg, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Established != 0 || res.Errors[KindHandshake.String()] != 2 {
		t.Fatalf("wrong pin: established %d errors %v, want 0 and 2 handshake errors", res.Established, res.Errors)
	}
}
