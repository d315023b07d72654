package main

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/socketx/socketx-server/client"
)

func main() {
	ctx := context.Background() // the connection lives until ctx ends or Close
	// KeyExchange is the proxy's MTE_KEY_EXCHANGE (default mlkem512).
	opts := client.Options{KeyExchange: client.MLKEM512}
	c, err := client.DialReconnecting(ctx, "ws://127.0.0.1:8080/chat", opts, client.ReconnectOptions{})
	if errors.Is(err, client.ErrOriginNotAllowed) { // HTTP 403: see DOMAIN_MAP's allowedOrigins
		log.Fatal(err)
	}
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(1000, "bye")
	if err := c.Send(ctx, client.Text, []byte("hello")); err != nil { // nil = written to the socket
		log.Fatal(err)
	}
	_, reply, err := c.Receive(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", reply)
}
