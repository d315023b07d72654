package client_test

import (
	"context"
	"fmt"
	"log"

	"github.com/socketx/socketx-server/client"
	"github.com/socketx/socketx-server/mte"
)

func Example() {
	ctx := context.Background()
	c, err := client.Dial(ctx, "wss://socketx.example.com/rooms/dogs?token=t", client.Options{
		Origin: "https://app.example.com",
	})
	if err != nil {
		log.Fatal(err) // *client.CloseError, *client.HandshakeError, ...
	}
	defer c.Close(1000, "bye")

	if err := c.Send(ctx, mte.TypeText, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	t, p, err := c.Receive(ctx) // p is valid until the next Receive
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t, string(p))
}
