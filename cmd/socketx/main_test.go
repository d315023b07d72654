package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/socketx/socketx-server/client"
	"github.com/socketx/socketx-server/internal/proctest"
	"github.com/socketx/socketx-server/internal/testupstream"
	"github.com/socketx/socketx-server/internal/testwait"
	"github.com/socketx/socketx-server/mte"
)

var binary string

// TestMain builds the real binary once; the tests run it as operators do.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "socketx-cmd-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "socketx")
	build := exec.Command("go", "build", "-race", "-o", binary, ".")
	if os.Getenv("SOCKETX_TEST_NORACE") != "" {
		build = exec.Command("go", "build", "-o", binary, ".")
	}
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running socketx (see internal/proctest) read as JSON log lines.
type proc struct {
	*proctest.Proc
	t *testing.T
}

func start(t *testing.T, env ...string) *proc {
	t.Helper()
	return &proc{Proc: proctest.Start(t, binary, env...), t: t}
}

// waitLog waits for a log line with msg (and matching fields) to appear.
func (p *proc) waitLog(msg string, match func(map[string]any) bool) map[string]any {
	p.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		for _, line := range p.Lines() {
			var l map[string]any
			if json.Unmarshal([]byte(line), &l) == nil && l["msg"] == msg && (match == nil || match(l)) {
				return l
			}
		}
		select {
		case <-p.NewLine():
		case <-deadline:
			p.t.Fatalf("no %q log line; log:\n%s", msg, p.Output())
		}
	}
}

func (p *proc) scrape() string {
	p.t.Helper()
	return p.Get(p.t, "/metrics")
}

// metric returns the value of one sample line ("name{labels} value").
func metric(t *testing.T, text, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, series+" ") {
			v, err := strconv.ParseFloat(strings.TrimPrefix(line, series+" "), 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("series %s not found in:\n%s", series, text)
	return 0
}

func echoDomainMap(url string) string {
	return `DOMAIN_MAP={"*":{"upstream":"` + url + `","allowedOrigins":["*"]}}`
}

func dial(t *testing.T, p *proc, path string) *client.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, p.URL(path), client.Options{Origin: "https://app.example.com"})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return c
}

func roundTrip(t *testing.T, c *client.Conn, typ mte.MessageType, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Send(ctx, typ, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	gotType, got, err := c.Receive(ctx)
	if err != nil || gotType != typ || string(got) != msg {
		t.Fatalf("echo: %v %q %v", gotType, got, err)
	}
}

func TestBadConfigExitsTwoWithOneLinePerProblem(t *testing.T) {
	cmd := exec.Command(binary, "serve")
	cmd.Env = []string{"LISTEN_PORT=0", "LOG_LEVEL=loud", "CLIENT_PING_INTERVAL=70"}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errorsAs(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit: %v, output:\n%s", err, out)
	}
	// Every problem at once: the missing DOMAIN_MAP and the rule across
	// two variables that did parse are not hidden by the others.
	want := "config: LISTEN_PORT=\"0\": want an integer from 1 to 65535\n" +
		"config: LOG_LEVEL=\"loud\": want one of trace, debug, info, warn, error, fatal, panic, disabled\n" +
		"config: DOMAIN_MAP is required (or DOMAIN_MAP_BASE64 / DOMAIN_MAP_FILE)\n" +
		"config: CLIENT_PING_INTERVAL=70 must be below CLIENT_PONG_TIMEOUT=60\n"
	if string(out) != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out, want)
	}

	// A bad DOMAIN_MAP, a bad variable and billing problems: all of them.
	cmd = exec.Command(binary, "config", "check")
	cmd.Env = []string{`DOMAIN_MAP={"*":{"upstream":"http://backend","allowedOrigins":["*"]}}`, "LISTEN_PORT=0",
		"BILLING_STRATEGY=request_based", "BILLING_PROVIDER=aws", "BILLING_PRODUCT=socketx", "BILLING_REPORT_INTERVAL=soon"}
	out, _ = cmd.CombinedOutput()
	want = "config: LISTEN_PORT=\"0\": want an integer from 1 to 65535\n" +
		"config: BILLING_REPORT_INTERVAL=\"soon\": want whole seconds (like 900) or a Go duration (like 15m)\n" +
		"routing: DOMAIN_MAP[\"*\"].upstream: …\n" + // routing's wording is routing's
		"metering: AWS_MARKETPLACE_PRODUCT_CODE=: required with BILLING_STRATEGY=request_based\n"
	got := regexp.MustCompile(`(?m)^(routing: DOMAIN_MAP\["\*"\]\.upstream: ).*$`).ReplaceAllString(string(out), "$1…")
	if got != want || cmd.ProcessState.ExitCode() != 2 {
		t.Fatalf("exit %d, output:\n%s\nwant:\n%s", cmd.ProcessState.ExitCode(), out, want)
	}

	cmd = exec.Command(binary, "serve")
	cmd.Env = []string{"MTE_LICENSE_KEY=hunter2"}
	out, _ = cmd.CombinedOutput()
	if string(out) != "config: DOMAIN_MAP is required (or DOMAIN_MAP_BASE64 / DOMAIN_MAP_FILE)\n" {
		t.Fatalf("missing DOMAIN_MAP output: %q", out)
	}
	if cmd.ProcessState.ExitCode() != 2 {
		t.Fatalf("exit code %d", cmd.ProcessState.ExitCode())
	}
}

