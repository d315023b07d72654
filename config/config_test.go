package config

import (
	"encoding/base64"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/socketx/socketx-server/metering"
	"github.com/socketx/socketx-server/mte"
)

const minimalMap = `{"*":{"upstream":"ws://example.com","allowedOrigins":["*"]}}`

func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	c, err := Load(env("DOMAIN_MAP", minimalMap))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		DomainMap:            []byte(minimalMap),
		ListenHost:           "0.0.0.0",
		ListenPort:           8080,
		LogLevel:             "info",
		KeyExchange:          "mlkem512",
		KyberStrength:        512,
		DecoderWindow:        1000,
		ReadBufferSize:       1024,
		WriteBufferSize:      1024,
		MaxMessageSize:       1 << 20,
		MaxQueuedBytes:       4 << 20,
		ClientPongTimeout:    60 * time.Second,
		ClientPingInterval:   54 * time.Second,
		UpstreamPongTimeout:  60 * time.Second,
		UpstreamPingInterval: 54 * time.Second,
		WriteTimeout:         10 * time.Second,
		HandshakeTimeout:     10 * time.Second,
		UpstreamDialTimeout:  10 * time.Second,
		AdminListen:          "127.0.0.1:9090",
		DrainTimeout:         25 * time.Second,
		DescriptorBudget:     DescriptorBudgetAuto,
		Metering: metering.Config{
			Strategy: metering.StrategyNone, ReportInterval: metering.DefaultReportInterval,
			AWSPublicKeyVersion: metering.DefaultPublicKeyVer, AzureMeteringEndpoint: metering.DefaultAzureMetering,
			AzureIMDSEndpoint: metering.DefaultAzureIMDS, AzureARMEndpoint: metering.DefaultAzureARM,
		},
	}
	if c.Routes == nil || len(c.Routes.Routes()) != 1 {
		t.Fatalf("Routes = %v, want DOMAIN_MAP's one entry", c.Routes)
	}
	want.Routes = c.Routes
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", c, want)
	}
	if c.ListenAddr() != "0.0.0.0:8080" {
		t.Fatalf("ListenAddr = %q", c.ListenAddr())
	}
}

