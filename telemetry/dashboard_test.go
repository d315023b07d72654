package telemetry

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/socketx/socketx-server/engine"
	"github.com/socketx/socketx-server/metering"
	"github.com/socketx/socketx-server/upstream"
)

// TestGrafanaDashboardMetricsExist: every socketx_ metric the shipped
// Grafana dashboard queries is one the proxy exports (a histogram's
// _bucket, _sum and _count included).
func TestGrafanaDashboardMetricsExist(t *testing.T) {
	dash, err := os.ReadFile("../deploy/grafana/socketx.json")
	if err != nil {
		t.Fatal(err)
	}
	reg := NewRegistry(Sources{
		Engine:   func() engine.Metrics { return sampleMetrics(1, 1) },
		Upstream: func() upstream.Stats { return upstream.Stats{DialsFailed: map[string]uint64{"refused": 1}} },
		Meter:    func() metering.Stats { return metering.Stats{Provider: "aws"} },
		Reloads:  func() ReloadStats { return ReloadStats{} },
	}, BuildInfo{Version: "v1"})
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, f := range families {
		exported[f.GetName()] = true
	}
	used := regexp.MustCompile(`socketx_[a-z_]+`).FindAllString(string(dash), -1)
	if len(used) < 20 {
		t.Fatalf("the dashboard queries only %d socketx_ series", len(used))
	}
	for _, name := range used {
		base := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(name, suffix); ok && exported[b] {
				base = b
			}
		}
		if !exported[base] {
			t.Errorf("the dashboard queries %s, which the proxy does not export", name)
		}
	}
}
