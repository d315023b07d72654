// Command mitm runs a man-in-the-middle relay (package internal/mitm) for
// the Node and browser tests in e2e/:
//
//	mitm -proxy ws://127.0.0.1:PORT [-kex mlkem512] [-mode strip|forge]
//
// It listens on 127.0.0.1 (a free port), prints its ws:// URL as the first
// line of stdout, then one JSON line per record, {"conn":1,"kind":"pathname",
// "data":"/private"}, and runs until stdin closes or it gets SIGINT or
// SIGTERM. It prints the plaintext it reads: it is an attack for tests.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/socketx/socketx-server/internal/mitm"
	"github.com/socketx/socketx-server/mte"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// run parses args, starts the relay and writes its URL and records to
// stdout until stdin ends or a signal arrives.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mitm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	proxy := fs.String("proxy", "", "ws:// URL of the real proxy (required)")
	kex := fs.String("kex", "mlkem512", "key exchange of the proxy: "+mte.KeyExchangeNames())
	mode := fs.String("mode", "strip", "strip (answer without serverConfirm) or forge (a made-up serverConfirm)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg := mitm.Config{Proxy: *proxy}
	var err error
	if cfg.Strength, err = mte.ParseKeyExchange(*kex); err != nil {
		fmt.Fprintln(stderr, "mitm:", err)
		return 2
	}
	if cfg.Mode, err = mitm.ParseMode(*mode); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	enc := json.NewEncoder(stdout)
	cfg.OnRecord = func(rec mitm.Record) { enc.Encode(rec) } // serialised by the relay
	r, err := mitm.Listen("127.0.0.1:0", cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintln(stdout, r.URL())

	stop := make(chan struct{}, 2)
	go func() {
		io.Copy(io.Discard, stdin)
		stop <- struct{}{}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		stop <- struct{}{}
	}()
	<-stop
	r.Close()
	return 0
}
