package config

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/socketx/socketx-server/metering"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/routing"
)

// Config is the whole configuration as plain data. It holds no live state.
type Config struct {
	// DomainMap is the raw DOMAIN_MAP JSON (from DOMAIN_MAP,
	// DOMAIN_MAP_BASE64 or DOMAIN_MAP_FILE, whichever is set).
	DomainMap     []byte
	DomainMapFile string // non-empty when the map came from a file

	ListenHost string
	ListenPort int

	LogLevel       string
	UseConsoleLogs bool

	MTECompanyName string
	MTELicenseKey  string // secret: never logged
	// KeyExchange is the exchange in effect, by its MTE_KEY_EXCHANGE name
	// (mlkem512, mlkem768, mlkem1024, x25519, xwing): MTE_KEY_EXCHANGE's
	// value, else MTE_KYBER_STRENGTH's exchange. KyberStrength is its
	// ML-KEM parameter set: 0 for x25519, 768 for xwing.
	KeyExchange   string
	KyberStrength int
	DecoderWindow int
	// ServerKeys are the long-term server authentication keys of
	// MTE_SERVER_KEYS followed by those of MTE_SERVER_KEY_FILES (secret:
	// only their key IDs are ever shown); ServerKeyFiles are those paths.
	ServerKeys     []*mte.ServerPrivateKey
	ServerKeyFiles []string

	ReadBufferSize  int
	WriteBufferSize int
	MaxMessageSize  int
	MaxQueuedBytes  int
	MemoryBudget    int64 // 0 = derived by the command (see MEMORY_BUDGET)

	ClientPongTimeout    time.Duration
	ClientPingInterval   time.Duration
	UpstreamPongTimeout  time.Duration
	UpstreamPingInterval time.Duration
	WriteTimeout         time.Duration
	HandshakeTimeout     time.Duration
	UpstreamDialTimeout  time.Duration

	AdminListen    string // "" disables the admin listener
	DrainTimeout   time.Duration
	MaxConnections int // 0 = unlimited
	// DescriptorBudget is how many descriptors connections may hold:
	// DescriptorBudgetAuto derives it from the descriptor limit, 0 is off.
	DescriptorBudget int
	MetricsEMF       bool
	TrustedProxies   []netip.Prefix
	ProxyProtocol    bool

	// UpstreamCAFile is the UPSTREAM_CA_FILE path ("" when unset) and
	// UpstreamCAFileCerts the certificates it held at Load;
	// UpstreamCAPEMCerts are those of UPSTREAM_CA_PEM. Both are added to the
	// system roots for wss:// upstreams: see [Config.UpstreamCAs].
	UpstreamCAFile      string
	UpstreamCAFileCerts []*x509.Certificate
	UpstreamCAPEMCerts  []*x509.Certificate

	// GOGCSet is whether GOGC is set: the runtime then applies it, else
	// the command sets DefaultGCPercent.
	GOGCSet bool
	// ECSMetadataURI is ECS_CONTAINER_METADATA_URI_V4 ("" outside ECS).
	ECSMetadataURI string

	// Routes is DOMAIN_MAP parsed (nil when it did not parse).
	Routes *routing.Map
	// Metering is the BILLING_*, METERING_*, AWS_* and AZURE_* settings.
	Metering metering.Config
}

// Var describes one environment variable.
type Var struct {
	Name    string
	Default string // "" when unset means off, none or derived (see Help)
	Secret  bool   // never logged or echoed in errors
	// Platform variables are set by the platform (ECS, the AKS workload
	// identity webhook), not by operators.
	Platform bool
	// Runtime variables are also read by the Go runtime itself.
	Runtime bool
	// Duration variables take whole seconds ("10") or a Go duration
	// ("10s", "1m30s"): see parseDuration.
	Duration bool
	Help     string
}

