package hardening

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
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

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// proc is a running `socketx serve` with its output collected.
type proc struct {
	cmd   *exec.Cmd
	port  int
	admin string
	mu    sync.Mutex // guards out
	out   []string
	exit  chan error
}

// startSocketx runs the binary on 127.0.0.1 with env and waits for /health.
func startSocketx(t testing.TB, env ...string) *proc {
	t.Helper()
	p := &proc{port: freePort(t), exit: make(chan error, 1)}
	p.admin = "127.0.0.1:" + strconv.Itoa(freePort(t))
	p.cmd = exec.Command(socketxBinary(t), "serve")
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "LISTEN_HOST=127.0.0.1",
		"LISTEN_PORT=" + strconv.Itoa(p.port), "ADMIN_LISTEN=" + p.admin}, env...)
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = p.cmd.Stdout
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.out = append(p.out, sc.Text())
			p.mu.Unlock()
		}
		p.exit <- p.cmd.Wait()
	}()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(p.port) + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("socketx never became healthy: %v; output:\n%s", err, p.output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.out, "\n")
}

func (p *proc) url(path string) string { return "ws://127.0.0.1:" + strconv.Itoa(p.port) + path }

// get fetches an admin URL.
func (p *proc) get(t testing.TB, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + p.admin + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
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
func (p *proc) sample(t testing.TB) procStats {
	t.Helper()
	var s procStats
	g := p.get(t, "/debug/pprof/goroutine?debug=1")
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
	h := p.get(t, "/debug/pprof/heap?gc=1&debug=1")
	for _, line := range strings.Split(h, "\n") {
		if v, ok := strings.CutPrefix(line, "# HeapInuse = "); ok {
			s.HeapInuse, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	pid := strconv.Itoa(p.cmd.Process.Pid)
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
