// Package proctest runs the socketx binary for tests: `socketx serve` on
// free 127.0.0.1 ports with its output collected line by line, started once
// /health answers. The cmd/socketx and hardening suites share it.
package proctest

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	return FreePorts(t, 1)[0]
}

// FreePorts returns n distinct TCP ports on 127.0.0.1 that were free a
// moment ago: all n are held open until the last is picked, so two calls in
// a row cannot hand out the same port.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports
}

// Proc is a running `socketx serve`. Exit receives the result of Wait once
// the process has ended and its output is read.
type Proc struct {
	Cmd   *exec.Cmd
	Port  int    // proxy listener on 127.0.0.1
	Admin string // admin listener host:port
	Exit  chan error

	mu    sync.Mutex // guards lines
	lines []string
	seen  chan struct{}
}

// Start runs binary serve with LISTEN_HOST/LISTEN_PORT/ADMIN_LISTEN on free
// loopback ports plus env, and returns once /health answers 200 (at most
// 20 s). The process is killed when the test ends.
func Start(t testing.TB, binary string, env ...string) *Proc {
	t.Helper()
	ports := FreePorts(t, 2)
	p := &Proc{Port: ports[0], Exit: make(chan error, 1), seen: make(chan struct{}, 1)}
	p.Admin = "127.0.0.1:" + strconv.Itoa(ports[1])
	p.Cmd = exec.Command(binary, "serve")
	p.Cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "LISTEN_HOST=127.0.0.1",
		"LISTEN_PORT=" + strconv.Itoa(p.Port), "ADMIN_LISTEN=" + p.Admin}, env...)
	out, err := p.Cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.Cmd.Stderr = p.Cmd.Stdout
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
			select { // a wake-up for WaitLine-style loops; one pending is enough
			case p.seen <- struct{}{}:
			default:
			}
		}
		p.Exit <- p.Cmd.Wait()
	}()
	t.Cleanup(func() { _ = p.Cmd.Process.Kill() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(p.Port) + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("socketx never became healthy: %v; output:\n%s", err, p.Output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Lines returns a copy of the output lines so far.
func (p *Proc) Lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// Output is the output so far, one line per line.
func (p *Proc) Output() string { return strings.Join(p.Lines(), "\n") }

// NewLine is signalled after a line arrives (at most one pending signal):
// re-check Lines after each receive.
func (p *Proc) NewLine() <-chan struct{} { return p.seen }

// URL is a ws:// URL of the proxy listener.
func (p *Proc) URL(path string) string { return "ws://127.0.0.1:" + strconv.Itoa(p.Port) + path }

// Get fetches an admin URL and returns the body.
func (p *Proc) Get(t testing.TB, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + p.Admin + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
