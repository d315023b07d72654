package clientproxytest

import (
	"context"
	"testing"
	"time"

	"github.com/socketx/socketx-server/client"
	"github.com/socketx/socketx-server/mte"
)

// testCtx bounds a test: 60 s, so that a loaded CI machine (race detector,
// parallel packages) still fits proxy restarts, and nothing waits forever.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustDial(t *testing.T, ctx context.Context, url string, opts client.Options) *client.Conn {
	t.Helper()
	c, err := client.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close(1000, "") })
	return c
}

// kx is the KeyExchange of an mte strength.
func kx(st mte.Strength) client.KeyExchange { return client.KeyExchange(st.KeyExchange()) }
