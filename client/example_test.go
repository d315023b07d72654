package client_test

import (
	"context"
	"fmt"
	"log"

	"github.com/socketx/socketx-server/client"
)

func Example() {
	ctx := context.Background()
	c, err := client.Dial(ctx, "wss://socketx.example.com/rooms/dogs?token=t", client.Options{
		Origin: "https://app.example.com",
	})
	if err != nil {
		log.Fatal(err) // *client.UpgradeError, *client.CloseError, ...
	}
	defer c.Close(1000, "bye")

	if err := c.Send(ctx, client.Text, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	t, p, err := c.Receive(ctx) // p is valid until the next Receive
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t, string(p))
}

func ExampleDialReconnecting() {
	ctx := context.Background() // the connection lives until ctx ends or Close
	r, err := client.DialReconnecting(ctx, "wss://socketx.example.com/feed", client.Options{},
		client.ReconnectOptions{Events: client.Events{
			OnReconnected: func(eeid client.EEID) { log.Printf("paired again: %s", eeid) },
			OnUndelivered: func(msgs []client.Message, err error) { log.Printf("%d not sent: %v", len(msgs), err) },
		}})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close(1000, "bye")
	if err := r.SendAsync(client.Text, []byte("subscribe")); err != nil { // queued across reconnects
		log.Fatal(err)
	}
	for m := range r.Messages(ctx) {
		fmt.Printf("%v %s\n", m.Type, m.Data)
	}
	log.Print(r.Err()) // why the connection ended
}
