package loadgen

import (
	"fmt"
	"io"
	"time"

	"github.com/socketx/socketx-server/mte"
)

// Result is the outcome of a run (merged over workers). Durations are in
// microseconds, rates per second; JSON field names are stable for scripts.
type Result struct {
	Target   string `json:"target"`
	Mode     string `json:"mode"`     // "socketx" or "plain"
	Scenario string `json:"scenario"` // "echo" or "hold"
	Conns    int    `json:"conns"`
	Workers  int    `json:"workers"`
	Size     int    `json:"size"`
	Inflight int    `json:"inflight"`
	Text     bool   `json:"text"`
	Strength int    `json:"strength"` // Config.Strength; X-Wing is int(mte.StrengthXWing)
	// ServerKeyID is the key ID of the pinned server key (-server-key),
	// empty without server authentication.
	ServerKeyID string `json:"server_key_id,omitempty"`
	// KeyPool is Config.KeyPool: the SocketX connections paired with this
	// many pre-generated client key pairs per worker (0: fresh pairs).
	KeyPool int `json:"key_pool,omitempty"`

	Established int64   `json:"established"`
	Failed      int64   `json:"failed"`
	SetupSecs   float64 `json:"setup_secs"` // start → last successful setup
	SetupRate   float64 `json:"setup_rate"` // established / SetupSecs
	SetupP50    float64 `json:"setup_p50_us"`
	SetupP99    float64 `json:"setup_p99_us"`
	SetupP999   float64 `json:"setup_p999_us"`
	SetupMax    float64 `json:"setup_max_us"`

	WindowSecs  float64 `json:"window_secs"`  // all connected → stop
	WindowMsgs  uint64  `json:"window_msgs"`  // echoes received in the window
	WindowBytes uint64  `json:"window_bytes"` // their payload bytes
	Msgs        uint64  `json:"msgs"`         // echoes received in the whole run
	MsgsPerSec  float64 `json:"msgs_per_sec"` // WindowMsgs / WindowSecs
	MBPerSec    float64 `json:"mb_per_sec"`   // payload MB (10^6) per second, one direction
	RTTP50      float64 `json:"rtt_p50_us"`
	RTTP99      float64 `json:"rtt_p99_us"`
	RTTP999     float64 `json:"rtt_p999_us"`
	RTTMax      float64 `json:"rtt_max_us"`

	Errors map[string]uint64 `json:"errors"`

	SetupHist *Hist `json:"setup_hist"`
	RTTHist   *Hist `json:"rtt_hist"`
}

func (r *runner) result(window time.Duration, msgs, bytes uint64) *Result {
	res := &Result{
		Target: r.cfg.URL, Mode: "socketx", Scenario: "echo", Conns: r.cfg.Conns, Workers: 1,
		Size: r.cfg.Size, Inflight: r.cfg.Inflight, Text: r.cfg.Text, Strength: r.cfg.Strength, KeyPool: r.cfg.KeyPool,
		Established: r.established.Load(), Failed: r.failed.Load(),
		SetupSecs:  time.Duration(r.lastSetup.Load()).Seconds(),
		WindowSecs: window.Seconds(), WindowMsgs: msgs, WindowBytes: bytes, Msgs: r.msgs.Load(),
		Errors: map[string]uint64{}, SetupHist: &r.setup, RTTHist: &r.rtt,
	}
	if k, err := mte.ParseServerPublicKey(r.cfg.ServerKey); err == nil && r.cfg.ServerKey != "" {
		res.ServerKeyID = k.ID().String()
	}
	if r.cfg.Plain {
		res.Mode, res.Strength = "plain", 0
	}
	if r.cfg.Hold {
		res.Scenario, res.Inflight, res.Size = "hold", 0, 0
	}
	for k := range r.errs {
		if n := r.errs[k].Load(); n > 0 {
			res.Errors[Kind(k).String()] = n
		}
	}
	res.derive()
	return res
}