// TestEveryVariable checks a valid value, an invalid value with its exact
// error line, for each variable.
func TestEveryVariable(t *testing.T) {
	cases := []struct {
		name, value string
		check       func(Config) bool
		bad         string
		wantErr     string
	}{
		{"LISTEN_HOST", "127.0.0.1", func(c Config) bool { return c.ListenHost == "127.0.0.1" }, "", ""},
		{"LISTEN_PORT", "9000", func(c Config) bool { return c.ListenPort == 9000 }, "70000", `config: LISTEN_PORT="70000": want an integer from 1 to 65535`},
		{"LOG_LEVEL", "DEBUG", func(c Config) bool { return c.LogLevel == "debug" }, "verbose", `config: LOG_LEVEL="verbose": want one of trace, debug, info, warn, error, fatal, panic, disabled`},
		{"USE_CONSOLE_LOGS", "true", func(c Config) bool { return c.UseConsoleLogs }, "yes please", `config: USE_CONSOLE_LOGS="yes please": want true or false`},
		{"MTE_COMPANY_NAME", "Acme", func(c Config) bool { return c.MTECompanyName == "Acme" }, "", ""},
		{"MTE_LICENSE_KEY", "s3cret", func(c Config) bool { return c.MTELicenseKey == "s3cret" }, "", ""},
		{"MTE_KYBER_STRENGTH", "0", func(c Config) bool { return c.KyberStrength == 0 }, "256", `config: MTE_KYBER_STRENGTH="256": want one of 0, 512, 768, 1024`},
		{"MTE_KYBER_STRENGTH", "1024", func(c Config) bool { return c.KyberStrength == 1024 }, "abc", `config: MTE_KYBER_STRENGTH="abc": want one of 0, 512, 768, 1024`},
		{"MTE_KEY_EXCHANGE", "xwing", func(c Config) bool {
			return c.KeyExchange == "xwing" && c.KyberStrength == 768 && c.MTEParams().Strength == mte.StrengthXWing
		}, "kyber", `config: MTE_KEY_EXCHANGE="kyber": want one of x25519, mlkem512, mlkem768, mlkem1024, xwing`},
		{"MTE_KEY_EXCHANGE", "MLKEM1024", func(c Config) bool {
			return c.KeyExchange == "mlkem1024" && c.KyberStrength == 1024 && c.MTEParams().Strength == mte.Strength1024
		}, "x-wing", `config: MTE_KEY_EXCHANGE="x-wing": want one of x25519, mlkem512, mlkem768, mlkem1024, xwing`},
		{"MTE_DECODER_WINDOW_SIZE", "0", func(c Config) bool { return c.DecoderWindow == 0 }, "-1", `config: MTE_DECODER_WINDOW_SIZE="-1": want an integer from 0 to 65535`},
		{"WS_READ_BUFFER_SIZE", "2048", func(c Config) bool { return c.ReadBufferSize == 2048 }, "64", `config: WS_READ_BUFFER_SIZE="64": want an integer from 128 to 67108864`},
		{"WS_WRITE_BUFFER_SIZE", "2048", func(c Config) bool { return c.WriteBufferSize == 2048 }, "x", `config: WS_WRITE_BUFFER_SIZE="x": want an integer from 128 to 67108864`},
		{"WS_MAX_MESSAGE_SIZE", "65536", func(c Config) bool { return c.MaxMessageSize == 65536 }, "10", `config: WS_MAX_MESSAGE_SIZE="10": want an integer from 1024 to 67108864`},
		{"WS_MAX_QUEUED_BYTES", "8388608", func(c Config) bool { return c.MaxQueuedBytes == 8<<20 }, "1", `config: WS_MAX_QUEUED_BYTES="1": want an integer from 65536 to 1073741824`},
		{"CLIENT_PONG_TIMEOUT", "90", func(c Config) bool { return c.ClientPongTimeout == 90*time.Second }, "0", `config: CLIENT_PONG_TIMEOUT="0": want a duration from 1s to 24h: whole seconds (like 10) or a Go duration (like 10s)`},
		{"CLIENT_PING_INTERVAL", "30", func(c Config) bool { return c.ClientPingInterval == 30*time.Second }, "1.5", `config: CLIENT_PING_INTERVAL="1.5": want a duration from 1s to 24h: whole seconds (like 10) or a Go duration (like 10s)`},
		{"UPSTREAM_PONG_TIMEOUT", "90", func(c Config) bool { return c.UpstreamPongTimeout == 90*time.Second }, "-5", `config: UPSTREAM_PONG_TIMEOUT="-5": want a duration from 1s to 24h: whole seconds (like 10) or a Go duration (like 10s)`},
		{"UPSTREAM_PING_INTERVAL", "30", func(c Config) bool { return c.UpstreamPingInterval == 30*time.Second }, "9999999", `config: UPSTREAM_PING_INTERVAL="9999999": want a duration from 1s to 24h: whole seconds (like 10) or a Go duration (like 10s)`},
		{"WRITE_TIMEOUT", "5", func(c Config) bool { return c.WriteTimeout == 5*time.Second }, "5 s", `config: WRITE_TIMEOUT="5 s": want a duration from 1s to 24h: whole seconds (like 10) or a Go duration (like 10s)`},
		{"HANDSHAKE_TIMEOUT", "3", func(c Config) bool { return c.HandshakeTimeout == 3*time.Second }, "0", `config: HANDSHAKE_TIMEOUT="0": want a duration from 1s to 24h: whole seconds (like 10) or a Go duration (like 10s)`},
		{"UPSTREAM_DIAL_TIMEOUT", "3", func(c Config) bool { return c.UpstreamDialTimeout == 3*time.Second }, "", ""},
		{"ADMIN_LISTEN", "off", func(c Config) bool { return c.AdminListen == "" }, "9090", `config: ADMIN_LISTEN="9090": want host:port (e.g. 127.0.0.1:9090) or off`},
		{"ADMIN_LISTEN", "0.0.0.0:9191", func(c Config) bool { return c.AdminListen == "0.0.0.0:9191" }, "", ""},
		{"DRAIN_TIMEOUT", "90s", func(c Config) bool { return c.DrainTimeout == 90*time.Second }, "16m", `config: DRAIN_TIMEOUT="16m": want a duration from 1s to 15m: whole seconds (like 10) or a Go duration (like 10s)`},
		{"MEMORY_BUDGET", "536870912", func(c Config) bool { return c.MemoryBudget == 512<<20 }, "1e9", `config: MEMORY_BUDGET="1e9": want an integer from 0 to 1125899906842624`},
		{"MEMORY_BUDGET", "0", func(c Config) bool { return c.MemoryBudget == 0 }, "1024", `config: MEMORY_BUDGET=1024 must be 0 or at least WS_MAX_QUEUED_BYTES=4194304`},
		{"MAX_CONNECTIONS", "5000", func(c Config) bool { return c.MaxConnections == 5000 }, "-1", `config: MAX_CONNECTIONS="-1": want an integer from 0 to 10000000`},
		{"DESCRIPTOR_BUDGET", "20000", func(c Config) bool { return c.DescriptorBudget == 20000 }, "3", `config: DESCRIPTOR_BUDGET="3": want auto, off, or an integer from 4 to 1073741824`},
		{"DESCRIPTOR_BUDGET", "off", func(c Config) bool { return c.DescriptorBudget == 0 }, "-1", `config: DESCRIPTOR_BUDGET="-1": want auto, off, or an integer from 4 to 1073741824`},
		{"DESCRIPTOR_BUDGET", "0", func(c Config) bool { return c.DescriptorBudget == 0 }, "lots", `config: DESCRIPTOR_BUDGET="lots": want auto, off, or an integer from 4 to 1073741824`},
		{"DESCRIPTOR_BUDGET", "AUTO", func(c Config) bool { return c.DescriptorBudget == DescriptorBudgetAuto }, "", ""},
		{"METRICS_EMF", "true", func(c Config) bool { return c.MetricsEMF }, "on", `config: METRICS_EMF="on": want true or false`},
		{"TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7", func(c Config) bool {
			return reflect.DeepEqual(c.TrustedProxies, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32")})
		}, "10.0.0.0/33", `config: TRUSTED_PROXIES="10.0.0.0/33": "10.0.0.0/33" is not a CIDR or IP address`},
		{"PROXY_PROTOCOL", "true", func(c Config) bool { return c.ProxyProtocol }, "2", `config: PROXY_PROTOCOL="2": want true or false`},
	}
	for _, tc := range cases {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			c, err := Load(env("DOMAIN_MAP", minimalMap, tc.name, tc.value))
			if err != nil {
				t.Fatalf("valid %s=%q: %v", tc.name, tc.value, err)
			}
			if !tc.check(c) {
				t.Fatalf("%s=%q not applied: %+v", tc.name, tc.value, c)
			}
			if tc.bad == "" {
				return
			}
			_, err = Load(env("DOMAIN_MAP", minimalMap, tc.name, tc.bad))
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("%s=%q: error %v, want %q", tc.name, tc.bad, err, tc.wantErr)
			}
		})
	}
}

