// Command echo is the benchmark WebSocket echo upstream: a gnet event-loop
// server (package perf/wsecho) that echoes text and binary frames unchanged
// and answers pings. It is built so that it is not the bottleneck of a proxy
// benchmark.
//
//	go run ./perf/echo -addr 127.0.0.1:19001
//
// It raises its open-file soft limit to the hard limit, prints
// "listening on <addr>" once bound, and stops on SIGTERM or SIGINT,
// printing its counters.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/socketx/socketx-server/perf/wsecho"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:19001", "listen address (host:port)")
	loops := flag.Int("loops", 0, "event loops (0 = one per CPU)")
	maxPayload := flag.Int64("max-payload", 16<<20, "largest frame payload accepted")
	flag.Parse()

	raiseNoFile()
	srv := wsecho.New(wsecho.Config{Addr: *addr, Loops: *loops, MaxPayload: *maxPayload})
	done := make(chan error, 1)
	go func() { done <- srv.Run() }()
	select {
	case <-srv.Ready():
	case err := <-done:
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
	fmt.Println("listening on", srv.Addr())

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-sigs:
	case err := <-done:
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Stop(ctx)
	st := srv.Stats()
	fmt.Printf("accepted=%d upgraded=%d closed=%d frames=%d bytes=%d\n",
		st.Accepted, st.Upgraded, st.Closed, st.Frames, st.Bytes)
}

// raiseNoFile lifts the soft RLIMIT_NOFILE to the hard limit.
func raiseNoFile() {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
}