func TestConfigCheckAndVersion(t *testing.T) {
	cmd := exec.Command(binary, "config", "check")
	cmd.Env = []string{`DOMAIN_MAP={"*":{"upstream":"ws://127.0.0.1:1","allowedOrigins":["*"]}}`, "MTE_LICENSE_KEY=hunter2"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	s := string(out)
	if !strings.HasPrefix(s, "configuration is valid (1 DOMAIN_MAP keys)\n") ||
		!strings.Contains(s, "\nmte_license_key=[REDACTED]\n") || strings.Contains(s, "hunter2") {
		t.Fatalf("config check output:\n%s", s)
	}
	out, err = exec.Command(binary, "version").CombinedOutput()
	if err != nil || string(out) != "socketx dev (mte profile socketx-mte-v1)\n" {
		t.Fatalf("version: %q %v", out, err)
	}
}

// TestLogsOfARealSession checks the JSON lines operators read: the startup
// config, per-message debug events and the close audit.
func TestLogsOfARealSession(t *testing.T) {
	echo := testupstream.NewEcho(t)
	p := start(t, echoDomainMap(echo.URL), "LOG_LEVEL=debug", "MTE_LICENSE_KEY=hunter2", "MTE_COMPANY_NAME=Acme")
	startLine := p.waitLog("Starting server", nil)
	cfg, _ := startLine["config"].(map[string]any)
	for _, k := range []string{"listen_addr", "log_level", "socketx_version", "mte_version", "mte_kyber_strength",
		"client_pong_timeout", "client_ping_interval", "upstream_pong_timeout", "upstream_ping_interval", "write_timeout",
		"ws_read_buffer_size", "ws_write_buffer_size"} {
		if _, ok := cfg[k]; !ok {
			t.Errorf("Starting server config lacks %q: %v", k, cfg)
		}
	}
	if cfg["mte_license_key"] != "[REDACTED]" || cfg["listen_addr"] != "127.0.0.1:"+strconv.Itoa(p.Port) {
		t.Errorf("config: %v", cfg)
	}
	for _, l := range p.Lines() {
		if strings.Contains(l, "hunter2") {
			t.Errorf("secret in log: %s", l)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, p.URL("/chat"), client.Options{Origin: "https://app.example.com", Company: "Acme", License: "hunter2"})
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, mte.TypeText, "hello")
	roundTrip(t, c, mte.TypeBinary, "\x00\x01")
	eeid := c.EEID().String()
	if err := c.Close(1000, "done"); err != nil {
		t.Fatal(err)
	}

	ev := p.waitLog("MTE decode", nil)
	want := map[string]any{"event_type": "decode", "payload_size_bytes": 5.0,
		"payload_sha256": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", "eeid": eeid,
		"host": "127.0.0.1:" + strconv.Itoa(p.Port), "origin": "https://app.example.com", "upstream_server": strings.TrimSuffix(echo.URL, "/") + "/chat"}
	for k, v := range want {
		if ev[k] != v {
			t.Errorf("decode event %s = %v, want %v", k, ev[k], v)
		}
	}
	for _, k := range []string{"connection_id", "duration_ms"} {
		if _, ok := ev[k]; !ok {
			t.Errorf("decode event lacks %s: %v", k, ev)
		}
	}
	p.waitLog("MTE encode", func(l map[string]any) bool { return l["payload_size_bytes"] == 2.0 })

	closed := p.waitLog("Connection closed", func(l map[string]any) bool { return l["eeid"] == eeid })
	a, _ := closed["audit"].(map[string]any)
	wantAudit := map[string]any{"messages_client_to_upstream": 2.0, "messages_upstream_to_client": 2.0,
		"bytes_client_to_upstream": 7.0, "bytes_upstream_to_client": 7.0, "close_code": 1000.0,
		"close_reason": "done", "closed_by": "client"}
	for k, v := range wantAudit {
		if a[k] != v {
			t.Errorf("audit %s = %v, want %v (audit %v)", k, a[k], v, a)
		}
	}
	for _, k := range []string{"connected_at", "paired_at", "upstream_ready_at", "closed_at", "duration_ms", "decode_time_ms", "encode_time_ms"} {
		if _, ok := a[k]; !ok {
			t.Errorf("audit lacks %s: %v", k, a)
		}
	}
	if closed["client_addr"] != "127.0.0.1" {
		t.Errorf("client_addr = %v", closed["client_addr"])
	}
}

// TestMetricsAfterTraffic scrapes /metrics after known traffic.
func TestMetricsAfterTraffic(t *testing.T) {
	echo := testupstream.NewEcho(t)
	p := start(t, echoDomainMap(echo.URL), "LOG_LEVEL=warn")
	const conns, msgs = 3, 5
	for range conns {
		c := dial(t, p, "/m")
		for i := range msgs {
			roundTrip(t, c, mte.TypeText, fmt.Sprintf("message %02d", i)) // 10 bytes
		}
		_ = c.Close(1000, "")
	}
	// One rejection: unknown route is impossible with "*", so a bad upgrade.
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(p.Port) + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	// Closes are reported by the loops asynchronously; on a timeout the
	// checks below say which series is off.
	var text string
	testwait.Until(10*time.Second, func() bool {
		text = scrapeOK(p)
		return strings.Contains(text, "socketx_connections_active 0\n") && strings.Contains(text, "socketx_connections_open 0\n")
	})
	// Every accepted connection is in one outcome: the relayed clients, and
	// plain HTTP (the /nope above and the start-up's /health polls).
	outcomes := map[string]float64{}
	var sum float64
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, `socketx_connections_closed_total{outcome="`); ok {
			name, value, _ := strings.Cut(rest, `"} `)
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatal(err)
			}
			outcomes[name] = v
			sum += v
		}
	}
	if accepted := metric(t, text, "socketx_connections_accepted_total"); accepted != sum || outcomes["relayed"] != conns ||
		outcomes["http"] < 2 || sum != conns+outcomes["http"] {
		t.Errorf("accepted %v, Σ outcomes %v: %v", accepted, sum, outcomes)
	}
	checks := map[string]float64{
		`socketx_mte_operations_total{operation="decode"}`:                          conns * msgs,
		`socketx_mte_operations_total{operation="encode"}`:                          conns * msgs,
		`socketx_bytes_total{direction="client_to_upstream"}`:                       conns * msgs * 10,
		`socketx_bytes_total{direction="upstream_to_client"}`:                       conns * msgs * 10,
		`socketx_pairings_total`:                                                    conns,
		`socketx_upgrades_total`:                                                    conns,
		`socketx_connections_active`:                                                0,
		`socketx_upstream_dials_total`:                                              conns,
		`socketx_close_codes_total{code="1000"}`:                                    conns,
		`socketx_payload_size_bytes_count{direction="client_to_upstream"}`:          conns * msgs,
		`socketx_payload_size_bytes_bucket{direction="client_to_upstream",le="64"}`: conns * msgs,
		`socketx_pairing_duration_seconds_count`:                                    conns,
		`socketx_session_duration_seconds_count`:                                    conns,
		`socketx_mte_duration_seconds_count{operation="decode"}`:                    conns * msgs,
		`socketx_rejections_total{reason="origin"}`:                                 0,
	}
	for series, want := range checks {
		if got := metric(t, text, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if !strings.Contains(text, `socketx_build_info{mte_kyber_strength="512",mte_version="socketx-mte-v1",version="dev"} 1`) {
		t.Errorf("build info missing")
	}
}

func scrapeOK(p *proc) string { return p.scrape() }

// TestDrainSendsGoingAwayAndExits: SIGTERM closes every client with 1001
// within DRAIN_TIMEOUT and the process exits 0.
func TestDrainSendsGoingAwayAndExits(t *testing.T) {
	echo := testupstream.NewEcho(t)
	p := start(t, echoDomainMap(echo.URL), "LOG_LEVEL=info", "DRAIN_TIMEOUT=2s")
	const n = 20
	conns := make([]*client.Conn, n)
	for i := range conns {
		conns[i] = dial(t, p, "/d")
	}
	start := time.Now()
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Readiness fails at once while draining.
	p.waitLog("Draining", nil)
	resp, err := http.Get("http://" + p.Admin + "/ready")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("/ready during drain = %d, want 503", resp.StatusCode)
	}
	if got := metric(t, p.scrape(), "socketx_draining"); got != 1 {
		t.Errorf("socketx_draining = %v during the drain, want 1", got)
	}
	expectGoingAway(t, conns)
	select {
	case err := <-p.Exit:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("process did not exit")
	}
	stopped := p.waitLog("Stopped", func(l map[string]any) bool { return l["forced"] == false })
	if d, _ := stopped["drain_seconds"].(float64); d <= 0 || d > 2 {
		t.Errorf("drain took %vs with DRAIN_TIMEOUT=2s", stopped["drain_seconds"])
	}
	t.Logf("drain of %d clients took %.2fs (process exit observed after %v)", n, stopped["drain_seconds"], time.Since(start))
}

