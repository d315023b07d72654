package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/socketx/socketx-server/perf/loadgen"
)

// Record is one line of results.jsonl, written by compare.sh.
type Record struct {
	Kind   string `json:"kind"` // "throughput", "hold", "setup", "storm"
	Target string `json:"target"`
	Size   int    `json:"size,omitempty"`
	Pinned bool   `json:"pinned,omitempty"`

	Before *Sample         `json:"before,omitempty"`
	After  *Sample         `json:"after,omitempty"`
	Bench  *loadgen.Result `json:"bench,omitempty"`
	// Syscalls is perf stat's count over the bench run for the target's
	// process tree (the echo's for direct); nil when perf was unavailable
	// and in files written before compare.sh counted them.
	Syscalls *Syscalls `json:"syscalls,omitempty"`

	Base      *Sample         `json:"base,omitempty"`
	Low       *Sample         `json:"low,omitempty"`
	High      *Sample         `json:"high,omitempty"`
	LowConns  int             `json:"low_conns,omitempty"`
	HighConns int             `json:"high_conns,omitempty"`
	BenchLow  *loadgen.Result `json:"bench_low,omitempty"`
	BenchHigh *loadgen.Result `json:"bench_high,omitempty"`

	// Storm records: Baseline is the relay run alone, Bench the same run
	// during the storm, Storm the storm's chunks (connections that set up,
	// echo once and close) over StormSecs of wall time.
	Baseline  *loadgen.Result   `json:"baseline,omitempty"`
	Storm     []*loadgen.Result `json:"storm,omitempty"`
	StormSecs float64           `json:"storm_secs,omitempty"`
}

// rowKey identifies a throughput row: message size, pinning, and the
// connections × window of the run (the standard rows and the
// little-batching one differ there).
type rowKey struct {
	size, conns, inflight int
	pinned                bool
}

func (r *Record) rowKey() rowKey {
	k := rowKey{size: r.Size, pinned: r.Pinned}
	if r.Bench != nil {
		k.conns, k.inflight = r.Bench.Conns, r.Bench.Inflight
	}
	return k
}

