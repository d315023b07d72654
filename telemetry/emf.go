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

// emfMetric is one metric of every line: a gauge read from the current
// snapshot or a counter's delta since the previous line.
type emfMetric struct {
	name, unit string
	value      func(cur, prev *engine.Metrics) float64
}

// emfMetrics are the metrics in every line, in order. deploy/aws's
// CloudWatch dashboard and alarms name them (deploy/cfn_test.go checks it).
var emfMetrics = []emfMetric{
	{"ActiveConnections", "Count", func(c, _ *engine.Metrics) float64 { return float64(c.ActiveWebSockets) }},
	{"NewConnections", "Count", func(c, p *engine.Metrics) float64 { return delta(c.Accepted, p.Accepted) }}, // socketx_connections_accepted_total
	{"Rejections", "Count", func(c, p *engine.Metrics) float64 { return delta(sum(c.Rejected), sum(p.Rejected)) }},
	{"Pairings", "Count", func(c, p *engine.Metrics) float64 { return delta(c.Paired, p.Paired) }},
	{"DecodedMessages", "Count", func(c, p *engine.Metrics) float64 { return delta(c.Decoded, p.Decoded) }},
	{"EncodedMessages", "Count", func(c, p *engine.Metrics) float64 { return delta(c.Encoded, p.Encoded) }},
	{"BytesClientToUpstream", "Bytes", func(c, p *engine.Metrics) float64 { return delta(c.DecodedBytes, p.DecodedBytes) }},
	{"BytesUpstreamToClient", "Bytes", func(c, p *engine.Metrics) float64 { return delta(c.EncodedBytes, p.EncodedBytes) }},
	{"AvgDecodeMicroseconds", "Microseconds", func(c, p *engine.Metrics) float64 {
		return avg(c.DecodeNanos-p.DecodeNanos, c.Decoded-p.Decoded, 1e3)
	}},
	{"AvgEncodeMicroseconds", "Microseconds", func(c, p *engine.Metrics) float64 {
		return avg(c.EncodeNanos-p.EncodeNanos, c.Encoded-p.Encoded, 1e3)
	}},
	{"AvgSessionSeconds", "Seconds", func(c, p *engine.Metrics) float64 {
		return avg(c.Session.Sum-p.Session.Sum, count(c.Session)-count(p.Session), 1e9)
	}},
	// Failures, each a subset of Rejections.
	{"PairingFailures", "Count", func(c, p *engine.Metrics) float64 {
		return delta(pick(c.Rejected, pairingFailures...), pick(p.Rejected, pairingFailures...))
	}},
	{"UpstreamFailures", "Count", func(c, p *engine.Metrics) float64 {
		return delta(pick(c.Rejected, "upstream", "upstream_timeout"), pick(p.Rejected, "upstream", "upstream_timeout"))
	}},
	// Connections closed to stay within the memory or descriptor budget.
	{"ShedConnections", "Count", func(c, p *engine.Metrics) float64 { return delta(shed(c), shed(p)) }},
	{"AcceptErrors", "Count", func(c, p *engine.Metrics) float64 {
		return delta(c.Descriptors.AcceptErrors, p.Descriptors.AcceptErrors)
	}},
	// WebSocket closes by class: 1001 (drains, pong timeouts, clients
	// leaving), errors (protocol, policy, size, internal, overload) and
	// abnormal (the TCP connection ended without a close frame).
	{"GoingAwayCloses", "Count", func(c, p *engine.Metrics) float64 {
		return delta(pick(c.CloseCodes, "1001"), pick(p.CloseCodes, "1001"))
	}},
	{"ErrorCloses", "Count", func(c, p *engine.Metrics) float64 {
		return delta(pick(c.CloseCodes, errorCloseCodes...), pick(p.CloseCodes, errorCloseCodes...))
	}},
	{"AbnormalCloses", "Count", func(c, p *engine.Metrics) float64 {
		return delta(pick(c.CloseCodes, "none", "1006"), pick(p.CloseCodes, "none", "1006"))
	}},
	{"MemoryHeldBytes", "Bytes", func(c, _ *engine.Metrics) float64 { return float64(max(c.MemoryHeld, 0)) }},
	{"DescriptorsInUse", "Count", func(c, _ *engine.Metrics) float64 { return float64(max(c.Descriptors.InUse, 0)) }},
}

// errorCloseCodes are the close codes (engine.Metrics.CloseCodes labels)
// that report a failure: protocol, data, policy and size errors, internal
// errors and overload.
var errorCloseCodes = []string{"1002", "1003", "1007", "1008", "1009", "1010", "1011", "1013", "1014", "1015"}

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
	defs := make([]map[string]string, len(emfMetrics))
	line := map[string]any{"Service": e.Service}
	for i, m := range emfMetrics {
		defs[i] = map[string]string{"Name": m.name, "Unit": m.unit}
		line[m.name] = m.value(&cur, &p)
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

// delta is a counter's increase; a counter that went backwards (it cannot,
// short of a bug) counts as no increase rather than a huge one.
func delta(cur, prev uint64) float64 {
	if cur < prev {
		return 0
	}
	return float64(cur - prev)
}

func avg(total, count uint64, div float64) float64 {
	if count == 0 {
		return 0
	}
	return float64(total) / float64(count) / div
}

func sum(m map[string]uint64) (n uint64) {
	for _, v := range m {
		n += v
	}
	return n
}

// pairingFailures are the rejection reasons of a failed pairing: a bad or
// out-of-order handshake, a timeout, and the server-authentication
// refusals (an unknown serverKeyId, malformed serverKeyId/serverSecret).
var pairingFailures = []string{"pairing", "pairing_timeout", "unknown_server_key", "malformed_server_auth"}

// pick sums the named entries of m.
func pick(m map[string]uint64, keys ...string) (n uint64) {
	for _, k := range keys {
		n += m[k]
	}
	return n
}

// shed counts connections closed to stay within a budget: the memory
// budget's sheds and the descriptor budget's refusals and evictions.
func shed(m *engine.Metrics) uint64 {
	return sum(m.Shed) + m.Descriptors.Refused + m.Descriptors.Evicted
}

func count(h engine.HistogramSnapshot) (n uint64) {
	for _, c := range h.Counts {
		n += c
	}
	return n
}
