package mitm

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/socketx/socketx-server/client"
	"github.com/socketx/socketx-server/mte"
)

// TestParseMode: the command's -mode names, both ways.
func TestParseMode(t *testing.T) {
	for _, m := range []Mode{ModeStrip, ModeForge} {
		if got, err := ParseMode(m.String()); err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := ParseMode("Strip"); err == nil || err.Error() != `mitm: mode is strip or forge, not "Strip"` {
		t.Errorf("ParseMode(Strip): %v", err)
	}
	if s := Mode(7).String(); s != "Mode(7)" {
		t.Errorf("Mode(7) = %q", s)
	}
}

// TestValidate: Listen refuses a configuration it cannot run, with the
// reason, before it listens.
func TestValidate(t *testing.T) {
	ok := Config{Proxy: "ws://127.0.0.1:1", Strength: mte.StrengthXWing, Mode: ModeForge}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for want, c := range map[string]Config{
		"mitm: proxy URL is not ws:// or wss://":                 {Proxy: "http://127.0.0.1:1", Strength: mte.Strength512},
		"mitm: unknown key exchange " + mte.Strength(5).String(): {Proxy: "ws://127.0.0.1:1", Strength: 5},
		"mitm: unknown mode Mode(2)":                             {Proxy: "ws://127.0.0.1:1", Strength: mte.Strength512, Mode: 2},
	} {
		if r, err := Listen("127.0.0.1:0", c); r != nil || err == nil || err.Error() != want {
			t.Errorf("Listen(%+v) = %v, %v; want %q", c, r, err, want)
		}
	}
}

// TestProxyUnreachable: a fooled client whose pathname the relay read gets
// 1011 when the relay cannot reach the proxy, and the records say why.
func TestProxyUnreachable(t *testing.T) {
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "ws://" + dead.Addr().String()
	dead.Close() // nothing listens there now
	r, err := Listen("127.0.0.1:0", Config{Proxy: deadURL, Strength: mte.Strength512})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = client.Dial(ctx, r.URL()+"/a?b", client.Options{})
	var ce *client.CloseError
	if !errors.As(err, &ce) || ce.Code != 1011 || ce.Reason != "mitm: proxy unreachable" {
		t.Fatalf("Dial: %v, want close 1011 \"mitm: proxy unreachable\"", err)
	}
	r.Close() // waits for the connection's goroutine: its records are in
	recs := r.Records()
	if len(recs) != 3 || recs[0] != (Record{1, KindPair, ""}) || recs[1] != (Record{1, KindPathname, "/a?b"}) ||
		recs[2].Kind != KindEnd || !strings.HasPrefix(recs[2].Data, "proxy: ") {
		t.Fatalf("records %+v", recs)
	}
}

// TestCloseEndsConnections: Close ends a client connection that is
// waiting in the handshake, and returns.
func TestCloseEndsConnections(t *testing.T) {
	recs := make(chan Record, 4)
	r, err := Listen("127.0.0.1:0", Config{Proxy: "ws://127.0.0.1:1", Strength: mte.Strength512,
		OnRecord: func(rec Record) { recs <- rec }})
	if err != nil {
		t.Fatal(err)
	}
	nc, _, _, err := ws.Dial(context.Background(), r.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	r.Close()
	if rec := <-recs; rec != (Record{1, KindEnd, "relay closed"}) {
		t.Fatalf("record %+v", rec)
	}
}
