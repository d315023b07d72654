package telemetry

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/socketx/socketx-server/engine"
)

// EMF writes one CloudWatch Embedded Metric Format line per interval with
// the interval's deltas, so ECS users get metrics from the awslogs driver
// without Prometheus. Lines go to w (stdout in production).
type EMF struct {
	W         io.Writer
	Interval  time.Duration
	Namespace string
	Service   string
	Source    func() engine.Metrics
	Now       func() time.Time

	prev engine.Metrics
}

// emfMetrics are the metrics in every line, in order.
var emfMetrics = []struct{ name, unit string }{
	{"ActiveConnections", "Count"},
	{"NewConnections", "Count"},
	{"Rejections", "Count"},
	{"Pairings", "Count"},
	{"DecodedMessages", "Count"},
	{"EncodedMessages", "Count"},
	{"BytesClientToUpstream", "Bytes"},
	{"BytesUpstreamToClient", "Bytes"},
	{"AvgDecodeMicroseconds", "Microseconds"},
	{"AvgEncodeMicroseconds", "Microseconds"},
	{"AvgSessionSeconds", "Seconds"},
}

// Run writes a line every Interval until ctx ends, then one last line.
func (e *EMF) Run(ctx context.Context) {
	if e.Now == nil {
		e.Now = time.Now
	}
	e.prev = e.Source()
	t := time.NewTicker(e.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = e.Write()
			return
		case <-t.C:
			_ = e.Write()
		}
	}
}

// Write emits one line with the deltas since the previous call.
func (e *EMF) Write() error {
	cur := e.Source()
	p := e.prev
	e.prev = cur
	rejected := func(m engine.Metrics) (n uint64) {
		for _, v := range m.Rejected {
			n += v
		}
		return n
	}
	avg := func(total, count uint64, div float64) float64 {
		if count == 0 {
			return 0
		}
		return float64(total) / float64(count) / div
	}
	values := []float64{
		float64(cur.ActiveWebSockets),
		float64(cur.ConnectionsOpened - p.ConnectionsOpened),
		float64(rejected(cur) - rejected(p)),
		float64(cur.Paired - p.Paired),
		float64(cur.Decoded - p.Decoded),
		float64(cur.Encoded - p.Encoded),
		float64(cur.DecodedBytes - p.DecodedBytes),
		float64(cur.EncodedBytes - p.EncodedBytes),
		avg(cur.DecodeNanos-p.DecodeNanos, cur.Decoded-p.Decoded, 1e3),
		avg(cur.EncodeNanos-p.EncodeNanos, cur.Encoded-p.Encoded, 1e3),
		avg(cur.Session.Sum-p.Session.Sum, count(cur.Session)-count(p.Session), 1e9),
	}
	defs := make([]map[string]string, len(emfMetrics))
	line := map[string]any{"Service": e.Service}
	for i, m := range emfMetrics {
		defs[i] = map[string]string{"Name": m.name, "Unit": m.unit}
		line[m.name] = values[i]
	}
	line["_aws"] = map[string]any{
		"Timestamp": e.Now().UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  e.Namespace,
			"Dimensions": [][]string{{"Service"}},
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return err
	}
	_, err = e.W.Write(append(b, '\n'))
	return err
}

func count(h engine.HistogramSnapshot) (n uint64) {
	for _, c := range h.Counts {
		n += c
	}
	return n
}
