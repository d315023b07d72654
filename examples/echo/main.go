// Command echo dials a SocketX proxy, sends "hello" as text and three bytes
// as binary, and prints what comes back (through an echoing upstream).
//
//	go run ./examples/echo -url ws://localhost:8080/echo
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/socketx/socketx-server/client"
	"github.com/socketx/socketx-server/mte"
)

func main() {
	url := flag.String("url", "ws://localhost:8080/", "SocketX proxy URL (ws:// or wss://)")
	strength := flag.Int("strength", 512, "key exchange: 512, 768, 1024 (0 = classical X25519)")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := client.Options{Strength: mte.Strength(*strength), Classical: *strength == 0}
	c, err := client.Dial(ctx, *url, opts)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(1000, "done")
	fmt.Printf("paired with %s, eeid %s\n", c.RemoteAddr(), c.EEID())

	for _, m := range []struct {
		t mte.MessageType
		p []byte
	}{{mte.TypeText, []byte("hello")}, {mte.TypeBinary, []byte{1, 2, 3}}} {
		if err := c.Send(ctx, m.t, m.p); err != nil {
			log.Fatal(err)
		}
		t, p, err := c.Receive(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("echo %v: %q\n", t, p)
	}
}