// Vars lists every variable Load reads, which is every variable the
// binary reads, in documentation order. README.md's configuration table
// and docs/METERING.md's variable table document exactly these, with these
// defaults (config's TestDocumentedVars). Defaults of settings a package
// owns come from that package: engine.DefaultConfig and metering's
// Default constants.
var Vars = []Var{
	{Name: "DOMAIN_MAP", Help: `required (or DOMAIN_MAP_BASE64 / DOMAIN_MAP_FILE): JSON map of Host to {"upstream": "ws[s]://...", "allowedOrigins": [non-empty]}`},
	{Name: "DOMAIN_MAP_BASE64", Help: "DOMAIN_MAP, base64-encoded (what the Helm chart passes)"},
	{Name: "DOMAIN_MAP_FILE", Help: "path of a file holding DOMAIN_MAP (a mounted ConfigMap)"},
	{Name: "LISTEN_HOST", Default: engineDefaultHost(), Help: "address the public listener binds to"},
	{Name: "LISTEN_PORT", Default: engineDefaultPort(), Help: "public port (1-65535)"},
	{Name: "LOG_LEVEL", Default: "info", Help: "trace, debug, info, warn, error, fatal, panic or disabled"},
	{Name: "USE_CONSOLE_LOGS", Default: "false", Help: "true for human-readable logs instead of JSON"},
	{Name: "MTE_COMPANY_NAME", Default: "", Help: "tenant name mixed into the MTE key schedule with MTE_LICENSE_KEY"},
	{Name: "MTE_LICENSE_KEY", Default: "", Secret: true, Help: "optional tenant secret: only clients configured with it can pair"},
	{Name: "MTE_KYBER_STRENGTH", Default: "512", Help: "0 (X25519, not post-quantum), 512, 768 or 1024"},
	{Name: "MTE_KEY_EXCHANGE", Default: "", Help: "mlkem512, mlkem768, mlkem1024, x25519 or xwing (X-Wing: ML-KEM-768 + X25519 hybrid); unset, MTE_KYBER_STRENGTH decides; set with it, both must name the same exchange"},
	{Name: "MTE_SERVER_KEYS", Default: "", Secret: true, Help: "comma-separated server authentication keys (base64 of each 64-byte ML-KEM-768 seed, as socketx keygen writes them); clients that pin one of their public keys know they reach this proxy"},
	{Name: "MTE_SERVER_KEY_FILES", Default: "", Help: "comma-separated paths of server key files written by socketx keygen (read at start); with MTE_SERVER_KEYS both are used"},
	{Name: "MTE_DECODER_WINDOW_SIZE", Default: "1000", Help: "out-of-order tolerance of the proxy's decoder in messages (0 = strict order, max 65535)"},
	// The engine reads at least 64 KiB per read whatever this says
	// (engine.DefaultConfig's 64 KiB); 1024 is the documented value.
	{Name: "WS_READ_BUFFER_SIZE", Default: "1024", Help: "bytes per read; one read buffer per event loop, at least 64 KiB is used"},
	{Name: "WS_WRITE_BUFFER_SIZE", Default: strconv.Itoa(engineDefaults.WriteBufferSize), Help: "static part of each connection's outbound buffer in bytes"},
	{Name: "WS_MAX_MESSAGE_SIZE", Default: strconv.Itoa(engineDefaults.MaxMessageSize), Help: "largest application message in bytes (SocketX framing not counted); larger closes with 1009"},
	{Name: "WS_MAX_QUEUED_BYTES", Default: strconv.Itoa(engineDefaults.MaxQueuedBytes), Help: "outbound bytes queued per leg before a slow peer is closed with 1013"},
	{Name: "MEMORY_BUDGET", Default: "0", Help: "bytes all connections together may hold in partial messages and queued output; beyond it the largest holders close with 1013 (0 = half of GOMEMLIMIT when set, else 256 MiB)"},
	{Name: "CLIENT_PONG_TIMEOUT", Default: seconds(engineDefaults.ClientPongTimeout), Duration: true, Help: "time allowed without a client pong"},
	{Name: "CLIENT_PING_INTERVAL", Default: seconds(engineDefaults.ClientPingInterval), Duration: true, Help: "time between proxy-to-client pings (below CLIENT_PONG_TIMEOUT)"},
	{Name: "UPSTREAM_PONG_TIMEOUT", Default: seconds(engineDefaults.UpstreamPongTimeout), Duration: true, Help: "time allowed without an upstream pong"},
	{Name: "UPSTREAM_PING_INTERVAL", Default: seconds(engineDefaults.UpstreamPingInterval), Duration: true, Help: "time between proxy-to-upstream pings (below UPSTREAM_PONG_TIMEOUT)"},
	{Name: "WRITE_TIMEOUT", Default: seconds(engineDefaults.WriteTimeout), Duration: true, Help: "time queued outbound data may stay undelivered"},
	{Name: "HANDSHAKE_TIMEOUT", Default: seconds(engineDefaults.HandshakeTimeout), Duration: true, Help: "time for the HTTP upgrade, the pairing and the upstream connection each"},
	{Name: "UPSTREAM_DIAL_TIMEOUT", Default: seconds(engineDefaults.DialTimeout), Duration: true, Help: "time to connect (and TLS-handshake) to an upstream"},
	{Name: "UPSTREAM_CA_FILE", Default: "", Help: "path of a PEM bundle of CA certificates trusted for wss:// upstreams in addition to the system roots (read at start)"},
	{Name: "UPSTREAM_CA_PEM", Default: "", Help: "the same as PEM text, for platforms that pass secrets as environment variables; with UPSTREAM_CA_FILE both are added"},
	{Name: "ADMIN_LISTEN", Default: "127.0.0.1:9090", Help: "host:port of the admin listener (/metrics, /debug/pprof, /health, /ready); off disables it"},
	{Name: "DRAIN_TIMEOUT", Default: "25s", Duration: true, Help: "on SIGTERM, clients get 1001 spread over this time, then the process exits"},
	{Name: "MAX_CONNECTIONS", Default: "0", Help: "open client connections beyond which upgrades get 503 (0 = unlimited)"},
	{Name: "DESCRIPTOR_BUDGET", Default: "auto", Help: "descriptors client and upstream connections may hold: auto (the descriptor limit minus what is open at startup minus max(64, 1%)), off, or an integer of at least 4"},
	{Name: "METRICS_EMF", Default: "false", Help: "true to print CloudWatch Embedded Metric Format lines on stdout every minute"},
	{Name: "TRUSTED_PROXIES", Default: "", Help: "comma-separated CIDRs whose X-Forwarded-For is believed (e.g. the load balancer subnets)"},
	{Name: "PROXY_PROTOCOL", Default: "false", Help: "true when an NLB/ELB sends PROXY protocol v1/v2 headers"},
	{Name: "GOGC", Default: strconv.Itoa(DefaultGCPercent), Runtime: true, Help: "Go GC headroom; when unset the command sets 50 instead of the runtime's 100"},
	{Name: "ECS_CONTAINER_METADATA_URI_V4", Platform: true, Help: "set by ECS: the proxy polls <uri>/task and drains once the task is to stop, before SIGTERM"},
	// Metering (docs/METERING.md).
	{Name: "BILLING_STRATEGY", Default: string(metering.StrategyNone), Help: "eclypses_no_billing (no calls), register_usage, request_based or external_meter"},
	{Name: "BILLING_PROVIDER", Help: "aws or azure (required when billing is on)"},
	{Name: "BILLING_PRODUCT", Help: "must be socketx when billing is on"},
	{Name: "BILLING_REPORT_INTERVAL", Default: shortDuration(metering.DefaultReportInterval), Duration: true, Help: "1s to 1h, request_based only"},
	{Name: "METERING_STATE_DIR", Help: "directory for the meter's state file (one per task/pod)"},
	{Name: "AWS_MARKETPLACE_PRODUCT_CODE", Help: "product code for register_usage and request_based"},
	{Name: "AWS_MARKETPLACE_EXTERNAL_PRODUCT_CODE", Help: "product code for external_meter"},
	{Name: "AWS_MARKETPLACE_PUBLIC_KEY_VERSION", Default: strconv.Itoa(metering.DefaultPublicKeyVer), Help: "RegisterUsage PublicKeyVersion"},
	{Name: "AWS_ENDPOINT_URL_MARKETPLACE_METERING", Help: "AWS Marketplace Metering endpoint override (unset: the SDK default)"},
	{Name: "AZURE_RESOURCE_ID", Help: "Azure resource id to bill (highest precedence)"},
	{Name: "AZURE_EXTENSION_RESOURCE_ID", Help: "Helm global.azure.extension.resourceId (AKS extension offers)"},
	{Name: "AZURE_PLAN_ID", Help: "Helm global.azure.marketplace.planId (required for Azure)"},
	{Name: "AZURE_CLIENT_ID", Help: "Helm global.azure.identity.clientId (user-assigned / workload identity)"},
	{Name: "AZURE_TENANT_ID", Platform: true, Help: "set by the AKS workload-identity webhook"},
	{Name: "AZURE_FEDERATED_TOKEN_FILE", Platform: true, Help: "set by the AKS workload-identity webhook; with AZURE_TENANT_ID, workload identity replaces managed identity"},
	{Name: "AZURE_METERING_ENDPOINT", Default: metering.DefaultAzureMetering, Help: "Azure Marketplace metering endpoint (override for tests)"},
	{Name: "AZURE_IMDS_ENDPOINT", Default: metering.DefaultAzureIMDS, Help: "Azure instance metadata endpoint (override for tests)"},
	{Name: "AZURE_ARM_ENDPOINT", Default: metering.DefaultAzureARM, Help: "Azure Resource Manager endpoint (override for tests)"},
}

