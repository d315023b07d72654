package telemetry

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/socketx/socketx-server/engine"
	"github.com/socketx/socketx-server/metering"
	"github.com/socketx/socketx-server/upstream"
)

func sampleMetrics(decoded, encoded uint64) engine.Metrics {
	h := func(counts ...uint64) engine.HistogramSnapshot {
		return engine.HistogramSnapshot{Bounds: []uint64{1000, 1e6}, Counts: counts, Sum: 1500}
	}
	return engine.Metrics{
		StatsSnapshot: engine.StatsSnapshot{ConnectionsOpened: 7, Upgrades: 5, Paired: 4, UpstreamsReady: 4,
			Decoded: decoded, Encoded: encoded, DecodedBytes: 100, EncodedBytes: 200, ActiveWebSockets: 2, Active: 3,
			MemoryHeld: 4096},
		PayloadUp: h(1, 1, 0), PayloadDown: h(2, 0, 0), Decode: h(1, 0, 0), Encode: h(0, 1, 0),
		Pairing: h(4, 0, 0), Dial: h(4, 0, 0), Session: h(1, 1, 1),
		Rejected:   map[string]uint64{"origin": 1, "unknown_host": 0, "unknown_server_key": 2, "malformed_server_auth": 1},
		CloseCodes: map[string]uint64{"1000": 2, "1001": 1},
		HighWater:  1, PairedAuthenticated: 3, DecodeNanos: 3e9, EncodeNanos: 1e9,
		Shed:     map[string]uint64{"memory": 3},
		Accepted: 15,
		Outcomes: map[string]uint64{"relayed": 4, "rejected_origin": 1, "shed_descriptors": 3, "closed_during_pairing": 0},
		Draining: true, Routes: 2,
		Descriptors: engine.DescriptorStats{InUse: 12, Budget: 1000, Refused: 3, Evicted: 4, AcceptErrors: 6, AcceptDropped: 5},
	}
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics = %d", rec.Code)
	}
	return rec.Body.String()
}

