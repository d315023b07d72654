package engine

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/socketx/socketx-server/internal/wstest"
	"github.com/socketx/socketx-server/mte"
)

func newServerKey(t *testing.T) *mte.ServerPrivateKey {
	t.Helper()
	k, err := mte.GenerateServerPrivateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// pinnedPairRequest is the pairRequest of a client pinning pin.
func pinnedPairRequest(t *testing.T, px *proxy, pin mte.ServerPublicKey) (*mte.Initiator, []byte) {
	t.Helper()
	in, err := mte.NewPinnedInitiator(px.profile, pin, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return in, in.Request()
}

// TestServerAuthMetrics: authenticated pairings are counted and logged
// with their key ID; an unknown key and malformed auth fields are
// rejections with their own reasons, not "pairing".
func TestServerAuthMetrics(t *testing.T) {
	key, other := newServerKey(t), newServerKey(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap("ws://127.0.0.1:1"), keys: []*mte.ServerPrivateKey{key}})
	hello := func() *wstest.Client {
		c := wstest.Dial(t, px.addr)
		c.Upgrade("/")
		c.Hello()
		return c
	}

	c := hello() // pinned to the proxy's key
	in, req := pinnedPairRequest(t, px, key.Public())
	c.SendHandshake(mte.ActionPairRequest, req)
	if err := in.Finish(c.ExpectHandshake(mte.ActionPairResponse), &c.Session); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	hello().Keys(px.profile) // unpinned: pairs, not authenticated

	c = hello() // pinned to a key the proxy does not hold
	_, req = pinnedPairRequest(t, px, other.Public())
	c.SendHandshake(mte.ActionPairRequest, req)
	c.ExpectClose(1008, "mte: unknown server key")

	c = hello() // serverKeyId without serverSecret
	_, req = pinnedPairRequest(t, px, key.Public())
	req = append(req[:bytes.Index(req, []byte(`,"serverSecret"`))], '}')
	c.SendHandshake(mte.ActionPairRequest, req)
	c.ExpectClose(1002, "mte: pairRequest has serverKeyId without serverSecret")

	m := px.srv.Metrics()
	if m.Paired != 2 || m.PairedAuthenticated != 1 {
		t.Errorf("Paired %d, PairedAuthenticated %d; want 2, 1", m.Paired, m.PairedAuthenticated)
	}
	if m.Rejected["unknown_server_key"] != 1 || m.Rejected["malformed_server_auth"] != 1 || m.Rejected["pairing"] != 0 {
		t.Errorf("Rejected %v", m.Rejected)
	}

	var auth, plain int
	for _, e := range px.logs.FilterMessage("Paired").All() {
		f := e.ContextMap()
		switch {
		case f["server_authenticated"] == true && f["server_key_id"] == key.ID().String():
			auth++
		case f["server_authenticated"] == false && f["server_key_id"] == nil:
			plain++
		default:
			t.Errorf("Paired fields %v", f)
		}
	}
	if auth != 1 || plain != 1 {
		t.Errorf("Paired lines: %d authenticated, %d not; want 1, 1", auth, plain)
	}
}