func TestDomainMapSources(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "domain_map.json")
	if err := os.WriteFile(file, []byte(minimalMap), 0o600); err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString([]byte(minimalMap))
	for name, lookup := range map[string]func(string) (string, bool){
		"plain":  env("DOMAIN_MAP", minimalMap),
		"base64": env("DOMAIN_MAP_BASE64", b64),
		"file":   env("DOMAIN_MAP_FILE", file),
	} {
		c, err := Load(lookup)
		if err != nil || string(c.DomainMap) != minimalMap {
			t.Fatalf("%s: %q %v", name, c.DomainMap, err)
		}
	}
	errCases := map[string]struct {
		lookup func(string) (string, bool)
		want   string
	}{
		"missing": {env(), "config: DOMAIN_MAP is required (or DOMAIN_MAP_BASE64 / DOMAIN_MAP_FILE)"},
		"two":     {env("DOMAIN_MAP", minimalMap, "DOMAIN_MAP_BASE64", b64), "config: set only one of DOMAIN_MAP, DOMAIN_MAP_BASE64 and DOMAIN_MAP_FILE"},
		"bad b64": {env("DOMAIN_MAP_BASE64", "%%%"), "config: DOMAIN_MAP_BASE64: not valid standard base64: illegal base64 data at input byte 0"},
		"no file": {env("DOMAIN_MAP_FILE", filepath.Join(dir, "nope.json")), `config: DOMAIN_MAP_FILE="` + filepath.Join(dir, "nope.json") + `": open ` + filepath.Join(dir, "nope.json") + `: no such file or directory`},
	}
	for name, tc := range errCases {
		_, err := Load(tc.lookup)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: error %v, want %q", name, err, tc.want)
		}
	}
}

