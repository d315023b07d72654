// Command socketx runs the SocketX proxy.
//
//	socketx serve          run the proxy from environment variables
//	socketx demo           run the proxy with a built-in echo upstream
//	socketx config check   validate the environment, print the redacted config
//	socketx healthcheck    exit 0 when /health answers (for distroless images)
//	socketx keygen FILE    write a server authentication key, print its pin
//	socketx version        print the version
//
// Each command's help (socketx COMMAND --help; socketx serve --help lists
// every environment variable) goes to stdout with exit 0; a usage mistake
// exits 2 with one line and a hint on stderr.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a command line. Help goes to stdout with exit 0; a usage
// mistake is one line and a hint on stderr with exit 2 (see help.go).
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitBadConfig
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve", "healthcheck", "version": // no arguments
		if len(rest) == 1 && isHelp(rest[0]) {
			subcommandHelp(stdout, []string{cmd})
			return exitOK
		}
		if len(rest) > 0 {
			return usageError(stderr, "socketx "+cmd, argProblem(rest[0]))
		}
		switch cmd {
		case "serve":
			return serve(os.LookupEnv, hooks{})
		case "healthcheck":
			return healthcheck(os.LookupEnv)
		}
		fmt.Fprintf(stdout, "socketx %s (mte profile %s)\n", version, mteVersion)
		return exitOK
	case "demo":
		return demo(rest, stdout, stderr)
	case "config":
		return configCommand(rest, stdout, stderr)
	case "keygen":
		return keygen(rest, stdout, stderr)
	case "--version", "-v":
		return run([]string{"version"}, stdout, stderr)
	case "help", "-h", "-help", "--help":
		if !subcommandHelp(stdout, rest) {
			return usageError(stderr, "socketx", fmt.Sprintf("help: unknown command %q", strings.Join(rest, " ")))
		}
		return exitOK
	}
	if strings.HasPrefix(cmd, "-") {
		return usageError(stderr, "socketx", fmt.Sprintf("unknown flag %q", cmd))
	}
	return usageError(stderr, "socketx", fmt.Sprintf("unknown command %q", cmd))
}

// configCommand runs `socketx config ...`: alone or with help it lists
// its subcommands.
func configCommand(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0 || len(args) == 1 && isHelp(args[0]):
		fmt.Fprint(stdout, configUsage)
		return exitOK
	case args[0] != "check" && strings.HasPrefix(args[0], "-"):
		return usageError(stderr, "socketx config", fmt.Sprintf("unknown flag %q", args[0]))
	case args[0] != "check":
		return usageError(stderr, "socketx config", fmt.Sprintf("unknown command %q", args[0]))
	case len(args) == 2 && isHelp(args[1]):
		fmt.Fprint(stdout, configCheckUsage)
		return exitOK
	case len(args) > 1:
		return usageError(stderr, "socketx config check", argProblem(args[1]))
	}
	return configCheck(os.LookupEnv)
}
