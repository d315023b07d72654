// Command bench is the SocketX load generator (flags after websocket-bench):
//
//	bench -a 200 -c 0 -inflight 8 -s 1024 -d 15s ws://127.0.0.1:8080/
//	bench -plain -a 200 -inflight 8 -s 64 -d 15s ws://127.0.0.1:19002/
//	bench -hold -a 9000 -c 2000 -d 60s -w 2 -ready-file /tmp/held ws://127.0.0.1:8080/
//	bench -q -hold -d 0 -a 3000 -kex xwing -server-key "$(sed -n 's/^public key: //p' keygen.out)" ws://127.0.0.1:8080/
//
// It drives a SocketX proxy through the Go SDK (package client), or with
// -plain any plain WebSocket proxy or echo server, prints a progress line each
// second to stderr and a final table to stdout, and with -json writes the
// result (see loadgen.Result) to a file.
//
// With -w N it re-executes itself N times and splits the connections, so no
// process needs more than its open-file limit; it raises its own soft limit
// to the hard one. Exit status: 0 when every connection was established and
// no error occurred, 1 otherwise, 2 for bad flags.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/socketx/socketx-server/perf/loadgen"
)

func main() {
	raiseNoFile()
	if spec := os.Getenv(loadgen.WorkerEnv); spec != "" {
		if err := loadgen.ServeWorker(spec, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench worker:", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var cfg loadgen.Config
	fs.IntVar(&cfg.Conns, "a", 100, "total connections")
	fs.Float64Var(&cfg.Rate, "c", 0, "new connections per second (0 = as fast as -p allows)")
	fs.IntVar(&cfg.Parallel, "p", 64, "connection setups in flight at most")
	fs.IntVar(&cfg.Messages, "m", 0, "messages per connection (0 = until -d); with -hold: echo this many on each connection before holding it")
	fs.DurationVar(&cfg.Duration, "d", 10*time.Second, "sending (or -hold) time after all connections are set up")
	fs.IntVar(&cfg.Size, "s", 64, "message size in bytes")
	fs.IntVar(&cfg.Inflight, "inflight", 1, "messages in flight per connection")
	fs.BoolVar(&cfg.Text, "text", false, "send text messages (default binary)")
	cfg.Strength = 512
	fs.Var(loadgen.StrengthFlag{P: &cfg.Strength}, "strength", "SocketX key exchange: 512, 768, 1024, 0 for classical X25519, or xwing (must match MTE_KYBER_STRENGTH / MTE_KEY_EXCHANGE; names as MTE_KEY_EXCHANGE spells them are accepted too)")
	fs.Var(loadgen.StrengthFlag{P: &cfg.Strength}, "kex", "same as -strength")
	fs.StringVar(&cfg.ServerKey, "server-key", "", "pin the proxy (server authentication): the base64 public key socketx keygen printed for its MTE_SERVER_KEY_FILES / MTE_SERVER_KEYS")
	fs.IntVar(&cfg.KeyPool, "key-pool", 0, "SocketX: reuse N pre-generated client key pairs instead of generating two per connection (the proxy's work is unchanged; load tests only)")
	fs.BoolVar(&cfg.Plain, "plain", false, "target is a plain WebSocket proxy or echo server")
	fs.BoolVar(&cfg.Hold, "hold", false, "open the connections and hold them idle for -d (0: close as soon as all are set up)")
	fs.IntVar(&cfg.SrcIPs, "src-ips", 0, "bind source addresses 127.0.0.1..N round robin")
	fs.IntVar(&cfg.DstIPs, "dst-ips", 0, "connect to 127.0.0.1..N round robin (target must listen on them, e.g. 0.0.0.0)")
	fs.DurationVar(&cfg.Timeout, "timeout", 10*time.Second, "setup deadline per connection (TCP + upgrade + pairing + upstream)")
	fs.DurationVar(&cfg.Drain, "drain", 5*time.Second, "after -d, wait this long for messages in flight")
	workers := fs.Int("w", 1, "worker processes")
	jsonOut := fs.String("json", "", "write the result as JSON to this file")
	readyFile := fs.String("ready-file", "", "create this file once every connection is set up (for -hold)")
	quiet := fs.Bool("q", false, "no progress lines")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: bench [flags] ws://host:port/path")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	cfg.URL = fs.Arg(0)
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var prev loadgen.Progress
	hooks := loadgen.Hooks{
		DialDone: func() {
			if *readyFile != "" {
				if err := os.WriteFile(*readyFile, []byte("ready\n"), 0o644); err != nil {
					fmt.Fprintln(os.Stderr, "bench:", err)
				}
			}
		},
	}
	if !*quiet {
		hooks.Progress = func(p loadgen.Progress) {
			fmt.Fprintln(os.Stderr, loadgen.FormatProgress(p, prev, cfg.Conns))
			prev = p
		}
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	res, err := loadgen.RunWorkers(ctx, cfg, *workers, exe, hooks)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	res.WriteTable(os.Stdout)
	if *jsonOut != "" {
		b, err := json.Marshal(res)
		if err == nil {
			err = os.WriteFile(*jsonOut, append(b, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
	}
	if res.Failed > 0 || res.ErrorCount() > 0 {
		return 1
	}
	return 0
}

// raiseNoFile lifts the soft RLIMIT_NOFILE to the hard limit.
func raiseNoFile() {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
}