func TestCrossFieldRulesAndManyProblems(t *testing.T) {
	_, err := Load(env("DOMAIN_MAP", minimalMap, "CLIENT_PING_INTERVAL", "60", "UPSTREAM_PING_INTERVAL", "61",
		"WS_MAX_MESSAGE_SIZE", "8388608"))
	want := strings.Join([]string{
		"config: CLIENT_PING_INTERVAL=60 must be below CLIENT_PONG_TIMEOUT=60",
		"config: UPSTREAM_PING_INTERVAL=61 must be below UPSTREAM_PONG_TIMEOUT=60",
		"config: WS_MAX_QUEUED_BYTES=4194304 must exceed WS_MAX_MESSAGE_SIZE=8388608 by at least 64",
	}, "\n")
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n%v\nwant:\n%s", err, want)
	}
	// Several bad variables: one line each, in documentation order.
	_, err = Load(env("DOMAIN_MAP", minimalMap, "LISTEN_PORT", "0", "LOG_LEVEL", "loud"))
	want = "config: LISTEN_PORT=\"0\": want an integer from 1 to 65535\n" +
		"config: LOG_LEVEL=\"loud\": want one of trace, debug, info, warn, error, fatal, panic, disabled"
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestRedactedNeverShowsSecrets(t *testing.T) {
	c, err := Load(env("DOMAIN_MAP", minimalMap, "MTE_LICENSE_KEY", "top-secret-key", "MTE_COMPANY_NAME", "Acme"))
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, kv := range c.Redacted() {
		all = append(all, kv[0]+"="+kv[1])
	}
	joined := strings.Join(all, " ")
	if strings.Contains(joined, "top-secret-key") || !strings.Contains(joined, "mte_license_key=[REDACTED]") {
		t.Fatalf("redacted view: %s", joined)
	}
	if !strings.Contains(joined, "mte_company_name=Acme") || !strings.Contains(joined, "listen_addr=0.0.0.0:8080") {
		t.Fatalf("redacted view: %s", joined)
	}
}