func TestCollectorExposition(t *testing.T) {
	reg := NewRegistry(Sources{
		Engine: func() engine.Metrics { return sampleMetrics(10, 12) },
		Upstream: func() upstream.Stats {
			return upstream.Stats{DialsOK: 4, DialsFailed: map[string]uint64{"refused": 2, "tls": 0}, BridgesOpen: 1}
		},
		Meter: func() metering.Stats {
			return metering.Stats{Provider: "aws", Accepted: 3, Duplicate: 1, UnreportedEncoded: 5}
		},
		Reloads: func() ReloadStats {
			return ReloadStats{Succeeded: 2, Failed: 1, LastSuccess: time.Unix(1700000000, 500e6)}
		},
	}, BuildInfo{Version: "v1", MTEVersion: "socketx-mte-v1", KyberStrength: 768})
	text := scrape(t, AdminHandler(reg, func() bool { return true }))
	want := []string{
		`socketx_build_info{mte_kyber_strength="768",mte_version="socketx-mte-v1",version="v1"} 1`,
		`socketx_connections_active 2`,
		`socketx_connections_open 3`,
		`socketx_connections_accepted_total 15`,
		`socketx_upgrades_total 5`,
		`socketx_connections_closed_total{outcome="relayed"} 4`,
		`socketx_connections_closed_total{outcome="rejected_origin"} 1`,
		`socketx_connections_closed_total{outcome="shed_descriptors"} 3`,
		`socketx_connections_closed_total{outcome="closed_during_pairing"} 0`,
		`socketx_draining 1`,
		`socketx_domain_map_routes 2`,
		`socketx_domain_map_reloads_total{result="success"} 2`,
		`socketx_domain_map_reloads_total{result="failure"} 1`,
		`socketx_domain_map_last_reload_success_timestamp_seconds 1.7000000005e+09`,
		`socketx_rejections_total{reason="origin"} 1`,
		`socketx_rejections_total{reason="unknown_host"} 0`,
		`socketx_rejections_total{reason="unknown_server_key"} 2`,
		`socketx_rejections_total{reason="malformed_server_auth"} 1`,
		`socketx_pairings_total 4`,
		`socketx_pairings_authenticated_total 3`,
		`socketx_mte_operations_total{operation="decode"} 10`,
		`socketx_mte_operations_total{operation="encode"} 12`,
		`socketx_bytes_total{direction="client_to_upstream"} 100`,
		`socketx_close_codes_total{code="1000"} 2`,
		`socketx_queue_high_water_total 1`,
		`socketx_connections_shed_total{reason="memory"} 3`,
		`socketx_memory_budget_used_bytes 4096`,
		`socketx_connections_shed_total{reason="descriptors"} 3`,
		`socketx_connections_shed_total{reason="pending_evicted"} 4`,
		`socketx_connections_shed_total{reason="accept_error"} 5`,
		`socketx_accept_errors_total 6`,
		`socketx_descriptors_in_use 12`,
		`socketx_descriptor_budget 1000`,
		`socketx_payload_size_bytes_bucket{direction="client_to_upstream",le="1000"} 1`,
		`socketx_payload_size_bytes_bucket{direction="client_to_upstream",le="1e+06"} 2`,
		`socketx_payload_size_bytes_bucket{direction="client_to_upstream",le="+Inf"} 2`,
		`socketx_session_duration_seconds_bucket{le="1e-06"} 1`,
		`socketx_session_duration_seconds_count 3`,
		`socketx_upstream_dials_total 4`,
		`socketx_upstream_dial_errors_total{reason="refused"} 2`,
		`socketx_upstream_tls_bridges_open 1`,
		`socketx_metering_reports_total{provider="aws",result="accepted"} 3`,
		`socketx_metering_reports_total{provider="aws",result="duplicate"} 1`,
		`socketx_metering_unreported_messages{direction="encoded"} 5`,
	}
	if testing.Verbose() {
		t.Log(text)
	}
	for _, line := range want {
		if !strings.Contains(text, "\n"+line+"\n") {
			t.Errorf("missing %s", line)
		}
	}
	// Gone: the relay time is socketx_mte_duration_seconds_sum; setup
	// results are socketx_connections_closed_total.
	for _, name := range []string{"socketx_mte_seconds_total", "socketx_connections_total"} {
		if strings.Contains(text, name) {
			t.Errorf("%s is exported", name)
		}
	}
}

func TestAdminHealthReadyPprof(t *testing.T) {
	ready := true
	h := AdminHandler(NewRegistry(Sources{}, BuildInfo{}), func() bool { return ready })
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		b, _ := io.ReadAll(rec.Body)
		return rec.Code, string(b)
	}
	if code, body := get("/health"); code != 200 || body != `{"status":"ok"}` {
		t.Fatalf("/health = %d %q", code, body)
	}
	if code, body := get("/ready"); code != 200 || body != `{"status":"ready"}` {
		t.Fatalf("/ready = %d %q", code, body)
	}
	ready = false
	if code, body := get("/ready"); code != 503 || body != `{"status":"draining"}` {
		t.Fatalf("/ready while draining = %d %q", code, body)
	}
	if code, body := get("/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Fatalf("/debug/pprof/ = %d", code)
	}
}

func TestEMFLine(t *testing.T) {
	var buf bytes.Buffer
	cur := sampleMetrics(10, 12)
	e := &EMF{W: &buf, Namespace: "SocketX", Service: "socketx", Now: func() time.Time { return time.UnixMilli(1700000000000) },
		Source: func() engine.Metrics { return cur }}
	e.prev = sampleMetrics(4, 6)
	if err := e.Write(); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	if line["DecodedMessages"] != 6.0 || line["EncodedMessages"] != 6.0 || line["ActiveConnections"] != 2.0 || line["Service"] != "socketx" {
		t.Fatalf("line: %s", buf.Bytes())
	}
	aws := line["_aws"].(map[string]any)
	if aws["Timestamp"] != 1700000000000.0 {
		t.Fatalf("timestamp: %v", aws["Timestamp"])
	}
	cw := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if cw["Namespace"] != "SocketX" || len(cw["Metrics"].([]any)) != len(emfMetrics) {
		t.Fatalf("directive: %v", cw)
	}
	if !bytes.HasSuffix(buf.Bytes(), []byte("}\n")) || bytes.Count(buf.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("not one line: %q", buf.Bytes())
	}
}

