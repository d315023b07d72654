package hardening

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/socketx/socketx-server/internal/proctest"
)

// The fault and soak tests that need a separate proxy process run the real
// binary, built once (without the race detector: the process under test is
// what production runs; the test side still runs under -race).

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(floodEnv); spec != "" {
		os.Exit(runFlooder(spec)) // a flooder child of the descriptor tests
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// socketxBinary builds ./cmd/socketx once per test binary.
func socketxBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "socketx-hardening")
		if buildErr != nil {
			return
		}
		buildPath = filepath.Join(buildDir, "socketx")
		cmd := exec.Command("go", "build", "-o", buildPath, "github.com/socketx/socketx-server/cmd/socketx")
		var out []byte
		out, buildErr = cmd.CombinedOutput()
		if buildErr != nil {
			buildErr = &buildError{buildErr, string(out)}
		}
	})
	if buildErr != nil {
		t.Fatalf("build socketx: %v", buildErr)
	}
	return buildPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// proc is a running `socketx serve` (see internal/proctest) with the
// hardening suite's process sampling.
type proc struct{ *proctest.Proc }

// startSocketx runs the binary on 127.0.0.1 with env and waits for /health.
func startSocketx(t testing.TB, env ...string) proc {
	t.Helper()
	return proc{proctest.Start(t, socketxBinary(t), env...)}
}

// procStats is one sample of the proxy process.
type procStats struct {
	Goroutines  int   // without gnet's ants workers
	AntsWorkers int   // gnet's pooled workers, idle ones included
	HeapInuse   int64 // bytes, after a forced GC
	FDs         int
	RSS, HWM    int64 // bytes: VmRSS and VmHWM (peak)
}

// sample reads goroutines and the post-GC heap over the admin port and the
// fds and RSS from /proc.
func (p proc) sample(t testing.TB) procStats {
	t.Helper()
	var s procStats
	g := p.Get(t, "/debug/pprof/goroutine?debug=1")
	if _, err := fmtSscan(strings.TrimPrefix(strings.SplitN(g, "\n", 2)[0], "goroutine profile: total "), &s.Goroutines); err != nil {
		t.Fatalf("goroutine profile: %q", g[:min(len(g), 100)])
	}
	// Leave out gnet's ants worker pool: idle workers are purged on the
	// pool's own schedule (about 10-20 s), independent of connections.
	_, blocks, _ := strings.Cut(g, "\n") // drop the "goroutine profile: total N" line
	for _, block := range strings.Split(blocks, "\n\n") {
		if strings.Contains(block, "panjf2000/ants") {
			var n int
			fmtSscan(strings.Fields(block)[0], &n)
			s.Goroutines -= n
			s.AntsWorkers += n
		}
	}
	h := p.Get(t, "/debug/pprof/heap?gc=1&debug=1")
	for _, line := range strings.Split(h, "\n") {
		if v, ok := strings.CutPrefix(line, "# HeapInuse = "); ok {
			s.HeapInuse, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	pid := strconv.Itoa(p.Cmd.Process.Pid)
	ents, err := os.ReadDir("/proc/" + pid + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	s.FDs = len(ents)
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "VmRSS:" || f[0] == "VmHWM:") {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			if f[0] == "VmRSS:" {
				s.RSS = kb << 10
			} else {
				s.HWM = kb << 10
			}
		}
	}
	return s
}

func fmtSscan(s string, n *int) (int, error) {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	*n = v
	return 1, err
}