// DefaultGCPercent is the GC percentage the command sets when GOGC is
// unset. The relay allocates nothing per message, so the collector only
// runs while connections are set up; most of the heap is long-lived
// per-connection state. Half the default headroom cuts idle memory per
// connection by ~1 KiB (6.8 -> 5.7 KiB RSS at 9,000 pairs,
// perf/compare.sh) for ~4% more CPU per setup.
const DefaultGCPercent = 50

// Load reads every variable through lookup (os.LookupEnv in production),
// applies defaults and validates the result, including the DOMAIN_MAP
// document (routing.Parse) and the metering settings. The error joins one
// line per problem, all of them: first each variable that does not parse
// (naming the variable, the value and what is allowed), then each DOMAIN_MAP
// entry problem, then each rule across variables whose variables all
// parsed.
func Load(lookup func(string) (string, bool)) (Config, error) {
	l := loader{lookup: lookup, bad: map[string]bool{}}
	var c Config
	c.DomainMap, c.DomainMapFile = l.domainMap()
	c.ListenHost = l.str("LISTEN_HOST")
	c.ListenPort = l.intIn("LISTEN_PORT", 1, 65535)
	c.LogLevel = l.oneOf("LOG_LEVEL", LogLevels...)
	c.UseConsoleLogs = l.boolean("USE_CONSOLE_LOGS")
	c.MTECompanyName = l.str("MTE_COMPANY_NAME")
	c.MTELicenseKey = l.str("MTE_LICENSE_KEY")
	c.KyberStrength = l.intOneOf("MTE_KYBER_STRENGTH", 0, 512, 768, 1024)
	c.KeyExchange, c.KyberStrength = l.keyExchange("MTE_KEY_EXCHANGE", "MTE_KYBER_STRENGTH", c.KyberStrength)
	c.DecoderWindow = l.intIn("MTE_DECODER_WINDOW_SIZE", 0, 65535)
	c.ServerKeys, c.ServerKeyFiles = l.serverKeys("MTE_SERVER_KEYS", "MTE_SERVER_KEY_FILES")
	c.ReadBufferSize = l.intIn("WS_READ_BUFFER_SIZE", 128, 64<<20)
	c.WriteBufferSize = l.intIn("WS_WRITE_BUFFER_SIZE", 128, 64<<20)
	c.MaxMessageSize = l.intIn("WS_MAX_MESSAGE_SIZE", 1024, 64<<20)
	c.MaxQueuedBytes = l.intIn("WS_MAX_QUEUED_BYTES", 64<<10, 1<<30)
	c.MemoryBudget = int64(l.intIn("MEMORY_BUDGET", 0, 1<<50))
	c.ClientPongTimeout = l.duration("CLIENT_PONG_TIMEOUT", time.Second, 24*time.Hour)
	c.ClientPingInterval = l.duration("CLIENT_PING_INTERVAL", time.Second, 24*time.Hour)
	c.UpstreamPongTimeout = l.duration("UPSTREAM_PONG_TIMEOUT", time.Second, 24*time.Hour)
	c.UpstreamPingInterval = l.duration("UPSTREAM_PING_INTERVAL", time.Second, 24*time.Hour)
	c.WriteTimeout = l.duration("WRITE_TIMEOUT", time.Second, 24*time.Hour)
	c.HandshakeTimeout = l.duration("HANDSHAKE_TIMEOUT", time.Second, 24*time.Hour)
	c.UpstreamDialTimeout = l.duration("UPSTREAM_DIAL_TIMEOUT", time.Second, 24*time.Hour)
	c.UpstreamCAFile, c.UpstreamCAFileCerts = l.caFile("UPSTREAM_CA_FILE")
	c.UpstreamCAPEMCerts = l.caPEM("UPSTREAM_CA_PEM")
	c.AdminListen = l.hostPort("ADMIN_LISTEN")
	c.DrainTimeout = l.duration("DRAIN_TIMEOUT", time.Second, 15*time.Minute)
	c.MaxConnections = l.intIn("MAX_CONNECTIONS", 0, 10_000_000)
	c.DescriptorBudget = l.descriptorBudget("DESCRIPTOR_BUDGET")
	c.MetricsEMF = l.boolean("METRICS_EMF")
	c.TrustedProxies = l.prefixes("TRUSTED_PROXIES")
	c.ProxyProtocol = l.boolean("PROXY_PROTOCOL")
	_, c.GOGCSet = lookup("GOGC")
	c.ECSMetadataURI = l.str("ECS_CONTAINER_METADATA_URI_V4")
	c.Metering = l.metering()
	if len(c.DomainMap) > 0 {
		routes, err := routing.Parse(c.DomainMap)
		if err != nil {
			l.failErr("DOMAIN_MAP", err)
		}
		c.Routes = routes
	}
	return c, errors.Join(append(l.errs, c.validate(l.bad))...)
}

