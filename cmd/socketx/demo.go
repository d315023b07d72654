package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/socketx/socketx-server/engine"
	"github.com/socketx/socketx-server/internal/demopage"
	"github.com/socketx/socketx-server/internal/echoserver"
)

// demo runs the proxy in front of a built-in echo upstream, configured by
// the same environment as serve except DOMAIN_MAP, which it provides.
func demo(args []string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	defPort := 8080
	if v, err := strconv.Atoi(os.Getenv("LISTEN_PORT")); err == nil {
		defPort = v
	}
	port := fs.Int("port", defPort, "public port of the proxy (default $LISTEN_PORT or 8080)")
	pageAddr := fs.String("page", "127.0.0.1:8081", "address of the demo web page (the browser SDK); off to disable")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	echo, err := echoserver.Listen("127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo: echo upstream:", err)
		return 1
	}
	defer echo.Close()
	var page *http.Server
	var pageLn net.Listener
	if *pageAddr != "off" {
		if pageLn, err = net.Listen("tcp", *pageAddr); err != nil {
			fmt.Fprintln(os.Stderr, "demo: page:", err)
			return 1
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
		}
		return os.LookupEnv(name)
	}
	return serve(lookup, hooks{ready: func(srv *engine.Server, admin net.Addr) {
		addr := srv.Addr()
		fmt.Printf("\nSocketX demo is running.\n")
		if page != nil {
			go func() { _ = page.Serve(pageLn) }()
			fmt.Printf("  demo page: http://%s/?proxy=ws://%s/demo   (open it in a browser)\n", pageLn.Addr(), addr)
		}
		fmt.Printf(`  proxy:     ws://%s/   (any path; SocketX clients only)
  upstream:  %s   (built-in echo)
  health:    curl http://%s/health
  echo API:  curl 'http://%s/api/socketx-echo?msg=test'

Connect with the Go client example:
  go run ./examples/echo -url ws://%s/chat

Stop with Ctrl-C.
`, addr, echo.URL(), addr, addr, addr)
		if admin != nil {
			fmt.Printf("Metrics: curl http://%s/metrics\n", admin)
		}
	}})
}
