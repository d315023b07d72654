package main

import (
	"context"
	"fmt"
	"log"

	"github.com/socketx/socketx-server/client"
	"github.com/socketx/socketx-server/mte"
)

func main() {
	ctx := context.Background() // the connection lives until ctx ends or Close
	c, err := client.DialReconnecting(ctx, "ws://127.0.0.1:8080/chat", client.Options{}, client.ReconnectOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(1000, "bye")
	if err := c.Send(ctx, mte.TypeText, []byte("hello")); err != nil { // nil = written to the socket
		log.Fatal(err)
	}
	_, reply, err := c.Receive(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", reply)
}