// LogLevels are the accepted LOG_LEVEL values, lowest first.
var LogLevels = []string{"trace", "debug", "info", "warn", "error", "fatal", "panic", "disabled"}

// Validate checks the rules that span several variables, each stated
// once: DOMAIN_MAP's presence and MEMORY_BUDGET's floor here, the engine's
// rules in engine.Config.Validate (reported here in terms of variables),
// metering's in metering.Config.Validate. Load has already checked each
// variable on its own.
func (c Config) Validate() error { return c.validate(nil) }

// ListenAddr is host:port of the public listener.
func (c Config) ListenAddr() string {
	host := c.ListenHost
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(c.ListenPort)
}

type loader struct {
	lookup func(string) (string, bool)
	errs   []error
	bad    map[string]bool // variables that did not parse: rules using them are skipped
}

func defaultOf(name string) string {
	for _, v := range Vars {
		if v.Name == name {
			return v.Default
		}
	}
	return ""
}

// raw returns the trimmed value, or the default when unset or empty.
func (l *loader) raw(name string) string {
	if v, ok := l.lookup(name); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return defaultOf(name)
}

func (l *loader) fail(name, value, allowed string) {
	if isSecret(name) {
		value = "[REDACTED]"
	}
	l.errs = append(l.errs, fmt.Errorf("config: %s=%q: %s", name, value, allowed))
	l.bad[name] = true
}

