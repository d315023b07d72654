package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadStatOddName(t *testing.T) {
	p := filepath.Join(t.TempDir(), "stat")
	line := "4242 (a) b (c) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 125 0 0 20 0 3 0 1 2 3\n"
	if err := os.WriteFile(p, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	pid, ppid, ticks, ok := readStat(p)
	if !ok || pid != 4242 || ppid != 17 || ticks != 375 {
		t.Fatalf("pid %d ppid %d ticks %d ok %v", pid, ppid, ticks, ok)
	}
}

func TestSampleSelf(t *testing.T) {
	s, err := sampleTree(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.Procs < 1 || s.RSSKiB <= 0 || s.SysR <= 0 {
		t.Fatalf("%+v", s)
	}
	if _, err := sampleTree(1 << 30); err == nil || err.Error() != "compare: no process 1073741824" {
		t.Fatalf("missing process: %v", err)
	}
}

// Records as compare.sh writes them: nginx from an older file (no
// "syscalls" key, /proc io counters only), haproxy and socketx with perf
// counts (socketx's io counters must be ignored then, its epoll unknown),
// direct with the echo's counts, haproxy-tcp (the floor), a pinned nginx run
// where perf was unavailable ("syscalls":null) and io saw no
// read()/write(), the little-batching row (2000 × 1, no nginx), setups with
// the key-pool client, and two storms.
const sampleRecords = `{"kind":"throughput","target":"nginx","size":64,"before":{"cpu_sec":1,"syscr":0,"syscw":0},"after":{"cpu_sec":3,"syscr":2000000,"syscw":1000000},"bench":{"conns":200,"inflight":8,"msgs":1000000,"msgs_per_sec":100000,"errors":{}}}
{"kind":"throughput","target":"direct","size":64,"before":{"cpu_sec":0},"after":{"cpu_sec":1},"bench":{"conns":200,"inflight":8,"msgs":1000000,"msgs_per_sec":200000,"errors":{}},"syscalls":{"recv":1000000,"send":1000000,"epoll":100000,"total":2300000}}
{"kind":"throughput","target":"haproxy","size":64,"before":{"cpu_sec":1},"after":{"cpu_sec":2.6},"bench":{"conns":200,"inflight":8,"msgs":1000000,"msgs_per_sec":110000,"errors":{}},"syscalls":{"recv":296000,"send":296000,"epoll":48000,"total":700000}}
{"kind":"throughput","target":"haproxy-tcp","size":64,"before":{"cpu_sec":0},"after":{"cpu_sec":1.2},"bench":{"conns":200,"inflight":8,"msgs":1000000,"msgs_per_sec":130000,"errors":{}}}
{"kind":"throughput","target":"socketx","size":64,"before":{"cpu_sec":0,"syscr":0,"syscw":0},"after":{"cpu_sec":1,"syscr":5000000,"syscw":5000000},"bench":{"conns":200,"inflight":8,"msgs":1000000,"msgs_per_sec":120000,"errors":{}},"syscalls":{"recv":360000,"send":360000,"epoll":null,"total":900000}}
{"kind":"throughput","target":"haproxy","size":1024,"before":{"cpu_sec":0},"after":{"cpu_sec":1.5},"bench":{"conns":2000,"inflight":1,"established":2000,"msgs":500000,"msgs_per_sec":60000,"errors":{}}}
{"kind":"throughput","target":"socketx","size":1024,"before":{"cpu_sec":0},"after":{"cpu_sec":2},"bench":{"conns":2000,"inflight":1,"established":2000,"msgs":500000,"msgs_per_sec":50000,"errors":{}}}
{"kind":"throughput","target":"nginx","size":64,"pinned":true,"before":{"cpu_sec":1,"syscr":7,"syscw":7},"after":{"cpu_sec":2,"syscr":7,"syscw":7},"bench":{"conns":200,"inflight":8,"msgs":1000000,"msgs_per_sec":90000,"errors":{}},"syscalls":null}
{"kind":"hold","target":"haproxy","base":{"rss_kib":1000},"low":{"rss_kib":5000},"high":{"rss_kib":41000},"low_conns":1000,"high_conns":9000}
{"kind":"hold","target":"socketx","base":{"rss_kib":1000},"low":{"rss_kib":4000},"high":{"rss_kib":28000},"low_conns":1000,"high_conns":9000}
{"kind":"setup","target":"haproxy","before":{"cpu_sec":0},"after":{"cpu_sec":0.5},"bench":{"established":5000,"setup_rate":7000,"errors":{}}}
{"kind":"setup","target":"socketx","before":{"cpu_sec":0},"after":{"cpu_sec":1},"bench":{"established":5000,"setup_rate":6000,"strength":768,"key_pool":64,"errors":{}}}
{"kind":"storm","target":"haproxy","before":{"cpu_sec":1},"after":{"cpu_sec":2},"baseline":{"msgs_per_sec":120000,"rtt_p99_us":8000,"errors":{}},"bench":{"msgs_per_sec":80000,"rtt_p99_us":20000,"errors":{"closed":2}},"storm":[{"established":4000,"errors":{}}],"storm_secs":1}
{"kind":"storm","target":"socketx","before":{"cpu_sec":0},"after":{"cpu_sec":3.5},"baseline":{"msgs_per_sec":100000,"rtt_p99_us":10000,"errors":{}},"bench":{"msgs_per_sec":90000,"rtt_p99_us":15000,"errors":{}},"storm":[{"established":3000,"errors":{}},{"established":2990,"failed":10,"errors":{"handshake":10}}],"storm_secs":2.5}
`

// The report computes CPU per relayed message (÷ 2 × echoes), ratios,
// memory slopes and target verdicts exactly.
func TestReportFigures(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "r.jsonl")
	if err := os.WriteFile(in, []byte(sampleRecords), 0o644); err != nil {
		t.Fatal(err)
	}
	recs, err := readRecords(in)
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	writeMarkdown(&md, recs, "T", "", "", "c.svg")
	out := md.String()
	for _, want := range []string{
		"| size | proxy pinned | target | conns | window | msgs/s | MB/s | RTT p50 µs | p99 µs | p99.9 µs | proxy CPU µs/msg | recv/msg | send/msg | epoll/msg | syscalls/msg | errors |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n" +
			"| 64 B | no | direct | 0 | 8 | 200000 | 0.00 | 0 | 0 | 0 | - | 0.500 | 0.500 | 0.050 | 1.150 | 0 |\n" +
			"| 64 B | no | nginx | 0 | 8 | 100000 | 0.00 | 0 | 0 | 0 | 1.00 | 1.000 (io) | 0.500 (io) | - | - | 0 |\n" +
			"| 64 B | no | haproxy | 0 | 8 | 110000 | 0.00 | 0 | 0 | 0 | 0.80 | 0.148 | 0.148 | 0.024 | 0.350 | 0 |\n" +
			"| 64 B | no | haproxy-tcp | 0 | 8 | 130000 | 0.00 | 0 | 0 | 0 | 0.60 | - | - | - | - | 0 |\n" +
			"| 64 B | no | socketx | 0 | 8 | 120000 | 0.00 | 0 | 0 | 0 | 0.50 | 0.180 | 0.180 | - | 0.450 | 0 |\n" +
			"| 1024 B | no | haproxy | 2000 | 1 | 60000 | 0.00 | 0 | 0 | 0 | 1.50 | - | - | - | - | 0 |\n" +
			"| 1024 B | no | socketx | 2000 | 1 | 50000 | 0.00 | 0 | 0 | 0 | 2.00 | - | - | - | - | 0 |\n" +
			"| 64 B | CPU 0 (load on CPU 1) | nginx | 0 | 8 | 90000 | 0.00 | 0 | 0 | 0 | 0.50 | - | - | - | - | 0 |\n\n",
		"| 64 B | false | 200 × 8 | 1.20× | 1.09× | 0.50× | 0.62× | 0.83× | met (0.62×) | met (0.62×) | met (1.09×) |\n" +
			"| 1024 B | false | 2000 × 1 | n/a | 0.83× | n/a | 1.33× | n/a | **missed** (1.33×) | **missed** (1.33×) | **missed** (0.83×) |\n\n",
		"| haproxy | 1000 → 9000 | 1.0 | 4.9 | 40.0 | 4.44 | 4.50 | 0.00 | - |",
		"| socketx | 1000 → 9000 | 1.0 | 3.9 | 27.3 | 3.00 | 3.00 | 0.00 | - |",
		"Target ≤ 4 KiB per paired connection and below HAProxy: met (3.00 KiB) (SocketX 3.00 KiB, HAProxy 4.50 KiB)",
		"| haproxy | 5000 | 7000 | 0 | 0 | 0 | 0 | 100 | 0 |\n| socketx | 5000 | 6000 | 0 | 0 | 0 | 0 | 200 | 0 |\n",
		"The SocketX clients reused 64 pre-generated key pairs per bench process",
		"Target ≥ 5,000 SocketX setups/s (ML-KEM-768): met (6000/s)",
		"Proxy CPU per setup ≤ 1.5× HAProxy's: **missed** (2.00×); moonshot ≤ 1.0×: **missed** (2.00×)",
		"| haproxy | 120000 | 80000 | 8000 | 20000 | 2.50× | 0 | failed 0; closed 2 | 4000 | 0 | 4000 | 1.00 |\n" +
			"| socketx | 100000 | 90000 | 10000 | 15000 | 1.50× | 0 | 0 | 5990 | 10 | 2400 | 3.50 |\n",
		"Target: SocketX relay p99 during the storm ≤ 2× without, no relay errors, ≥ 2,000 storm attempts/s: met (1.50×) (2400 attempts/s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q\n%s", want, out)
		}
	}
	svg := chartSVG(recs)
	if !strings.HasPrefix(svg, "<svg ") || !strings.Contains(svg, ">120k</text>") || !strings.Contains(svg, ">3.0</text>") {
		t.Fatalf("svg:\n%s", svg)
	}
}