// TestDomainMapFileReload: a changed file applies to new connections; an
// invalid one is rejected with a log line and the old map stays.
func TestDomainMapFileReload(t *testing.T) {
	echoA := testupstream.NewEcho(t)
	echoB := testupstream.NewEcho(t)
	file := filepath.Join(t.TempDir(), "map.json")
	write := func(s string) {
		if err := os.WriteFile(file+".tmp", []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(file+".tmp", file); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"*":{"upstream":"` + echoA.URL + `","allowedOrigins":["*"]}}`)
	p := start(t, "DOMAIN_MAP_FILE="+file, "LOG_LEVEL=info")
	// reloads counts success and failure; the timestamp is when the routes
	// in use were loaded.
	reloads := func(success, failure float64) float64 {
		t.Helper()
		text := p.scrape()
		for series, want := range map[string]float64{
			`socketx_domain_map_reloads_total{result="success"}`: success,
			`socketx_domain_map_reloads_total{result="failure"}`: failure,
			`socketx_domain_map_routes`:                          1,
			`socketx_draining`:                                   0,
		} {
			if got := metric(t, text, series); got != want {
				t.Errorf("%s = %v, want %v", series, got, want)
			}
		}
		return metric(t, text, "socketx_domain_map_last_reload_success_timestamp_seconds")
	}
	started := reloads(0, 0)
	if now := float64(time.Now().Unix()); started < now-60 || started > now+1 {
		t.Errorf("last reload success at %v, want about now (%v)", started, now)
	}
	a := dial(t, p, "/a")
	roundTrip(t, a, mte.TypeText, "to A")

	write(`{"*":{"upstream":"` + echoB.URL + `","allowedOrigins":["*"]}}`)
	_ = p.Cmd.Process.Signal(syscall.SIGHUP)
	p.waitLog("DOMAIN_MAP reloaded", nil)
	reloaded := reloads(1, 0)
	if reloaded <= started {
		t.Errorf("last reload success %v, not after start-up's %v", reloaded, started)
	}
	b := dial(t, p, "/b")
	roundTrip(t, b, mte.TypeText, "to B")
	roundTrip(t, a, mte.TypeText, "still A") // existing connection kept its upstream
	if len(echoB.Requests()) != 1 || echoB.Requests()[0].Path != "/b" || len(echoA.Requests()) != 1 {
		t.Fatalf("A saw %d, B saw %d upgrades", len(echoA.Requests()), len(echoB.Requests()))
	}

	write(`{"*":{"upstream":"http://nope","allowedOrigins":["*"]}}`)
	_ = p.Cmd.Process.Signal(syscall.SIGHUP)
	p.waitLog("DOMAIN_MAP_FILE invalid; keeping the current routes", nil)
	if got := reloads(1, 1); got != reloaded {
		t.Errorf("last reload success moved to %v on a failure (was %v)", got, reloaded)
	}
	c := dial(t, p, "/c")
	roundTrip(t, c, mte.TypeText, "B again")
	if len(echoB.Requests()) != 2 {
		t.Fatalf("B saw %d upgrades after the invalid reload", len(echoB.Requests()))
	}
}

func TestHealthcheckCommand(t *testing.T) {
	echo := testupstream.NewEcho(t)
	p := start(t, echoDomainMap(echo.URL), "LOG_LEVEL=warn")
	cmd := exec.Command(binary, "healthcheck")
	cmd.Env = []string{"LISTEN_PORT=" + strconv.Itoa(p.Port)}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("healthcheck: %v %s", err, out)
	}
	cmd = exec.Command(binary, "healthcheck")
	cmd.Env = []string{"LISTEN_PORT=" + strconv.Itoa(proctest.FreePort(t))}
	if err := cmd.Run(); cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("healthcheck against nothing: %v", err)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// fakeAWS speaks the AWS JSON 1.1 protocol of AWSMPMeteringService.
type fakeAWS struct {
	mu      sync.Mutex
	records []map[string]any // MeterUsage bodies
	refuse  string           // RegisterUsage error __type, if set
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req map[string]any
	_ = json.Unmarshal(body, &req)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch r.Header.Get("X-Amz-Target") {
	case "AWSMPMeteringService.RegisterUsage":
		if f.refuse != "" {
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"__type":%q,"message":"not subscribed"}`, f.refuse)
			return
		}
		fmt.Fprint(w, `{"Signature":"sig"}`)
	case "AWSMPMeteringService.MeterUsage":
		f.mu.Lock()
		f.records = append(f.records, req)
		n := len(f.records)
		f.mu.Unlock()
		fmt.Fprintf(w, `{"MeteringRecordId":"rec-%d"}`, n)
	default:
		w.WriteHeader(400)
		fmt.Fprint(w, `{"__type":"UnknownOperationException"}`)
	}
}

