package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/socketx/socketx-server/config"
)

// Help texts. Help asked for (-h, --help, help) goes to stdout and exits 0;
// a usage mistake prints one line and a hint on stderr and exits 2.

const usage = `usage: socketx <command> [arguments]

commands:
  serve          run the proxy (configured by environment variables)
  demo           run the proxy in front of a built-in echo upstream
  config check   validate the environment and print the effective configuration
  healthcheck    exit 0 when the local /health endpoint answers 200
  keygen FILE    write a server authentication key (0600) and print its public pin
  version        print the version
  help COMMAND   print a command's help

Run 'socketx COMMAND --help' for a command's help; 'socketx serve --help'
lists every environment variable with its default.
`

const serveUsage = `usage: socketx serve

Runs the proxy, configured by the environment variables below. SIGTERM or
SIGINT drains: clients get close 1001 spread over DRAIN_TIMEOUT, then the
process exits 0; a second signal stops at once. SIGHUP re-reads
DOMAIN_MAP_FILE. Bad configuration exits 2 with one line per problem;
'socketx config check' validates without starting.
`

const configUsage = `usage: socketx config <command>

commands:
  check   validate the environment and print the effective configuration

Run 'socketx config check --help' for its help.
`

const configCheckUsage = `usage: socketx config check

Reads the environment as 'socketx serve' does (its variables: 'socketx serve
--help'), DOMAIN_MAP included, without starting anything. Valid, it prints
"configuration is valid" and the effective configuration, secrets redacted,
and exits 0; otherwise one line per problem on stderr and exit 2.
`

const healthcheckUsage = `usage: socketx healthcheck

GETs http://LISTEN_HOST:LISTEN_PORT/health (127.0.0.1 when LISTEN_HOST is
unset, 0.0.0.0 or ::; port 8080 when LISTEN_PORT is unset) and exits 0 when
it answers 200, else 1. For images without a shell or curl (distroless).
`

const versionUsage = `usage: socketx version

Prints the version and the MTE profile this build speaks.
`

// envHelp lists config.Vars: each variable with its default (NAME=default;
// a name alone has no default) and its meaning on the next line.
func envHelp(w io.Writer) {
	fmt.Fprint(w, `
Environment (NAME=default; a name alone has none; durations take whole
seconds, 10, or a Go duration, 10s or 1m30s):
`)
	for _, v := range config.Vars {
		head := v.Name
		switch {
		case v.Platform:
			head += " (set by the platform)"
		case v.Default != "":
			head += "=" + v.Default
		}
		fmt.Fprintf(w, "  %s\n      %s\n", head, v.Help)
	}
}

// commandUsage is the help of each command (and config's subcommand) by
// its words; "" and "help" are the overview.
var commandUsage = map[string]string{
	"":             usage,
	"help":         usage,
	"serve":        serveUsage,
	"demo":         demoUsage,
	"config":       configUsage,
	"config check": configCheckUsage,
	"healthcheck":  healthcheckUsage,
	"keygen":       keygenUsage,
	"version":      versionUsage,
}

// subcommandHelp is the help of command (and its subcommand, for config),
// or false when there is no such command. serve's lists the variables.
func subcommandHelp(w io.Writer, args []string) bool {
	command := strings.Join(args, " ")
	u, ok := commandUsage[command]
	if !ok {
		return false
	}
	fmt.Fprint(w, u)
	if command == "serve" {
		envHelp(w)
	}
	return true
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// usageError prints a usage mistake of command ("socketx", "socketx
// serve", ...) as one line, then the hint, and returns exit code 2.
func usageError(stderr io.Writer, command, problem string) int {
	fmt.Fprintf(stderr, "%s: %s\nRun '%s --help' for usage.\n", command, problem, command)
	return exitBadConfig
}

// argProblem names what is wrong with an unexpected argument.
func argProblem(arg string) string {
	if strings.HasPrefix(arg, "-") {
		return fmt.Sprintf("unknown flag %q", arg)
	}
	return fmt.Sprintf("unexpected argument %q", arg)
}