// TestEMFFailureAndBudgetMetrics: the failure, shed, accept-error and
// close-class counters are deltas; memory and descriptors are gauges.
func TestEMFFailureAndBudgetMetrics(t *testing.T) {
	prev := sampleMetrics(4, 6)
	cur := sampleMetrics(10, 12)
	cur.Rejected = map[string]uint64{"origin": 9, "pairing": 3, "pairing_timeout": 2, "unknown_server_key": 4, "malformed_server_auth": 1, "upstream": 4, "upstream_timeout": 1, "draining": 7}
	cur.Shed = map[string]uint64{"memory": 5}                // +2
	cur.Descriptors.Refused, cur.Descriptors.Evicted = 10, 4 // +7, +0
	cur.Descriptors.AcceptErrors = 9                         // +3
	cur.Descriptors.InUse = 77
	cur.Accepted = prev.Accepted + 5
	cur.MemoryHeld = 1 << 20
	cur.CloseCodes = map[string]uint64{"1000": 9, "1001": 6, "1002": 1, "1008": 2, "1011": 3, "1013": 1, "none": 4, "4xxx": 8}
	var buf bytes.Buffer
	e := &EMF{W: &buf, Namespace: "SocketX", Service: "socketx", Now: time.Now, Source: func() engine.Metrics { return cur }, prev: prev}
	if err := e.Write(); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"NewConnections":   5,
		"Rejections":       31 - 4,
		"PairingFailures":  5 + (4 + 1) - (2 + 1),
		"UpstreamFailures": 5,
		"ShedConnections":  2 + 7,
		"AcceptErrors":     3,
		"GoingAwayCloses":  5,
		"ErrorCloses":      7,
		"AbnormalCloses":   4,
		"MemoryHeldBytes":  1 << 20,
		"DescriptorsInUse": 77,
	}
	for name, v := range want {
		if line[name] != v {
			t.Errorf("%s = %v, want %v", name, line[name], v)
		}
	}
	// Every metric of the directive has a value in the line, and none twice.
	defs := line["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Metrics"].([]any)
	seen := map[string]bool{}
	for _, d := range defs {
		name := d.(map[string]any)["Name"].(string)
		if _, ok := line[name].(float64); !ok || seen[name] {
			t.Errorf("metric %s: value %v, seen before %v", name, line[name], seen[name])
		}
		seen[name] = true
	}
	if len(defs) != 20 || len(defs) > 100 { // 100: CloudWatch's limit per directive
		t.Errorf("%d metrics in the directive", len(defs))
	}

	// A counter that went backwards reports no increase.
	e.prev, cur = cur, prev
	buf.Reset()
	if err := e.Write(); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line["AcceptErrors"] != 0.0 || line["NewConnections"] != 0.0 {
		t.Errorf("after a reset: %v %v", line, err)
	}
}

// TestDashboardUsesExportedMetrics keeps deploy/grafana/socketx.json true
// to what /metrics serves.
func TestDashboardUsesExportedMetrics(t *testing.T) {
	data, err := os.ReadFile("../deploy/grafana/socketx.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash map[string]any
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	exported := map[string]bool{}
	for _, d := range allDescs {
		name := regexp.MustCompile(`fqName: "([a-z_]+)"`).FindStringSubmatch(d.String())[1]
		exported[name] = true
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			exported[name+suffix] = true
		}
	}
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`socketx_[a-z_]+`).FindAllString(string(data), -1) {
		used[m] = true
	}
	var missing []string
	for m := range used {
		if !exported[m] {
			missing = append(missing, m)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 || len(used) < 15 {
		t.Fatalf("dashboard queries %d socketx metrics; not exported: %v", len(used), missing)
	}
}