func awsEnv(endpoint string) []string {
	return []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL_MARKETPLACE_METERING=" + endpoint,
		"BILLING_PROVIDER=aws", "BILLING_PRODUCT=socketx", "AWS_MARKETPLACE_PRODUCT_CODE=prod-123"}
}

// TestMeteringCountsExactlyRelayedMessages: N messages each way through a
// real relay give records of exactly N encoded and N decoded messages;
// pairing and upstream handshakes are not counted.
func TestMeteringCountsExactlyRelayedMessages(t *testing.T) {
	aws := &fakeAWS{}
	srv := httptestServer(t, aws)
	echo := testupstream.NewEcho(t)
	env := append(awsEnv(srv), echoDomainMap(echo.URL), "LOG_LEVEL=info", "BILLING_STRATEGY=request_based", "DRAIN_TIMEOUT=1s")
	p := start(t, env...)
	const n = 37
	for range 2 { // two connections: pairings happen twice, and are not billed
		c := dial(t, p, "/bill")
		for i := range n {
			roundTrip(t, c, mte.TypeBinary, fmt.Sprintf("%d", i))
		}
		_ = c.Close(1000, "")
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.Exit:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit")
	}
	aws.mu.Lock()
	defer aws.mu.Unlock()
	got := map[string]float64{}
	for _, r := range aws.records {
		if r["ProductCode"] != "prod-123" {
			t.Errorf("record product code %v", r["ProductCode"])
		}
		got[r["UsageDimension"].(string)] += r["UsageQuantity"].(float64)
	}
	if len(aws.records) != 2 || got["encoded_messages"] != 2*n || got["decoded_messages"] != 2*n {
		t.Fatalf("records %v: got %v, want %d encoded and %d decoded in one record each", aws.records, got, 2*n, 2*n)
	}
}

