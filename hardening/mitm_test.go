package hardening

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socketx/socketx-server/client"
	"github.com/socketx/socketx-server/internal/mitm"
	"github.com/socketx/socketx-server/internal/testupstream"
	"github.com/socketx/socketx-server/mte"
)

// keygen runs `socketx keygen` for a key file in dir and parses the pin it
// printed.
func keygen(t *testing.T, dir, name string) (path string, pin client.ServerKey) {
	t.Helper()
	path = filepath.Join(dir, name)
	out, err := exec.Command(socketxBinary(t), "keygen", path).Output()
	if err != nil {
		t.Fatalf("socketx keygen: %v", err)
	}
	_, b64, ok := strings.Cut(string(out), "\npublic key: ")
	if !ok {
		t.Fatalf("socketx keygen printed %q", out)
	}
	if pin, err = client.ParseServerKey(b64); err != nil {
		t.Fatal(err)
	}
	return path, pin
}

// startRelay runs a man in the middle in front of proxyURL; its records
// arrive on the returned channel.
func startRelay(t *testing.T, proxyURL string, st mte.Strength, mode mitm.Mode) (*mitm.Relay, <-chan mitm.Record) {
	t.Helper()
	recs := make(chan mitm.Record, 64)
	r, err := mitm.Listen("127.0.0.1:0", mitm.Config{Proxy: proxyURL, Strength: st, Mode: mode,
		OnRecord: func(rec mitm.Record) { recs <- rec }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, recs
}

// relayConn returns the records of the relay's next client connection, up
// to and including its KindEnd record.
func relayConn(t *testing.T, recs <-chan mitm.Record) []mitm.Record {
	t.Helper()
	var got []mitm.Record
	timeout := time.After(20 * time.Second)
	for {
		select {
		case rec := <-recs:
			got = append(got, rec)
			if rec.Kind == mitm.KindEnd {
				return got
			}
		case <-timeout:
			t.Fatalf("the relay's connection did not end; records so far %+v", got)
		}
	}
}

func sameRecords(got, want []mitm.Record) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// echoOnce sends msg and expects it back.
func echoOnce(t *testing.T, ctx context.Context, c *client.Conn, msg string) {
	t.Helper()
	if err := c.Send(ctx, mte.TypeText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.Receive(ctx); err != nil || string(got) != msg {
		t.Fatalf("echo %q: %q, %v", msg, got, err)
	}
}

// upstreamGot takes the next message the upstream received; a client
// receives its echo only after the upstream delivered it, so it is there.
func upstreamGot(t *testing.T, got <-chan testupstream.Message) string {
	t.Helper()
	select {
	case m := <-got:
		return string(m.Data)
	default:
		t.Fatal("the upstream received no message")
		return ""
	}
}

// TestMITM: a man in the middle (internal/mitm) between Go clients and the
// real binary, which holds a key made by `socketx keygen`. An unpinned
// client is fooled: the relay reads the pathname and the message and the
// upstream gets them. A client pinned to the key refuses the relay with
// *client.ServerAuthError, "unsupported" when the relay leaves out
// serverConfirm and a mismatch when it makes one up, before action 4: the
// relay reads nothing, never dials the proxy, and the upstream sees
// exactly the connections and messages of the other clients.
func TestMITM(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	keyFile, pin := keygen(t, t.TempDir(), "server.key")
	got := make(chan testupstream.Message, 64)
	echo := testupstream.NewEcho(t, testupstream.WithMessages(got))
	const path, secret = "/private?account=7", "card 4111 1111 1111 1111"
	wantUpstream := 0 // connections the upstream must have seen
	for _, st := range []mte.Strength{mte.Strength512, mte.Strength768, mte.StrengthXWing} {
		p := startSocketx(t, `DOMAIN_MAP={"*":{"upstream":"`+echo.URL+`","allowedOrigins":["*"]}}`,
			"LOG_LEVEL=warn", "MTE_KEY_EXCHANGE="+st.KeyExchange(), "MTE_SERVER_KEY_FILES="+keyFile)
		proxyURL := p.URL("")

		// Unpinned: fooled.
		relay, recs := startRelay(t, proxyURL, st, mitm.ModeStrip)
		c, err := client.Dial(ctx, relay.URL()+path, client.Options{KeyExchange: client.KeyExchange(st.KeyExchange())})
		if err != nil {
			t.Fatalf("%v: unpinned client through the relay: %v", st, err)
		}
		echoOnce(t, ctx, c, secret)
		c.Close(1000, "")
		saw := relayConn(t, recs)
		want := []mitm.Record{{Conn: 1, Kind: mitm.KindPair}, {Conn: 1, Kind: mitm.KindPathname, Data: path},
			{Conn: 1, Kind: mitm.KindText, Data: secret}, {Conn: 1, Kind: mitm.KindEnd, Data: "client closed 1000"}}
		if !sameRecords(saw, want) {
			t.Fatalf("%v: relay records %+v, want %+v", st, saw, want)
		}
		t.Logf("%v: an unpinned client is fooled: the man in the middle read the pathname %q and the message %q", st, saw[1].Data, saw[2].Data)
		wantUpstream++
		if m := upstreamGot(t, got); m != secret {
			t.Fatalf("%v: upstream got %q", st, m)
		}
		if reqs := echo.Requests(); len(reqs) != wantUpstream || reqs[wantUpstream-1].RequestURI != path {
			t.Fatalf("%v: upstream requests %+v", st, reqs)
		}

		// Pinned: refused, whichever way the relay answers.
		for _, mode := range []mitm.Mode{mitm.ModeStrip, mitm.ModeForge} {
			relay, recs := startRelay(t, proxyURL, st, mode)
			_, err := client.Dial(ctx, relay.URL()+path, client.Options{KeyExchange: client.KeyExchange(st.KeyExchange()), ServerKeys: []client.ServerKey{pin}})
			var ae *client.ServerAuthError
			if !errors.As(err, &ae) || !errors.Is(err, client.ErrServerNotAuthenticated) || ae.KeyID != pin.ID() {
				t.Fatalf("%v %v: pinned client through the relay: %v", st, mode, err)
			}
			wantErr := mte.ErrServerAuthUnsupported
			if mode == mitm.ModeForge {
				wantErr = mte.ErrServerAuthMismatch
			}
			if ae.Unsupported != (mode == mitm.ModeStrip) || !errors.Is(err, wantErr) {
				t.Fatalf("%v %v: %v (Unsupported %v), want %v", st, mode, err, ae.Unsupported, wantErr)
			}
			if client.DefaultShouldReconnect(err) {
				t.Fatalf("%v %v: a ServerAuthError is retried", st, mode)
			}
			saw := relayConn(t, recs)
			want := []mitm.Record{{Conn: 1, Kind: mitm.KindPair, Data: pin.ID().String()},
				{Conn: 1, Kind: mitm.KindEnd, Data: "client closed 1008 mte: server not authenticated"}}
			if !sameRecords(saw, want) {
				t.Fatalf("%v %v: relay records %+v, want %+v", st, mode, saw, want)
			}
			t.Logf("%v %v: a pinned client refused the man in the middle: %v", st, mode, err)
		}

		// The same pinned client pairs with the real proxy directly.
		c, err = client.Dial(ctx, proxyURL+"/direct", client.Options{KeyExchange: client.KeyExchange(st.KeyExchange()), ServerKeys: []client.ServerKey{pin}})
		if err != nil {
			t.Fatalf("%v: pinned client, direct: %v", st, err)
		}
		echoOnce(t, ctx, c, "direct")
		c.Close(1000, "")
		wantUpstream++
		if m := upstreamGot(t, got); m != "direct" {
			t.Fatalf("%v: upstream got %q, want the direct client's message", st, m)
		}
	}
	if reqs := echo.Requests(); len(reqs) != wantUpstream {
		t.Fatalf("upstream saw %d connections, want %d", len(reqs), wantUpstream)
	}
	select {
	case m := <-got:
		t.Fatalf("upstream got an extra message %q", m.Data)
	default:
	}
}

// TestServerKeyRotation: the real binary serving an old and a new key
// (two `socketx keygen` files) pairs clients pinned to old, new and both;
// restarted with only the new key, it refuses the client pinned to the old
// key only (1008 "mte: unknown server key", not retried) and pairs the
// others.
func TestServerKeyRotation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	oldFile, oldPin := keygen(t, dir, "old.key")
	newFile, newPin := keygen(t, dir, "new.key")
	echo := testupstream.NewEcho(t)
	dm := `DOMAIN_MAP={"*":{"upstream":"` + echo.URL + `","allowedOrigins":["*"]}}`
	pins := []struct {
		name string
		keys []client.ServerKey
	}{
		{"old", []client.ServerKey{oldPin}},
		{"new", []client.ServerKey{newPin}},
		{"new+old", []client.ServerKey{newPin, oldPin}},
		{"old+new", []client.ServerKey{oldPin, newPin}},
	}
	both := startSocketx(t, dm, "LOG_LEVEL=warn", "MTE_SERVER_KEY_FILES="+oldFile+","+newFile)
	for _, p := range pins {
		c, err := client.Dial(ctx, both.URL("/"), client.Options{ServerKeys: p.keys})
		if err != nil {
			t.Fatalf("proxy with old and new keys, client pinned to %s: %v", p.name, err)
		}
		echoOnce(t, ctx, c, p.name)
		c.Close(1000, "")
	}
	both.Cmd.Process.Kill()
	<-both.Exit

	only := startSocketx(t, dm, "LOG_LEVEL=warn", "MTE_SERVER_KEY_FILES="+newFile)
	for _, p := range pins {
		c, err := client.Dial(ctx, only.URL("/"), client.Options{ServerKeys: p.keys})
		if p.name == "old" {
			var ce *client.CloseError
			if !errors.As(err, &ce) || ce.Code != 1008 || ce.Reason != "mte: unknown server key" {
				t.Fatalf("new-only proxy, client pinned to old: %v, want close 1008 \"mte: unknown server key\"", err)
			}
			if client.DefaultShouldReconnect(err) {
				t.Fatal("an unknown server key is retried")
			}
			continue
		}
		if err != nil {
			t.Fatalf("new-only proxy, client pinned to %s: %v", p.name, err)
		}
		echoOnce(t, ctx, c, p.name)
		c.Close(1000, "")
	}
}