// failErr records a problem of name whose message is err.
func (l *loader) failErr(name string, err error) {
	l.errs = append(l.errs, err)
	l.bad[name] = true
}

func isSecret(name string) bool {
	for _, v := range Vars {
		if v.Name == name {
			return v.Secret
		}
	}
	return false
}

func (l *loader) str(name string) string { return l.raw(name) }

func (l *loader) intIn(name string, lo, hi int) int {
	s := l.raw(name)
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		l.fail(name, s, fmt.Sprintf("want an integer from %d to %d", lo, hi))
		return 0
	}
	return n
}

func (l *loader) intOneOf(name string, allowed ...int) int {
	s := l.raw(name)
	n, err := strconv.Atoi(s)
	if err == nil {
		for _, a := range allowed {
			if n == a {
				return n
			}
		}
	}
	parts := make([]string, len(allowed))
	for i, a := range allowed {
		parts[i] = strconv.Itoa(a)
	}
	l.fail(name, s, "want one of "+strings.Join(parts, ", "))
	return 0
}

// keyExchange reads name (MTE_KEY_EXCHANGE) next to strengthName
// (MTE_KYBER_STRENGTH, already read as strength). Unset, the exchange is
// the strength's. Set, it decides, and an explicitly set strength must
// name the same exchange. It returns the exchange's name and its ML-KEM
// parameter set (0 for x25519, 768 for xwing).
func (l *loader) keyExchange(name, strengthName string, strength int) (string, int) {
	raw := l.raw(name)
	if raw == "" {
		if l.bad[strengthName] {
			return "", strength
		}
		return mte.Strength(strength).KeyExchange(), strength
	}
	st, err := mte.ParseKeyExchange(strings.ToLower(raw))
	if err != nil {
		l.fail(name, raw, "want one of "+mte.KeyExchangeNames())
		return "", strength
	}
	if v, set := l.lookup(strengthName); set && strings.TrimSpace(v) != "" && !l.bad[strengthName] && mte.Strength(strength) != st {
		l.errs = append(l.errs, fmt.Errorf("config: %s=%q (%v) and %s=%q (%v) disagree: set one of them",
			name, raw, st, strengthName, strings.TrimSpace(v), mte.Strength(strength)))
		l.bad[name] = true
		return "", strength
	}
	if st.Hybrid() {
		return st.KeyExchange(), int(mte.Strength768)
	}
	return st.KeyExchange(), int(st)
}