func TestNotEntitledExitsThreeBeforeListening(t *testing.T) {
	aws := &fakeAWS{refuse: "CustomerNotEntitledException"}
	srv := httptestServer(t, aws)
	port := proctest.FreePort(t)
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(awsEnv(srv), `DOMAIN_MAP={"*":{"upstream":"ws://127.0.0.1:1","allowedOrigins":["*"]}}`,
		"BILLING_STRATEGY=register_usage", "LOG_LEVEL=disabled", "LISTEN_HOST=127.0.0.1", "LISTEN_PORT="+strconv.Itoa(port), "ADMIN_LISTEN=off")
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 3 {
		t.Fatalf("exit code %d, output %s", cmd.ProcessState.ExitCode(), out)
	}
	if !strings.HasPrefix(string(out), "metering: aws RegisterUsage: CustomerNotEntitledException:") || strings.Count(string(out), "\n") != 1 {
		t.Fatalf("output %q", out)
	}
}

func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &http.Server{Handler: h}
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { s.Close() })
	return "http://" + ln.Addr().String()
}

// TestXWingStart: MTE_KEY_EXCHANGE=xwing starts, logs the exchange as a
// post-quantum hybrid, and an X-Wing client pairs and echoes.
func TestXWingStart(t *testing.T) {
	echo := testupstream.NewEcho(t)
	p := start(t, echoDomainMap(echo.URL), "MTE_KEY_EXCHANGE=xwing")
	cfg, _ := p.waitLog("Starting server", nil)["config"].(map[string]any)
	if cfg["mte_key_exchange"] != "xwing" || cfg["mte_kyber_strength"] != "768" {
		t.Errorf("config: %v", cfg)
	}
	p.waitLog("key exchange is X-Wing, a post-quantum hybrid: ML-KEM-768 + X25519, secure while either half is", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, p.URL("/"), client.Options{KeyExchange: client.XWing})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close(1000, "") }()
	roundTrip(t, c, mte.TypeText, "hybrid")
}