// throughputRows lists the throughput rows in file order.
func throughputRows(recs []Record) []rowKey {
	var keys []rowKey
	for i := range recs {
		if recs[i].Kind != "throughput" {
			continue
		}
		k := recs[i].rowKey()
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// findRow is the throughput record of target t for row k.
func findRow(recs []Record, t string, k rowKey) *Record {
	for i := range recs {
		if r := &recs[i]; r.Kind == "throughput" && r.Target == t && r.rowKey() == k {
			return r
		}
	}
	return nil
}

// stormFigures sums a storm record's chunks: setups completed and failed,
// and attempts per second of storm wall time.
func (r *Record) stormFigures() (established, failed int64, attemptsPerSec float64) {
	for _, c := range r.Storm {
		if c != nil {
			established += c.Established
			failed += c.Failed
		}
	}
	if r.StormSecs > 0 {
		attemptsPerSec = float64(established+failed) / r.StormSecs
	}
	return established, failed, attemptsPerSec
}

// cpuPerMsg is proxy CPU µs per relayed message: every echo is relayed
// twice (client→upstream, upstream→client).
func (r *Record) cpuPerMsg() (float64, bool) {
	if r.Target == "direct" || r.Before == nil || r.After == nil || r.Bench == nil || r.Bench.Msgs == 0 {
		return 0, false
	}
	return (r.After.CPUSec - r.Before.CPUSec) * 1e6 / float64(2*r.Bench.Msgs), true
}

// sysPerMsg renders the recv/msg, send/msg, epoll/msg and syscalls/msg
// cells: perf's counts ÷ (2 × echoes) when the record has them, else the
// /proc/<pid>/io read and write counters marked "(io)", else "-".
func (r *Record) sysPerMsg() (recv, send, epoll, total string) {
	recv, send, epoll, total = "-", "-", "-", "-"
	if r.Bench == nil || r.Bench.Msgs == 0 {
		return
	}
	n := float64(2 * r.Bench.Msgs)
	if s := r.Syscalls; s != nil {
		cell := func(v *int64) string {
			if v == nil {
				return "-"
			}
			return fmt.Sprintf("%.3f", float64(*v)/n)
		}
		return cell(s.Recv), cell(s.Send), cell(s.Epoll), cell(s.Total)
	}
	if r.Before == nil || r.After == nil {
		return
	}
	dr, dw := r.After.SysR-r.Before.SysR, r.After.SysW-r.Before.SysW
	if float64(dr+dw)/n < 0.01 { // recv()/send() are not counted there: see the report's note
		return
	}
	return fmt.Sprintf("%.3f (io)", float64(dr)/n), fmt.Sprintf("%.3f (io)", float64(dw)/n), "-", "-"
}

// perConn is KiB of RSS per held connection from the base, and the slope
// between the low and high counts.
func (r *Record) perConn() (fromBase, slope, pssSlope float64, ok bool) {
	if r.Base == nil || r.Low == nil || r.High == nil || r.HighConns <= r.LowConns || r.HighConns == 0 {
		return 0, 0, 0, false
	}
	fromBase = float64(r.High.RSSKiB-r.Base.RSSKiB) / float64(r.HighConns)
	slope = float64(r.High.RSSKiB-r.Low.RSSKiB) / float64(r.HighConns-r.LowConns)
	pssSlope = float64(r.High.PSSKiB-r.Low.PSSKiB) / float64(r.HighConns-r.LowConns)
	return fromBase, slope, pssSlope, true
}

// targets in report order. haproxy-tcp is HAProxy in mode tcp: no HTTP or
// WebSocket parsing, the floor of a user-space relay.
var targets = []string{"direct", "nginx", "haproxy", "haproxy-tcp", "socketx"}

func reportCmd(args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	in := fs.String("in", "", "results.jsonl from compare.sh")
	mdOut := fs.String("md", "", "markdown output")
	svgOut := fs.String("svg", "", "SVG chart output")
	title := fs.String("title", "SocketX vs nginx vs HAProxy", "report title")
	params := fs.String("params", "", "run parameters (one line)")
	versions := fs.String("versions", "", "program versions (one line)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	recs, err := readRecords(*in)
	if err != nil {
		return err
	}
	if *mdOut != "" {
		f, err := os.Create(*mdOut)
		if err != nil {
			return err
		}
		writeMarkdown(f, recs, *title, *params, *versions, *svgOut)
		if err := f.Close(); err != nil {
			return err
		}
	}
	if *svgOut != "" {
		if err := os.WriteFile(*svgOut, []byte(chartSVG(recs)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func readRecords(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("compare: %s:%d: %v", path, n, err)
		}
		recs = append(recs, r)
	}
	return recs, sc.Err()
}

func find(recs []Record, kind, target string, size int, pinned bool) *Record {
	for i := range recs {
		r := &recs[i]
		if r.Kind == kind && r.Target == target && r.Size == size && r.Pinned == pinned {
			return r
		}
	}
	return nil
}

// machine describes this host from /proc.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			k = strings.TrimSpace(k)
			if ok && (k == "model name" || k == "Model" || k == "CPU part") {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	mem := readKiB("/proc/meminfo", "MemTotal:")
	return fmt.Sprintf("%s, %d CPUs (nproc), %s/%s, kernel %s, %.1f GiB RAM",
		model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, strings.TrimSpace(string(kernel)), float64(mem)/(1<<20))
}

func ratio(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func errs(r *loadgen.Result) string {
	if r == nil {
		return "-"
	}
	if r.ErrorCount() == 0 && r.Failed == 0 {
		return "0"
	}
	var parts []string
	for k, v := range r.Errors {
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	return fmt.Sprintf("failed %d; %s", r.Failed, strings.Join(parts, ", "))
}

func writeMarkdown(w io.Writer, recs []Record, title, params, versions, svg string) {
	fmt.Fprintf(w, "# %s — %s\n\n", title, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "- Machine: %s\n", machine())
	if versions != "" {
		fmt.Fprintf(w, "- Versions: %s\n", versions)
	}
	if params != "" {
		fmt.Fprintf(w, "- Parameters: %s\n", params)
	}
	fmt.Fprintf(w, "- Load generator (perf/bench), echo upstream (perf/echo) and proxy share this machine; figures from a machine that is busy with other work are noisy.\n")
	if svg != "" {
		fmt.Fprintf(w, "\n![throughput and memory per connection](%s)\n", baseName(svg))
	}

	fmt.Fprintf(w, "\n## (a) Throughput and (d) proxy CPU per relayed message\n\n")
	fmt.Fprintf(w, "Proxy CPU per relayed message = proxy utime+stime over the run ÷ (2 × echoes): each echo is relayed once each way. recv/msg, send/msg, epoll/msg and syscalls/msg: system calls the proxy's processes entered during the run, counted by perf stat on the syscall tracepoints, over the same count: recv = read + recvfrom + readv + recvmsg, send = write + sendto + writev + sendmsg, epoll = epoll_wait + epoll_pwait, syscalls = every system call (raw_syscalls:sys_enter). Fewer means more batching: 1 recv and 1 send per message is none. The direct row counts the echo upstream, which handles each echo once, over the same divisor. Figures marked (io) come from /proc/<pid>/io syscr/syscw because perf was unavailable: those count read()/readv() and write()/writev() but not recv()/send(), which nginx and HAProxy use, so they show \"-\" there. perf's counting adds a little kernel work to every system call of the counted processes, which their CPU figure includes.\n\n")
	fmt.Fprintf(w, "haproxy-tcp is HAProxy in `mode tcp`: it parses neither HTTP nor WebSocket and relays bytes, the least a user-space relay can spend; the little-batching row (many connections, one message in flight each) gives every proxy the least to batch.\n\n")
	fmt.Fprintf(w, "| size | proxy pinned | target | conns | window | msgs/s | MB/s | RTT p50 µs | p99 µs | p99.9 µs | proxy CPU µs/msg | recv/msg | send/msg | epoll/msg | syscalls/msg | errors |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	rows := throughputRows(recs)
	for _, k := range rows {
		size, pinned := k.size, k.pinned
		for _, t := range targets {
			r := findRow(recs, t, k)
			if r == nil || r.Bench == nil {
				continue
			}
			cpu := "-"
			if v, ok := r.cpuPerMsg(); ok {
				cpu = fmt.Sprintf("%.2f", v)
			}
			recv, send, epoll, total := r.sysPerMsg()
			pin := "no"
			if pinned {
				pin = "CPU 0 (load on CPU 1)"
			}
			b := r.Bench
			fmt.Fprintf(w, "| %d B | %s | %s | %d | %d | %.0f | %.2f | %.0f | %.0f | %.0f | %s | %s | %s | %s | %s | %s |\n",
				size, pin, t, b.Established, b.Inflight, b.MsgsPerSec, b.MBPerSec, b.RTTP50, b.RTTP99, b.RTTP999, cpu, recv, send, epoll, total, errs(b))
		}
	}
	fmt.Fprintf(w, "\nSocketX against the plain proxies (throughput: higher is better; CPU/msg: lower is better):\n\n")
	fmt.Fprintf(w, "| size | proxy pinned | conns × window | msgs/s vs nginx | vs HAProxy | CPU/msg vs nginx | vs HAProxy | vs HAProxy tcp (floor) | CPU target ≤ 1.0× best | moonshot ≤ 0.7× best | throughput target ≥ 1.0× best |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, k := range rows {
		sx, ng, hp, ht := findRow(recs, "socketx", k), findRow(recs, "nginx", k), findRow(recs, "haproxy", k), findRow(recs, "haproxy-tcp", k)
		if sx == nil || sx.Bench == nil || (ng == nil || ng.Bench == nil) && (hp == nil || hp.Bench == nil) {
			continue
		}
		sc, _ := sx.cpuPerMsg()
		nc, ntp := anchor(ng)
		hc, htp := anchor(hp)
		tc, _ := anchor(ht)
		bestCPU := minPos(nc, hc)
		bestTP := max(ntp, htp)
		fmt.Fprintf(w, "| %d B | %v | %d × %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", k.size, k.pinned, k.conns, k.inflight,
			ratio(sx.Bench.MsgsPerSec, ntp), ratio(sx.Bench.MsgsPerSec, htp),
			ratio(sc, nc), ratio(sc, hc), ratio(sc, tc),
			verdict(sc > 0 && bestCPU > 0 && sc <= bestCPU, ratio(sc, bestCPU)),
			verdict(sc > 0 && bestCPU > 0 && sc <= 0.7*bestCPU, ratio(sc, bestCPU)),
			verdict(sx.Bench.MsgsPerSec >= bestTP, ratio(sx.Bench.MsgsPerSec, bestTP)))
	}

	fmt.Fprintf(w, "\n## (b) Memory per idle paired connection\n\n")
	fmt.Fprintf(w, "RSS summed over all the proxy's processes (VmRSS; PSS for the slope too, which counts pages shared between nginx workers once). from base = (RSS while holding the high count − RSS before any connection) ÷ high count; slope = (RSS at high − RSS at low) ÷ (high − low). Kernel socket memory is not in RSS.\n\n")
	fmt.Fprintf(w, "| target | held (low → high) | RSS base MiB | RSS at low MiB | RSS at high MiB | KiB/conn from base | KiB/conn slope | PSS KiB/conn slope | errors |\n|---|---|---|---|---|---|---|---|---|\n")
	var hpSlope, sxSlope float64
	for _, t := range targets {
		r := find(recs, "hold", t, 0, false)
		if r == nil {
			continue
		}
		fb, sl, ps, ok := r.perConn()
		if !ok {
			continue
		}
		switch t {
		case "haproxy":
			hpSlope = sl
		case "socketx":
			sxSlope = sl
		}
		e := errs(r.BenchHigh)
		if r.BenchLow != nil && (r.BenchLow.Failed > 0 || r.BenchLow.ErrorCount() > 0) {
			e = "low: " + errs(r.BenchLow) + "; high: " + e
		}
		fmt.Fprintf(w, "| %s | %d → %d | %.1f | %.1f | %.1f | %.2f | %.2f | %.2f | %s |\n", t, r.LowConns, r.HighConns,
			mib(r.Base.RSSKiB), mib(r.Low.RSSKiB), mib(r.High.RSSKiB), fb, sl, ps, e)
	}
	if sxSlope > 0 {
		fmt.Fprintf(w, "\nTarget ≤ 4 KiB per paired connection and below HAProxy: %s (SocketX %.2f KiB, HAProxy %.2f KiB)\n",
			verdict(sxSlope <= 4 && (hpSlope == 0 || sxSlope < hpSlope), fmt.Sprintf("%.2f KiB", sxSlope)), sxSlope, hpSlope)
	}

	fmt.Fprintf(w, "\n## (c) Connection setup\n\n")
	fmt.Fprintf(w, "Setup = TCP connect + WebSocket upgrade (+ for SocketX: pairing, the proxy's upstream dial and upgrade, until action 5). direct = TCP + upgrade against the echo.\n\n")
	fmt.Fprintf(w, "| target | conns | setups/s | p50 µs | p99 µs | p99.9 µs | max µs | proxy CPU µs/setup | errors |\n|---|---|---|---|---|---|---|---|---|\n")
	setupCPU := map[string]float64{}
	var sxSetup *loadgen.Result
	for _, t := range targets {
		r := find(recs, "setup", t, 0, false)
		if r == nil || r.Bench == nil {
			continue
		}
		b := r.Bench
		cpu := "-"
		if t != "direct" && r.Before != nil && r.After != nil && b.Established > 0 {
			setupCPU[t] = (r.After.CPUSec - r.Before.CPUSec) * 1e6 / float64(b.Established)
			cpu = fmt.Sprintf("%.0f", setupCPU[t])
		}
		fmt.Fprintf(w, "| %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %s | %s |\n", t, b.Established, b.SetupRate, b.SetupP50, b.SetupP99, b.SetupP999, b.SetupMax, cpu, errs(b))
		if t == "socketx" {
			sxSetup = b
		}
	}
	if b := sxSetup; b != nil {
		if b.KeyPool > 0 {
			fmt.Fprintf(w, "\nThe SocketX clients reused %d pre-generated key pairs per bench process (`perf/bench -key-pool`), so that the load generator's key generation is not the limit; the proxy runs its full key exchange for every pairing, its work is unchanged.\n", b.KeyPool)
		}
		fmt.Fprintf(w, "\nTarget ≥ 5,000 SocketX setups/s (ML-KEM-%d): %s\n", b.Strength, verdict(b.SetupRate >= 5000, fmt.Sprintf("%.0f/s", b.SetupRate)))
		if sc, hc := setupCPU["socketx"], setupCPU["haproxy"]; sc > 0 && hc > 0 {
			fmt.Fprintf(w, "\nProxy CPU per setup ≤ 1.5× HAProxy's: %s; moonshot ≤ 1.0×: %s\n",
				verdict(sc <= 1.5*hc, ratio(sc, hc)), verdict(sc <= hc, ratio(sc, hc)))
		}
	}
	writeStorm(w, recs)
}

// anchor is a plain proxy's CPU per message and msgs/s, zero when absent.
func anchor(r *Record) (cpu, msgsPerSec float64) {
	if r == nil || r.Bench == nil {
		return 0, 0
	}
	cpu, _ = r.cpuPerMsg()
	return cpu, r.Bench.MsgsPerSec
}

// writeStorm is section (e): relaying during a storm of new clients.
func writeStorm(w io.Writer, recs []Record) {
	var storms []*Record
	for _, t := range targets {
		if r := find(recs, "storm", t, 0, false); r != nil && r.Baseline != nil && r.Bench != nil {
			storms = append(storms, r)
		}
	}
	if len(storms) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## (e) Relaying during a storm of new clients\n\n")
	fmt.Fprintf(w, "The same relay run (1 KiB messages) twice on one proxy process: alone, then while new clients connect as fast as the load generator allows — each sets up (for SocketX: pairs, and the proxy dials the upstream), echoes one 64 B message and closes — in chunks until the relay run ends. storm attempts/s = (set up + failed) ÷ storm wall time; proxy CPU is over the relay run with the storm.\n\n")
	fmt.Fprintf(w, "| target | relay msgs/s alone | during storm | RTT p99 µs alone | during storm | p99 ratio | relay errors alone | during storm | storm setups | storm failed | storm attempts/s | proxy CPU s |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range storms {
		est, failed, rate := r.stormFigures()
		cpu := "-"
		if r.Before != nil && r.After != nil {
			cpu = fmt.Sprintf("%.2f", r.After.CPUSec-r.Before.CPUSec)
		}
		fmt.Fprintf(w, "| %s | %.0f | %.0f | %.0f | %.0f | %s | %s | %s | %d | %d | %.0f | %s |\n", r.Target,
			r.Baseline.MsgsPerSec, r.Bench.MsgsPerSec, r.Baseline.RTTP99, r.Bench.RTTP99, ratio(r.Bench.RTTP99, r.Baseline.RTTP99),
			errs(r.Baseline), errs(r.Bench), est, failed, rate, cpu)
		if r.Target == "socketx" {
			ok := r.Bench.RTTP99 <= 2*r.Baseline.RTTP99 && r.Bench.ErrorCount() == 0 && r.Bench.Failed == 0
			defer fmt.Fprintf(w, "\nTarget: SocketX relay p99 during the storm ≤ 2× without, no relay errors, ≥ 2,000 storm attempts/s: %s (%.0f attempts/s)\n",
				verdict(ok && rate >= 2000, ratio(r.Bench.RTTP99, r.Baseline.RTTP99)), rate)
		}
	}
}

func verdict(ok bool, v string) string {
	if ok {
		return "met (" + v + ")"
	}
	return "**missed** (" + v + ")"
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

func minPos(a, b float64) float64 {
	switch {
	case a <= 0:
		return b
	case b <= 0:
		return a
	}
	return min(a, b)
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
