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
)

func main() {
	url := flag.String("url", "ws://localhost:8080/", "SocketX proxy URL (ws:// or wss://)")
	kex := flag.String("kex", "mlkem512", "key exchange, as the proxy's MTE_KEY_EXCHANGE or MTE_KYBER_STRENGTH: x25519 (0), mlkem512 (512), mlkem768 (768), mlkem1024 (1024) or xwing")
	flag.Parse()
	kx, err := client.ParseKeyExchange(*kex)
	if err != nil {
		log.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, *url, client.Options{KeyExchange: kx})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(1000, "done")
	fmt.Printf("paired with %s, eeid %s\n", c.RemoteAddr(), c.EEID())

	for _, m := range []struct {
		t client.MessageType
		p []byte
	}{{client.Text, []byte("hello")}, {client.Binary, []byte{1, 2, 3}}} {
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
