// Command reconnect keeps a SocketX connection alive across proxy restarts:
// it sends a numbered message every second and prints the echoes and every
// reconnect. Stop and restart `go run ./cmd/socketx demo` while it runs to
// see it pair again (a new EEID) and send what was queued meanwhile.
//
//	go run ./examples/reconnect -url ws://127.0.0.1:8080/chat
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/socketx/socketx-server/client"
)

func main() {
	url := flag.String("url", "ws://127.0.0.1:8080/chat", "SocketX proxy URL (ws:// or wss://)")
	flag.Parse()

	// The context is the connection's lifetime: Ctrl-C ends it.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	r, err := client.DialReconnecting(ctx, *url, client.Options{}, client.ReconnectOptions{
		Events: client.Events{
			OnReconnecting: func(n int, err error) { log.Printf("reconnecting (attempt %d): %v", n, err) },
			OnReconnected:  func(eeid client.EEID) { log.Printf("paired again, eeid %s", eeid) },
			OnUndelivered: func(msgs []client.Message, err error) {
				log.Printf("%d messages never sent: %v", len(msgs), err)
			},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close(1000, "bye")
	log.Printf("paired, eeid %s", r.EEID())

	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for i := 1; ; i++ {
			select {
			case <-t.C:
			case <-r.Done():
				return
			}
			// Queued while disconnected; ErrQueueFull after 1024 waiting.
			if err := r.SendAsync(client.Text, fmt.Appendf(nil, "tick %d", i)); err != nil {
				log.Printf("tick %d not queued: %v", i, err)
			}
		}
	}()
	for m := range r.Messages(ctx) {
		fmt.Printf("echo %v: %s\n", m.Type, m.Data)
	}
	log.Printf("connection ended: %v", r.Err())
}