// serverKeys reads the server authentication keys: keysName holds
// comma-separated base64 seeds, filesName comma-separated paths of
// socketx keygen files. Errors name the variable and the position or
// path, never the key. A key listed twice is an error.
func (l *loader) serverKeys(keysName, filesName string) ([]*mte.ServerPrivateKey, []string) {
	var keys []*mte.ServerPrivateKey
	seen := map[mte.ServerKeyID]string{}
	add := func(name, where string, k *mte.ServerPrivateKey) {
		if prev, dup := seen[k.ID()]; dup {
			l.failErr(name, fmt.Errorf("config: %s: %s is server key %s again (first: %s)", name, where, k.ID(), prev))
			return
		}
		seen[k.ID()] = where
		keys = append(keys, k)
	}
	for i, part := range splitList(l.raw(keysName)) {
		k, err := mte.ParseServerPrivateKey([]byte(part))
		if err != nil {
			l.failErr(keysName, fmt.Errorf("config: %s: key %d: %v", keysName, i+1, err))
			continue
		}
		add(keysName, "key "+strconv.Itoa(i+1), k)
	}
	files := splitList(l.raw(filesName))
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			l.failErr(filesName, fmt.Errorf("config: %s=%q: %v", filesName, path, err))
			continue
		}
		k, err := mte.ParseServerPrivateKey(data)
		clear(data)
		if err != nil {
			l.failErr(filesName, fmt.Errorf("config: %s=%q: %v", filesName, path, err))
			continue
		}
		add(filesName, path, k)
	}
	return keys, files
}

// splitList splits a comma-separated value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func (l *loader) oneOf(name string, allowed ...string) string {
	s := strings.ToLower(l.raw(name))
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	l.fail(name, l.raw(name), "want one of "+strings.Join(allowed, ", "))
	return ""
}

