package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/socketx/socketx-server/client"
	"github.com/socketx/socketx-server/config"
	"github.com/socketx/socketx-server/internal/proctest"
	"github.com/socketx/socketx-server/internal/testwait"
)

// runBinary runs socketx with args and env (nothing else of the test's
// environment) and returns its exit code, stdout and stderr. It fails the
// test if the process is still running after 20 s: help must not start
// anything.
func runBinary(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append([]string{}, env...) // never nil: nil would inherit the test's environment
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("socketx %v still running after 20 s; output:\n%s%s", args, stdout.String(), stderr.String())
	}
	var ee *exec.ExitError
	if err != nil && !errorsAs(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// serveHelpText is what `socketx serve --help` prints: serveUsage, then
// every variable of config.Vars with its default and meaning.
func serveHelpText() string {
	var b bytes.Buffer
	envHelp(&b)
	return serveUsage + b.String()
}

// TestHelpExitsZero: every command's help goes to stdout with exit 0 and
// nothing on stderr; none of them starts anything.
func TestHelpExitsZero(t *testing.T) {
	// A valid configuration on a free port: a help that started the proxy
	// would not exit.
	env := []string{`DOMAIN_MAP={"*":{"upstream":"ws://127.0.0.1:1","allowedOrigins":["*"]}}`,
		"LISTEN_HOST=127.0.0.1", "LISTEN_PORT=" + strconv.Itoa(proctest.FreePort(t)), "ADMIN_LISTEN=off"}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--help"}, usage},
		{[]string{"-h"}, usage},
		{[]string{"help"}, usage},
		{[]string{"help", "help"}, usage},
		{[]string{"serve", "--help"}, serveHelpText()},
		{[]string{"serve", "-h"}, serveHelpText()},
		{[]string{"help", "serve"}, serveHelpText()},
		{[]string{"demo", "-h"}, demoUsage},
		{[]string{"demo", "--help"}, demoUsage},
		{[]string{"demo", "-port", "1", "help"}, demoUsage},
		{[]string{"help", "demo"}, demoUsage},
		{[]string{"config"}, configUsage},
		{[]string{"config", "--help"}, configUsage},
		{[]string{"help", "config"}, configUsage},
		{[]string{"config", "check", "--help"}, configCheckUsage},
		{[]string{"config", "check", "-h"}, configCheckUsage},
		{[]string{"help", "config", "check"}, configCheckUsage},
		{[]string{"keygen", "--help"}, keygenUsage},
		{[]string{"keygen", "-h"}, keygenUsage},
		{[]string{"help", "keygen"}, keygenUsage},
		{[]string{"healthcheck", "--help"}, healthcheckUsage},
		{[]string{"help", "healthcheck"}, healthcheckUsage},
		{[]string{"version", "--help"}, versionUsage},
		{[]string{"help", "version"}, versionUsage},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runBinary(t, env, tc.args...)
			if code != 0 || stdout != tc.want || stderr != "" {
				t.Fatalf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", code, stderr, stdout, tc.want)
			}
		})
	}
}

