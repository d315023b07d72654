package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/socketx/socketx-server/engine"
	"github.com/socketx/socketx-server/internal/demopage"
	"github.com/socketx/socketx-server/internal/echoserver"
)

// Demo defaults: the proxy's port unless LISTEN_PORT is set, the page's
// address unless DEMO_PAGE_LISTEN is set.
const (
	demoPort     = 8080
	demoPageAddr = "127.0.0.1:8081"
)

const demoUsage = `usage: socketx demo [-port N] [-page HOST:PORT|off]

Runs the proxy on 127.0.0.1 (LISTEN_HOST changes it) in front of a built-in
echo upstream, and a demo web page that pairs through it with the browser
SDK. The rest of the configuration is serve's ('socketx serve --help'),
except DOMAIN_MAP, which the demo provides, and LOG_LEVEL, which is warn
unless set, so that the banner stays readable (logs go to stderr).

flags:
  -port N               public port of the proxy; default: $LISTEN_PORT, else 8080
  -page HOST:PORT|off   address of the demo web page, or off for none;
                        default: $DEMO_PAGE_LISTEN, else 127.0.0.1:8081

Stop with Ctrl-C: the proxy closes its clients with 1001 over DRAIN_TIMEOUT;
a second Ctrl-C stops at once.
`

// demo runs the proxy in front of a built-in echo upstream, configured by
// the same environment as serve except DOMAIN_MAP, which it provides.
func demo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // help and mistakes are printed below
	defPort := demoPort
	if v, err := strconv.Atoi(os.Getenv("LISTEN_PORT")); err == nil {
		defPort = v
	}
	defPage := demoPageAddr
	if v := strings.TrimSpace(os.Getenv("DEMO_PAGE_LISTEN")); v != "" {
		defPage = v
	}
	port := fs.Int("port", defPort, "")
	pageAddr := fs.String("page", defPage, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, demoUsage)
			return exitOK
		}
		problem := err.Error()
		if name, ok := strings.CutPrefix(problem, "flag provided but not defined: "); ok {
			problem = fmt.Sprintf("unknown flag %q", name)
		}
		return usageError(stderr, "socketx demo", problem)
	}
	if fs.NArg() == 1 && isHelp(fs.Arg(0)) {
		fmt.Fprint(stdout, demoUsage)
		return exitOK
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "socketx demo", argProblem(fs.Arg(0)))
	}
	echo, err := echoserver.Listen("127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(stderr, "demo: echo upstream:", err)
		return exitFailure
	}
	defer echo.Close()
	var page *http.Server
	var pageLn net.Listener
	if *pageAddr != "off" {
		if pageLn, err = net.Listen("tcp", *pageAddr); err != nil {
			fmt.Fprintln(stderr, "demo: page:", err)
			return exitFailure
		}
		page = &http.Server{Handler: demopage.Handler(), ReadHeaderTimeout: 5 * time.Second}
		defer page.Close()
	}
	domainMap := `{"*":{"upstream":"` + echo.URL() + `","allowedOrigins":["*"]}}`
	lookup := func(name string) (string, bool) {
		switch name {
		case "DOMAIN_MAP":
			return domainMap, true
		case "DOMAIN_MAP_BASE64", "DOMAIN_MAP_FILE":
			return "", false
		case "LISTEN_HOST":
			if v, ok := os.LookupEnv(name); ok {
				return v, true
			}
			return "127.0.0.1", true
		case "LISTEN_PORT":
			return strconv.Itoa(*port), true
		case "LOG_LEVEL":
			if v, ok := os.LookupEnv(name); ok && strings.TrimSpace(v) != "" {
				return v, true
			}
			return "warn", true
		}
		return os.LookupEnv(name)
	}
	return serve(lookup, hooks{ready: func(srv *engine.Server, admin net.Addr) {
		if page != nil {
			go func() { _ = page.Serve(pageLn) }()
		}
		// One write: a log line on stderr comes before or after the
		// banner, never inside it.
		_, _ = io.WriteString(stdout, demoBanner(srv.Addr(), echo.URL(), pageLn, admin))
	}})
}

// demoBanner is what the demo prints once the proxy listens.
func demoBanner(addr net.Addr, echoURL string, page net.Listener, admin net.Addr) string {
	var b strings.Builder
	b.WriteString("\nSocketX demo is running.\n")
	if page != nil {
		fmt.Fprintf(&b, "  demo page: http://%s/?proxy=ws://%s/demo   (open it in a browser)\n", page.Addr(), addr)
	}
	fmt.Fprintf(&b, `  proxy:     ws://%s/   (any path; SocketX clients only)
  upstream:  %s   (built-in echo)
  health:    curl http://%s/health
  echo API:  curl 'http://%s/api/socketx-echo?msg=test'
`, addr, echoURL, addr, addr)
	if admin != nil {
		fmt.Fprintf(&b, "  metrics:   curl http://%s/metrics\n", admin)
	}
	fmt.Fprintf(&b, `
Connect with the Go client example:
  go run ./examples/echo -url ws://%s/chat

Stop with Ctrl-C (clients are closed with 1001 over DRAIN_TIMEOUT);
a second Ctrl-C stops at once.
`, addr)
	return b.String()
}
