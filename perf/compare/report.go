package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/socketx/socketx-server/perf/loadgen"
)

// Record is one line of results.jsonl, written by compare.sh.
type Record struct {
	Kind   string `json:"kind"` // "throughput", "hold", "setup"
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

var targets = []string{"direct", "nginx", "haproxy", "socketx"}

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
	fmt.Fprintf(w, "| size | proxy pinned | target | conns | msgs/s | MB/s | RTT p50 µs | p99 µs | p99.9 µs | proxy CPU µs/msg | recv/msg | send/msg | epoll/msg | syscalls/msg | errors |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	var sizes []int
	var pins []bool
	for _, r := range recs {
		if r.Kind != "throughput" {
			continue
		}
		if !containsInt(sizes, r.Size) {
			sizes = append(sizes, r.Size)
		}
		if !containsBool(pins, r.Pinned) {
			pins = append(pins, r.Pinned)
		}
	}
	for _, pinned := range pins {
		for _, size := range sizes {
			for _, t := range targets {
				r := find(recs, "throughput", t, size, pinned)
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
				fmt.Fprintf(w, "| %d B | %s | %s | %d | %.0f | %.2f | %.0f | %.0f | %.0f | %s | %s | %s | %s | %s | %s |\n",
					size, pin, t, b.Established, b.MsgsPerSec, b.MBPerSec, b.RTTP50, b.RTTP99, b.RTTP999, cpu, recv, send, epoll, total, errs(b))
			}
		}
	}
	fmt.Fprintf(w, "\nSocketX against the plain proxies (throughput: higher is better; CPU/msg: lower is better):\n\n")
	fmt.Fprintf(w, "| size | proxy pinned | msgs/s vs nginx | vs HAProxy | CPU/msg vs nginx | vs HAProxy | CPU target ≤ 0.7× best | throughput target ≥ 1.0× best |\n|---|---|---|---|---|---|---|---|\n")
	for _, pinned := range pins {
		for _, size := range sizes {
			sx, ng, hp := find(recs, "throughput", "socketx", size, pinned), find(recs, "throughput", "nginx", size, pinned), find(recs, "throughput", "haproxy", size, pinned)
			if sx == nil || ng == nil || hp == nil || sx.Bench == nil || ng.Bench == nil || hp.Bench == nil {
				continue
			}
			sc, _ := sx.cpuPerMsg()
			nc, _ := ng.cpuPerMsg()
			hc, _ := hp.cpuPerMsg()
			bestCPU := minPos(nc, hc)
			bestTP := max(ng.Bench.MsgsPerSec, hp.Bench.MsgsPerSec)
			fmt.Fprintf(w, "| %d B | %v | %s | %s | %s | %s | %s | %s |\n", size, pinned,
				ratio(sx.Bench.MsgsPerSec, ng.Bench.MsgsPerSec), ratio(sx.Bench.MsgsPerSec, hp.Bench.MsgsPerSec),
				ratio(sc, nc), ratio(sc, hc),
				verdict(sc > 0 && bestCPU > 0 && sc <= 0.7*bestCPU, ratio(sc, bestCPU)),
				verdict(sx.Bench.MsgsPerSec >= bestTP, ratio(sx.Bench.MsgsPerSec, bestTP)))
		}
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
	for _, t := range targets {
		r := find(recs, "setup", t, 0, false)
		if r == nil || r.Bench == nil {
			continue
		}
		b := r.Bench
		cpu := "-"
		if t != "direct" && r.Before != nil && r.After != nil && b.Established > 0 {
			cpu = fmt.Sprintf("%.0f", (r.After.CPUSec-r.Before.CPUSec)*1e6/float64(b.Established))
		}
		fmt.Fprintf(w, "| %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %s | %s |\n", t, b.Established, b.SetupRate, b.SetupP50, b.SetupP99, b.SetupP999, b.SetupMax, cpu, errs(b))
		if t == "socketx" {
			defer fmt.Fprintf(w, "\nTarget ≥ 5,000 SocketX setups/s (ML-KEM-%d): %s\n", b.Strength, verdict(b.SetupRate >= 5000, fmt.Sprintf("%.0f/s", b.SetupRate)))
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

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func containsBool(s []bool, v bool) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