func (l *loader) boolean(name string) bool {
	s := l.raw(name)
	b, err := strconv.ParseBool(s)
	if err != nil {
		l.fail(name, s, "want true or false")
	}
	return b
}

// duration reads a duration (see parseDuration) within [lo, hi].
func (l *loader) duration(name string, lo, hi time.Duration) time.Duration {
	s := l.raw(name)
	d, err := parseDuration(s)
	if err != nil || d < lo || d > hi {
		l.fail(name, s, fmt.Sprintf("want a duration from %s to %s: whole seconds (like 10) or a Go duration (like 10s)",
			shortDuration(lo), shortDuration(hi)))
		return 0
	}
	return d
}

// parseDuration reads a duration variable's value: whole seconds ("10")
// or a Go duration ("10s", "1m30s", "1500ms").
func parseDuration(s string) (time.Duration, error) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > int64(math.MaxInt64/time.Second) {
			return 0, fmt.Errorf("config: %q: too many seconds", s)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("config: %q: want whole seconds or a Go duration", s)
	}
	return d, nil
}

// hostPort reads host:port, or "off" for disabled (returned as "").
func (l *loader) hostPort(name string) string {
	s := l.raw(name)
	if strings.EqualFold(s, "off") {
		return ""
	}
	host, port, err := net.SplitHostPort(s)
	p, perr := strconv.Atoi(port)
	if err != nil || perr != nil || p < 0 || p > 65535 || (host != "" && net.ParseIP(host) == nil && !validHostname(host)) {
		l.fail(name, s, "want host:port (e.g. 127.0.0.1:9090) or off")
		return ""
	}
	return s
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, r := range h {
		if !(r == '.' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// DescriptorBudgetAuto is Config.DescriptorBudget when the command derives
// the budget from the descriptor limit.
const DescriptorBudgetAuto = -1

// descriptorBudget reads auto, off (0) or a count of at least 4 (two
// connections' worth).
func (l *loader) descriptorBudget(name string) int {
	s := l.raw(name)
	switch strings.ToLower(s) {
	case "auto":
		return DescriptorBudgetAuto
	case "off", "0":
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 4 || n > 1<<30 {
		l.fail(name, s, "want auto, off, or an integer from 4 to 1073741824")
		return 0
	}
	return n
}

// prefixes reads a comma-separated list of CIDRs (a bare address is a /32
// or /128).
func (l *loader) prefixes(name string) []netip.Prefix {
	s := l.raw(name)
	if s == "" {
		return nil
	}
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			a, aerr := netip.ParseAddr(part)
			if aerr != nil {
				l.fail(name, s, fmt.Sprintf("%q is not a CIDR or IP address", part))
				return nil
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out
}

func (l *loader) domainMap() (data []byte, file string) {
	plain, _ := l.lookup("DOMAIN_MAP")
	b64, _ := l.lookup("DOMAIN_MAP_BASE64")
	path, _ := l.lookup("DOMAIN_MAP_FILE")
	set := 0
	for _, v := range []string{plain, b64, path} {
		if strings.TrimSpace(v) != "" {
			set++
		}
	}
	if set > 1 {
		l.failErr("DOMAIN_MAP", errors.New("config: set only one of DOMAIN_MAP, DOMAIN_MAP_BASE64 and DOMAIN_MAP_FILE"))
		return nil, ""
	}
	switch {
	case strings.TrimSpace(plain) != "":
		return []byte(plain), ""
	case strings.TrimSpace(b64) != "":
		d, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
		if err != nil {
			l.failErr("DOMAIN_MAP", fmt.Errorf("config: DOMAIN_MAP_BASE64: not valid standard base64: %v", err))
			return nil, ""
		}
		return d, ""
	case strings.TrimSpace(path) != "":
		d, err := os.ReadFile(strings.TrimSpace(path))
		if err != nil {
			l.failErr("DOMAIN_MAP", fmt.Errorf("config: DOMAIN_MAP_FILE=%q: %v", path, err))
			return nil, ""
		}
		return d, strings.TrimSpace(path)
	}
	return nil, ""
}

// Redacted returns the configuration as ordered key/value pairs for the
// startup log and `socketx config check`, metering's last; secrets show
// only whether they are set.
func (c Config) Redacted() [][2]string {
	set := func(s string) string {
		if s == "" {
			return "unset"
		}
		return "[REDACTED]"
	}
	return append([][2]string{
		{"listen_addr", c.ListenAddr()},
		{"log_level", c.LogLevel},
		{"use_console_logs", strconv.FormatBool(c.UseConsoleLogs)},
		{"domain_map_source", c.domainMapSource()},
		{"mte_company_name", c.MTECompanyName},
		{"mte_license_key", set(c.MTELicenseKey)},
		{"mte_key_exchange", c.KeyExchange},
		{"mte_kyber_strength", strconv.Itoa(c.KyberStrength)},
		{"mte_decoder_window_size", strconv.Itoa(c.DecoderWindow)},
		{"mte_server_key_ids", serverKeyIDs(c.ServerKeys)},
		{"ws_read_buffer_size", strconv.Itoa(c.ReadBufferSize)},
		{"ws_write_buffer_size", strconv.Itoa(c.WriteBufferSize)},
		{"ws_max_message_size", strconv.Itoa(c.MaxMessageSize)},
		{"ws_max_queued_bytes", strconv.Itoa(c.MaxQueuedBytes)},
		{"memory_budget", memoryBudgetString(c.MemoryBudget)},
		{"client_pong_timeout", seconds(c.ClientPongTimeout)},
		{"client_ping_interval", seconds(c.ClientPingInterval)},
		{"upstream_pong_timeout", seconds(c.UpstreamPongTimeout)},
		{"upstream_ping_interval", seconds(c.UpstreamPingInterval)},
		{"write_timeout", seconds(c.WriteTimeout)},
		{"handshake_timeout", seconds(c.HandshakeTimeout)},
		{"upstream_dial_timeout", seconds(c.UpstreamDialTimeout)},
		{"upstream_ca_file", orUnset(c.UpstreamCAFile)},
		{"upstream_ca_pem", certCount(c.UpstreamCAPEMCerts)},
		{"upstream_ca_certificates", strconv.Itoa(len(c.UpstreamCAs()))},
		{"admin_listen", orOff(c.AdminListen)},
		{"drain_timeout", shortDuration(c.DrainTimeout)},
		{"max_connections", strconv.Itoa(c.MaxConnections)},
		{"descriptor_budget", descriptorBudgetString(c.DescriptorBudget)},
		{"metrics_emf", strconv.FormatBool(c.MetricsEMF)},
		{"trusted_proxies", joinPrefixes(c.TrustedProxies)},
		{"proxy_protocol", strconv.FormatBool(c.ProxyProtocol)},
	}, c.Metering.Redacted()...)
}

// serverKeyIDs lists the server keys by key ID only ("off" without keys).
func serverKeyIDs(keys []*mte.ServerPrivateKey) string {
	if len(keys) == 0 {
		return "off"
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID().String()
	}
	return strings.Join(ids, ",")
}

func memoryBudgetString(n int64) string {
	if n == 0 {
		return "auto"
	}
	return strconv.FormatInt(n, 10)
}

func descriptorBudgetString(n int) string {
	switch n {
	case DescriptorBudgetAuto:
		return "auto"
	case 0:
		return "off"
	}
	return strconv.Itoa(n)
}

func orUnset(s string) string {
	if s == "" {
		return "unset"
	}
	return s
}

// certCount shows how many certificates a PEM variable held, never the PEM.
func certCount(certs []*x509.Certificate) string {
	switch len(certs) {
	case 0:
		return "unset"
	case 1:
		return "1 certificate"
	}
	return strconv.Itoa(len(certs)) + " certificates"
}

func orOff(s string) string {
	if s == "" {
		return "off"
	}
	return s
}

func joinPrefixes(ps []netip.Prefix) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

func (c Config) domainMapSource() string {
	if c.DomainMapFile != "" {
		return "file:" + c.DomainMapFile
	}
	return "env"
}