// derive recomputes the rates and percentiles from the raw fields.
func (res *Result) derive() {
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	if res.SetupSecs > 0 {
		res.SetupRate = float64(res.Established) / res.SetupSecs
	}
	if res.WindowSecs > 0 {
		res.MsgsPerSec = float64(res.WindowMsgs) / res.WindowSecs
		res.MBPerSec = float64(res.WindowBytes) / res.WindowSecs / 1e6
	}
	if h := res.SetupHist; h != nil {
		res.SetupP50, res.SetupP99, res.SetupP999, res.SetupMax = us(h.Quantile(0.5)), us(h.Quantile(0.99)), us(h.Quantile(0.999)), us(h.Max())
	}
	if h := res.RTTHist; h != nil {
		res.RTTP50, res.RTTP99, res.RTTP999, res.RTTMax = us(h.Quantile(0.5)), us(h.Quantile(0.99)), us(h.Quantile(0.999)), us(h.Max())
	}
}

// merge folds a worker's result into res (run concurrently: rates add,
// the setup phase lasts as long as the slowest worker's).
func (res *Result) merge(o *Result) {
	res.Conns += o.Conns
	res.Established += o.Established
	res.Failed += o.Failed
	res.SetupSecs = max(res.SetupSecs, o.SetupSecs)
	res.WindowSecs = max(res.WindowSecs, o.WindowSecs)
	// Workers' windows overlap; add their rates, not their counts over the
	// longest window.
	rate := res.MsgsPerSec + o.MsgsPerSec
	mb := res.MBPerSec + o.MBPerSec
	res.WindowMsgs += o.WindowMsgs
	res.WindowBytes += o.WindowBytes
	res.Msgs += o.Msgs
	for k, v := range o.Errors {
		res.Errors[k] += v
	}
	res.SetupHist.Merge(o.SetupHist)
	res.RTTHist.Merge(o.RTTHist)
	res.derive()
	res.MsgsPerSec, res.MBPerSec = rate, mb
}

// ErrorCount is the total of all error kinds.
func (res *Result) ErrorCount() uint64 {
	var n uint64
	for _, v := range res.Errors {
		n += v
	}
	return n
}

// WriteTable prints the final report.
func (res *Result) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "\n%s %s → %s  conns=%d workers=%d", res.Mode, res.Scenario, res.Target, res.Conns, res.Workers)
	if res.Scenario == "echo" {
		kind := "binary"
		if res.Text {
			kind = "text"
		}
		fmt.Fprintf(w, " size=%d inflight=%d %s", res.Size, res.Inflight, kind)
	}
	if res.Mode == "socketx" {
		fmt.Fprintf(w, " strength=%s", StrengthFlag{&res.Strength})
		if res.ServerKeyID != "" {
			fmt.Fprintf(w, " server-key=%s", res.ServerKeyID)
		}
	}
	fmt.Fprintln(w)
	row := func(name, format string, args ...any) {
		fmt.Fprintf(w, "  %-22s "+format+"\n", append([]any{name}, args...)...)
	}
	row("connections", "%d established, %d failed", res.Established, res.Failed)
	row("setup rate", "%.0f /s over %.2f s", res.SetupRate, res.SetupSecs)
	row("setup latency (µs)", "p50 %.0f  p99 %.0f  p99.9 %.0f  max %.0f", res.SetupP50, res.SetupP99, res.SetupP999, res.SetupMax)
	if res.Scenario == "echo" {
		row("messages", "%d echoed (%d in the %.2f s window)", res.Msgs, res.WindowMsgs, res.WindowSecs)
		row("throughput", "%.0f msgs/s  %.2f MB/s (one direction)", res.MsgsPerSec, res.MBPerSec)
		row("round trip (µs)", "p50 %.0f  p99 %.0f  p99.9 %.0f  max %.0f", res.RTTP50, res.RTTP99, res.RTTP999, res.RTTMax)
	}
	if len(res.Errors) == 0 {
		row("errors", "none")
		return
	}
	for k := Kind(0); k < numKinds; k++ {
		if n := res.Errors[k.String()]; n > 0 {
			row("errors: "+k.String(), "%d", n)
		}
	}
}

// FormatProgress is the one-line live view printed each second; prev is the
// previous snapshot (zero for the first).
func FormatProgress(p, prev Progress, total int) string {
	dt := (p.Elapsed - prev.Elapsed).Seconds()
	if dt <= 0 {
		dt = 1
	}
	return fmt.Sprintf("[%5.1fs] conns %d/%d active %d failed %d | %.0f msgs/s %.2f MB/s | errors %d",
		p.Elapsed.Seconds(), p.Established, total, p.Active, p.Failed,
		float64(p.Msgs-prev.Msgs)/dt, float64(p.Bytes-prev.Bytes)/dt/1e6, p.Errors)
}
