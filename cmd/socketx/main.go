// Command socketx runs the SocketX proxy.
//
//	socketx serve          run the proxy from environment variables
//	socketx demo           run the proxy with a built-in echo upstream
//	socketx config check   validate the environment, print the redacted config
//	socketx healthcheck    exit 0 when /health answers (for distroless images)
//	socketx keygen FILE    write a server authentication key, print its pin
//	socketx version        print the version
package main

import (
	"fmt"
	"os"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage: socketx <command>

commands:
  serve          run the proxy (configured by environment variables)
  demo           run the proxy in front of a built-in echo upstream
  config check   validate the environment and print the effective configuration
  healthcheck    exit 0 when the local /health endpoint answers 200
  keygen FILE    write a server authentication key (0600) and print its public pin
  version        print the version
`

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(os.LookupEnv, hooks{})
	case "demo":
		return demo(args[1:])
	case "config":
		if len(args) == 2 && args[1] == "check" {
			return configCheck(os.LookupEnv)
		}
	case "healthcheck":
		return healthcheck(os.LookupEnv)
	case "keygen":
		return keygen(args[1:], os.Stdout, os.Stderr)
	case "version", "--version", "-v":
		fmt.Printf("socketx %s (mte profile %s)\n", version, mteVersion)
		return 0
	case "help", "-h", "--help":
		fmt.Print(usage)
		return 0
	}
	fmt.Fprintf(os.Stderr, "socketx: unknown command %q\n%s", args[0], usage)
	return 2
}