// TestServeHelpListsEveryVariable: `serve --help` shows each variable of
// config.Vars once, with its default and its one-line meaning.
func TestServeHelpListsEveryVariable(t *testing.T) {
	code, out, _ := runBinary(t, nil, "serve", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, v := range config.Vars {
		head := v.Name
		switch {
		case v.Platform:
			head += " (set by the platform)"
		case v.Default != "":
			head += "=" + v.Default
		}
		entry := "\n  " + head + "\n      " + v.Help + "\n"
		if strings.Count(out, entry) != 1 {
			t.Errorf("%s: want exactly one entry %q", v.Name, entry)
		}
		if strings.Contains(v.Help, "\n") {
			t.Errorf("%s: meaning is more than one line", v.Name)
		}
	}
	for _, want := range []string{"\n  LISTEN_PORT=8080\n", "\n  DRAIN_TIMEOUT=25s\n", "\n  CLIENT_PONG_TIMEOUT=60\n", "\n  MTE_LICENSE_KEY\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^  \S`).FindAllString(out, -1)); n != len(config.Vars) {
		t.Errorf("%d entries, config.Vars has %d", n, len(config.Vars))
	}
}

// TestDemoHelpPrintsEachDefaultOnce: the demo's defaults appear once each.
func TestDemoHelpPrintsEachDefaultOnce(t *testing.T) {
	_, out, _ := runBinary(t, nil, "demo", "-h")
	for _, def := range []string{"8080", "127.0.0.1:8081", "$LISTEN_PORT", "$DEMO_PAGE_LISTEN"} {
		if n := strings.Count(out, def); n != 1 {
			t.Errorf("%q printed %d times:\n%s", def, n, out)
		}
	}
}

// TestUsageErrorsExitTwo: an unknown command, flag or argument is one line
// on stderr and the usage hint, exit 2, nothing on stdout.
func TestUsageErrorsExitTwo(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, "socketx: unknown command \"nope\"\nRun 'socketx --help' for usage.\n"},
		{[]string{"--nope"}, "socketx: unknown flag \"--nope\"\nRun 'socketx --help' for usage.\n"},
		{[]string{"help", "nope"}, "socketx: help: unknown command \"nope\"\nRun 'socketx --help' for usage.\n"},
		{[]string{"serve", "--port", "1"}, "socketx serve: unknown flag \"--port\"\nRun 'socketx serve --help' for usage.\n"},
		{[]string{"serve", "now"}, "socketx serve: unexpected argument \"now\"\nRun 'socketx serve --help' for usage.\n"},
		{[]string{"demo", "-nope"}, "socketx demo: unknown flag \"-nope\"\nRun 'socketx demo --help' for usage.\n"},
		{[]string{"demo", "-port", "x"}, "socketx demo: invalid value \"x\" for flag -port: parse error\nRun 'socketx demo --help' for usage.\n"},
		{[]string{"demo", "now"}, "socketx demo: unexpected argument \"now\"\nRun 'socketx demo --help' for usage.\n"},
		{[]string{"config", "show"}, "socketx config: unknown command \"show\"\nRun 'socketx config --help' for usage.\n"},
		{[]string{"config", "-x"}, "socketx config: unknown flag \"-x\"\nRun 'socketx config --help' for usage.\n"},
		{[]string{"config", ""}, "socketx config: unknown command \"\"\nRun 'socketx config --help' for usage.\n"},
		{[]string{""}, "socketx: unknown command \"\"\nRun 'socketx --help' for usage.\n"},
		{[]string{"keygen", ""}, "socketx keygen: unexpected argument \"\"\nRun 'socketx keygen --help' for usage.\n"},
		{[]string{"config", "check", "--all"}, "socketx config check: unknown flag \"--all\"\nRun 'socketx config check --help' for usage.\n"},
		{[]string{"healthcheck", "-v"}, "socketx healthcheck: unknown flag \"-v\"\nRun 'socketx healthcheck --help' for usage.\n"},
		{[]string{"version", "x"}, "socketx version: unexpected argument \"x\"\nRun 'socketx version --help' for usage.\n"},
		{[]string{"keygen"}, "socketx keygen: missing FILE\nRun 'socketx keygen --help' for usage.\n"},
		{[]string{"keygen", "-show"}, "socketx keygen: -show: missing FILE\nRun 'socketx keygen --help' for usage.\n"},
		{[]string{"keygen", "-f", "x"}, "socketx keygen: unknown flag \"-f\"\nRun 'socketx keygen --help' for usage.\n"},
		{[]string{"keygen", "a", "b"}, "socketx keygen: unexpected argument \"b\"\nRun 'socketx keygen --help' for usage.\n"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runBinary(t, nil, tc.args...)
			if code != 2 || stdout != "" || stderr != tc.want {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant:\n%s", code, stdout, stderr, tc.want)
			}
		})
	}
	// No command at all: the usage, on stderr, exit 2.
	if code, stdout, stderr := runBinary(t, nil); code != 2 || stdout != "" || stderr != usage {
		t.Fatalf("no command: exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
}

// TestOriginlessEntryRefused: a DOMAIN_MAP entry without allowedOrigins
// (missing, null or empty) fails config check and start-up with the same
// line naming the host, as the Helm chart fails the render.
func TestOriginlessEntryRefused(t *testing.T) {
	const want = `routing: DOMAIN_MAP["api.example.com"].allowedOrigins: want a non-empty list ` +
		`(without one every upgrade gets 403; ["*"] allows every origin and native clients, which send none)` + "\n"
	for _, entry := range []string{`{"upstream":"ws://127.0.0.1:1"}`, `{"upstream":"ws://127.0.0.1:1","allowedOrigins":[]}`,
		`{"upstream":"ws://127.0.0.1:1","allowedOrigins":null}`} {
		env := []string{`DOMAIN_MAP={"api.example.com":` + entry + `,"*":{"upstream":"ws://127.0.0.1:1","allowedOrigins":["*"]}}`,
			"LISTEN_HOST=127.0.0.1", "LISTEN_PORT=" + strconv.Itoa(proctest.FreePort(t)), "ADMIN_LISTEN=off"}
		for _, args := range [][]string{{"config", "check"}, {"serve"}} {
			code, stdout, stderr := runBinary(t, env, args...)
			if code != 2 || stdout != "" || stderr != want {
				t.Errorf("%s with %s: exit %d, stdout %q, stderr:\n%s\nwant:\n%s", args, entry, code, stdout, stderr, want)
			}
		}
	}
}

// TestPublicBindErrorNamesAddress: a busy public port fails start-up
// (exit 1) with net.Listen's wording, the address included.
func TestPublicBindErrorNamesAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	code, stdout, stderr := runBinary(t, []string{`DOMAIN_MAP={"*":{"upstream":"ws://127.0.0.1:1","allowedOrigins":["*"]}}`,
		"LISTEN_HOST=127.0.0.1", "LISTEN_PORT=" + port, "ADMIN_LISTEN=off", "LOG_LEVEL=error"}, "serve")
	if code != 1 {
		t.Fatalf("exit %d; output:\n%s%s", code, stdout, stderr)
	}
	// LOG_LEVEL=error: that line is all the output.
	var fields map[string]any
	lines := strings.Split(strings.TrimSuffix(stdout+stderr, "\n"), "\n")
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &fields) != nil {
		t.Fatalf("want one JSON log line, got:\n%s%s", stdout, stderr)
	}
	want := "listen tcp " + addr + ": bind: address already in use"
	if fields["msg"] != "listener failed" || fields["error"] != want || fields["listen_addr"] != addr {
		t.Fatalf("log line %s\nwant msg \"listener failed\", error %q, listen_addr %q", lines[0], want, addr)
	}
}