// TestEveryProblemAtOnce: a bad DOMAIN_MAP does not hide the other
// variables' problems, nor they a rule across variables that parsed, nor
// metering's problems; a rule using a variable that did not parse is not
// reported on top of it.
func TestEveryProblemAtOnce(t *testing.T) {
	_, err := Load(env("DOMAIN_MAP", `{"*":{"upstream":"http://backend"}}`, "LISTEN_PORT", "0",
		"CLIENT_PING_INTERVAL", "70", "UPSTREAM_PING_INTERVAL", "soon", "BILLING_STRATEGY", "sometimes",
		"BILLING_REPORT_INTERVAL", "soon"))
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{
		`config: LISTEN_PORT="0": want an integer from 1 to 65535`,
		`config: UPSTREAM_PING_INTERVAL="soon": want a duration from 1s to 24h: whole seconds (like 10) or a Go duration (like 10s)`,
		`config: BILLING_REPORT_INTERVAL="soon": want whole seconds (like 900) or a Go duration (like 15m)`,
		"routing: DOMAIN_MAP", // the routing.Parse problem(s)
		"config: CLIENT_PING_INTERVAL=70 must be below CLIENT_PONG_TIMEOUT=60",
		"metering: BILLING_STRATEGY=sometimes: one of eclypses_no_billing, register_usage, request_based, external_meter",
	}
	var got []string
	for _, l := range lines {
		if strings.HasPrefix(l, "routing: DOMAIN_MAP") {
			l = "routing: DOMAIN_MAP"
			if len(got) > 0 && got[len(got)-1] == l {
				continue
			}
		}
		got = append(got, l)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("error:\n%v\nwant (routing lines shortened):\n%s", err, strings.Join(want, "\n"))
	}

	// Without DOMAIN_MAP, its absence is one more line, after the
	// variables that did not parse.
	_, err = Load(env("LOG_LEVEL", "loud", "CLIENT_PING_INTERVAL", "70"))
	want = []string{
		`config: LOG_LEVEL="loud": want one of trace, debug, info, warn, error, fatal, panic, disabled`,
		"config: DOMAIN_MAP is required (or DOMAIN_MAP_BASE64 / DOMAIN_MAP_FILE)",
		"config: CLIENT_PING_INTERVAL=70 must be below CLIENT_PONG_TIMEOUT=60",
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Fatalf("error:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

// TestKeyExchangeAndKyberStrength: MTE_KEY_EXCHANGE is the clearer
// variable, MTE_KYBER_STRENGTH still works alone, and both set must agree.
func TestKeyExchangeAndKyberStrength(t *testing.T) {
	for _, tc := range []struct {
		exchange, strength string
		want               mte.Strength
		wantKyber          int
		wantErr            string
	}{
		{"", "", mte.Strength512, 512, ""},
		{"", "0", mte.StrengthClassical, 0, ""},
		{"", "1024", mte.Strength1024, 1024, ""},
		{"x25519", "", mte.StrengthClassical, 0, ""},
		{"mlkem768", "768", mte.Strength768, 768, ""},
		{"xwing", "", mte.StrengthXWing, 768, ""},
		{"xwing", "768", 0, 0, `config: MTE_KEY_EXCHANGE="xwing" (X-Wing) and MTE_KYBER_STRENGTH="768" (ML-KEM-768) disagree: set one of them`},
		{"mlkem512", "0", 0, 0, `config: MTE_KEY_EXCHANGE="mlkem512" (ML-KEM-512) and MTE_KYBER_STRENGTH="0" (X25519) disagree: set one of them`},
		{"xwing", "256", 0, 0, `config: MTE_KYBER_STRENGTH="256": want one of 0, 512, 768, 1024`},
	} {
		kv := []string{"DOMAIN_MAP", minimalMap}
		if tc.exchange != "" {
			kv = append(kv, "MTE_KEY_EXCHANGE", tc.exchange)
		}
		if tc.strength != "" {
			kv = append(kv, "MTE_KYBER_STRENGTH", tc.strength)
		}
		c, err := Load(env(kv...))
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%q/%q: err %v, want %s", tc.exchange, tc.strength, err, tc.wantErr)
			}
			continue
		}
		if err != nil || c.MTEParams().Strength != tc.want || c.KyberStrength != tc.wantKyber || c.KeyExchange != tc.want.KeyExchange() {
			t.Errorf("%q/%q: %v %q %d %v", tc.exchange, tc.strength, c.MTEParams().Strength, c.KeyExchange, c.KyberStrength, err)
		}
		if _, err := mte.NewProfile(c.MTEParams()); err != nil {
			t.Errorf("%q/%q: %v", tc.exchange, tc.strength, err)
		}
	}
	if _, err := mte.NewProfile(Config{KeyExchange: "kyber"}.MTEParams()); err == nil {
		t.Error("unknown KeyExchange validates")
	}
	if p := (Config{KyberStrength: 1024}).MTEParams(); p.Strength != mte.Strength1024 {
		t.Errorf("Config without KeyExchange: %v", p.Strength)
	}
}

// TestDurationForms: every duration variable takes whole seconds and a Go
// duration, reads both as the same value, and shows it as whole seconds
// where it is whole (and as a Go duration where it is finer).
func TestDurationForms(t *testing.T) {
	get := map[string]func(Config) time.Duration{
		"CLIENT_PONG_TIMEOUT":     func(c Config) time.Duration { return c.ClientPongTimeout },
		"CLIENT_PING_INTERVAL":    func(c Config) time.Duration { return c.ClientPingInterval },
		"UPSTREAM_PONG_TIMEOUT":   func(c Config) time.Duration { return c.UpstreamPongTimeout },
		"UPSTREAM_PING_INTERVAL":  func(c Config) time.Duration { return c.UpstreamPingInterval },
		"WRITE_TIMEOUT":           func(c Config) time.Duration { return c.WriteTimeout },
		"HANDSHAKE_TIMEOUT":       func(c Config) time.Duration { return c.HandshakeTimeout },
		"UPSTREAM_DIAL_TIMEOUT":   func(c Config) time.Duration { return c.UpstreamDialTimeout },
		"DRAIN_TIMEOUT":           func(c Config) time.Duration { return c.DrainTimeout },
		"BILLING_REPORT_INTERVAL": func(c Config) time.Duration { return c.Metering.ReportInterval },
	}
	var marked []string
	for _, v := range Vars {
		if v.Duration {
			marked = append(marked, v.Name)
			if _, ok := get[v.Name]; !ok {
				t.Errorf("%s is a duration variable this test does not cover", v.Name)
			}
		}
	}
	if len(marked) != len(get) {
		t.Errorf("Vars marks %v as durations; this test covers %d", marked, len(get))
	}
	for name, field := range get {
		for _, tc := range []struct {
			value string
			want  time.Duration
		}{{"7", 7 * time.Second}, {"7s", 7 * time.Second}, {"2m", 2 * time.Minute}, {"120", 2 * time.Minute}, {"1500ms", 1500 * time.Millisecond}} {
			e := []string{"DOMAIN_MAP", minimalMap, name, tc.value}
			switch { // keep each ping interval below its pong timeout
			case strings.HasSuffix(name, "_PING_INTERVAL"):
				e = append(e, strings.Replace(name, "_PING_INTERVAL", "_PONG_TIMEOUT", 1), "1h")
			case strings.HasSuffix(name, "_PONG_TIMEOUT"):
				e = append(e, strings.Replace(name, "_PONG_TIMEOUT", "_PING_INTERVAL", 1), "1")
			}
			c, err := Load(env(e...))
			if err != nil {
				t.Errorf("%s=%s: %v", name, tc.value, err)
				continue
			}
			if got := field(c); got != tc.want {
				t.Errorf("%s=%s: %v, want %v", name, tc.value, got, tc.want)
			}
		}
	}
	c, err := Load(env("DOMAIN_MAP", minimalMap, "WRITE_TIMEOUT", "1m30s", "HANDSHAKE_TIMEOUT", "1500ms", "DRAIN_TIMEOUT", "90"))
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]string{}
	for _, kv := range c.Redacted() {
		shown[kv[0]] = kv[1]
	}
	if shown["write_timeout"] != "90" || shown["handshake_timeout"] != "1.5s" || shown["drain_timeout"] != "1m30s" {
		t.Errorf("shown as write_timeout=%s handshake_timeout=%s drain_timeout=%s", shown["write_timeout"], shown["handshake_timeout"], shown["drain_timeout"])
	}
	for _, bad := range []string{"-5", "1.5", "5 s", "ten", "99999999999999999999"} {
		_, err := Load(env("DOMAIN_MAP", minimalMap, "UPSTREAM_DIAL_TIMEOUT", bad))
		want := `config: UPSTREAM_DIAL_TIMEOUT="` + bad + `": want a duration from 1s to 24h: whole seconds (like 10) or a Go duration (like 10s)`
		if err == nil || err.Error() != want {
			t.Errorf("UPSTREAM_DIAL_TIMEOUT=%s: %v, want %s", bad, err, want)
		}
	}
}