// demoProc is a running `socketx demo` whose stdout and stderr share one
// pipe, as they share a terminal.
type demoProc struct {
	cmd  *exec.Cmd
	exit chan error

	mu   sync.Mutex // guards out
	out  string
	seen chan struct{}
}

func startDemo(t *testing.T, env []string, args ...string) *demoProc {
	t.Helper()
	d := &demoProc{exit: make(chan error, 1), seen: make(chan struct{}, 1)}
	d.cmd = exec.Command(binary, append([]string{"demo"}, args...)...)
	d.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	r, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.cmd.Stderr = d.cmd.Stdout
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.cmd.Process.Kill() })
	go func() {
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadString('\n')
			d.mu.Lock()
			d.out += line
			d.mu.Unlock()
			select {
			case d.seen <- struct{}{}:
			default:
			}
			if err != nil {
				break
			}
		}
		d.exit <- d.cmd.Wait()
	}()
	return d
}

func (d *demoProc) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out
}

// waitFor waits until the output contains s.
func (d *demoProc) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(d.output(), s) {
		select {
		case <-d.seen:
		case <-deadline:
			t.Fatalf("no %q in the demo's output:\n%s", s, d.output())
		}
	}
}

// TestDemoBannerAndSecondCtrlC: the demo prints its banner in one piece,
// without info logs around it, the metrics URL before "Stop with Ctrl-C";
// DEMO_PAGE_LISTEN places the page; Ctrl-C starts the drain and a second
// Ctrl-C stops at once although clients are still connected.
func TestDemoBannerAndSecondCtrlC(t *testing.T) {
	ports := proctest.FreePorts(t, 3)
	proxy, page, admin := strconv.Itoa(ports[0]), "127.0.0.1:"+strconv.Itoa(ports[1]), "127.0.0.1:"+strconv.Itoa(ports[2])
	d := startDemo(t, []string{"DEMO_PAGE_LISTEN=" + page, "ADMIN_LISTEN=" + admin, "DRAIN_TIMEOUT=120s"}, "-port", proxy)
	d.waitFor(t, "a second Ctrl-C stops at once.\n")
	p := "127.0.0.1:" + proxy
	want := "\nSocketX demo is running.\n" +
		"  demo page: http://" + page + "/?proxy=ws://" + p + "/demo   (open it in a browser)\n" +
		"  proxy:     ws://" + p + "/   (any path; SocketX clients only)\n" +
		"  upstream:  ws://127.0.0.1:ECHO   (built-in echo)\n" +
		"  health:    curl http://" + p + "/health\n" +
		"  echo API:  curl 'http://" + p + "/api/socketx-echo?msg=test'\n" +
		"  metrics:   curl http://" + admin + "/metrics\n" +
		"\n" +
		"Connect with the Go client example:\n" +
		"  go run ./examples/echo -url ws://" + p + "/chat\n" +
		"\n" +
		"Stop with Ctrl-C (clients are closed with 1001 over DRAIN_TIMEOUT);\n" +
		"a second Ctrl-C stops at once.\n"
	got := regexp.MustCompile(`ws://127\.0\.0\.1:\d+   \(built-in echo\)`).ReplaceAllString(d.output(), "ws://127.0.0.1:ECHO   (built-in echo)")
	if got != want {
		// LOG_LEVEL is warn in the demo unless set: nothing else is printed
		// on a clean start.
		t.Fatalf("output:\n%q\nwant:\n%q", got, want)
	}
	resp, err := http.Get("http://" + page + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("demo page at DEMO_PAGE_LISTEN: %d", resp.StatusCode)
	}

	// Connected clients keep the drain going: the drain closes each at a
	// random moment within most of the 120 s.
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := client.Dial(ctx, "ws://"+p+"/chat", client.Options{})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(1000, "")
	}
	if err := d.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "/ready to answer 503 (the drain to begin)", 10*time.Second, func() bool {
		resp, err := http.Get("http://" + p + "/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	select {
	case err := <-d.exit:
		t.Fatalf("exited after the first Ctrl-C: %v; output:\n%s", err, d.output())
	default:
	}
	second := time.Now()
	if err := d.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.exit:
		if err != nil {
			t.Fatalf("exit: %v; output:\n%s", err, d.output())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("no exit 15 s after the second Ctrl-C; output:\n%s", d.output())
	}
	if !strings.Contains(d.output(), `"msg":"Second signal: stopping now","signal":"interrupt"`) {
		t.Errorf("no warning of the forced stop:\n%s", d.output())
	}
	t.Logf("stopped %v after the second Ctrl-C", time.Since(second))
}
