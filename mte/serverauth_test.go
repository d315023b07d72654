package mte

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// testServerKey derives a server key from a labelled stream.
func testServerKey(t testing.TB, label string) *ServerPrivateKey {
	t.Helper()
	k, err := GenerateServerPrivateKey(detReader("server key " + label))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// pinnedPair runs an authenticated pairing: the client pins pin, the
// server holds keys. It returns the sessions and the error of Respond or
// Finish.
func pinnedPair(t testing.TB, st Strength, pin ServerPublicKey, keys ...*ServerPrivateKey) (cs, ss *Session, resp []byte, err error) {
	t.Helper()
	sp := mustProfile(t, Params{Strength: st, ServerKeys: keys})
	cp := mustProfile(t, Params{Strength: st})
	in, err := NewPinnedInitiator(cp, pin, detReader("pinned client"))
	if err != nil {
		t.Fatal(err)
	}
	ss, cs = new(Session), new(Session)
	if resp, err = ss.Respond(sp, in.Request(), detReader("pinned server"), nil); err != nil {
		return cs, ss, resp, err
	}
	return cs, ss, resp, in.Finish(resp, cs)
}

// TestServerAuthPairs: a pinned client pairs with a server holding the
// key, for every ephemeral exchange, and both directions then work.
func TestServerAuthPairs(t *testing.T) {
	old, cur := testServerKey(t, "old"), testServerKey(t, "new")
	for _, st := range allStrengths {
		t.Run(st.String(), func(t *testing.T) {
			cs, ss, resp, err := pinnedPair(t, st, cur.Public(), old, cur)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(resp, []byte(`","serverConfirm":"`)) || cs.EEID() != ss.EEID() {
				t.Fatalf("response %s", resp)
			}
			if id, ok := ss.ServerKey(); !ok || id != cur.ID() {
				t.Fatalf("ServerKey() = %v, %v; want %v", id, ok, cur.ID())
			}
			_, pt, err := ss.Open(seal(t, cs, ActionUpstreamRequest, TypeHandshake, []byte(`{"pathname":"/"}`)))
			if err != nil || string(pt) != `{"pathname":"/"}` {
				t.Fatalf("c2s: %v", err)
			}
			_, pt, err = cs.Open(seal(t, ss, ActionProxyData, TypeText, []byte("hi")))
			if err != nil || string(pt) != "hi" {
				t.Fatalf("s2c: %v", err)
			}
		})
	}
}

// TestServerAuthKeysDiffer: the authenticated key schedule differs from
// the unauthenticated one for the same ephemeral exchange.
func TestServerAuthKeysDiffer(t *testing.T) {
	k := testServerKey(t, "k")
	p := mustProfile(t, Params{Strength: Strength512})
	in, _ := NewPinnedInitiator(p, k.Public(), detReader("c"))
	var auth, plain Session
	if _, err := auth.Respond(mustProfile(t, Params{Strength: Strength512, ServerKeys: []*ServerPrivateKey{k}}), in.Request(), detReader("s"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Respond(p, in.Request(), detReader("s"), nil); err != nil { // keyless: fields ignored
		t.Fatal(err)
	}
	if auth.enc.ck == plain.enc.ck || auth.dec.ck == plain.dec.ck {
		t.Fatal("server key did not enter the key schedule")
	}
}

func TestServerAuthRefusals(t *testing.T) {
	old, cur := testServerKey(t, "old"), testServerKey(t, "new")
	// Server with only the new key: the old-pinned client is refused.
	_, ss, resp, err := pinnedPair(t, Strength768, old.Public(), cur)
	if !errors.Is(err, ErrUnknownServerKey) || ss.Paired() || len(resp) != 0 {
		t.Fatalf("unknown key: %v", err)
	}
	if code, reason := CloseCode(err); code != 1008 || reason != "mte: unknown server key" {
		t.Fatalf("close %d %q", code, reason)
	}
	// A server without keys answers without serverConfirm: unsupported.
	cs, _, _, err := pinnedPair(t, Strength768, cur.Public())
	if !errors.Is(err, ErrServerAuthUnsupported) || errors.Is(err, ErrServerAuthMismatch) || cs.Paired() {
		t.Fatalf("unsupported: %v", err)
	}
	if code, reason := CloseCode(err); code != 1008 || reason != "mte: server not authenticated" {
		t.Fatalf("close %d %q", code, reason)
	}
	// An unpinned client pairs with a server that has keys, as today.
	cp := mustProfile(t, Params{Strength: Strength768})
	sp := mustProfile(t, Params{Strength: Strength768, ServerKeys: []*ServerPrivateKey{cur}})
	c, s := pair(t, sp, cp, "unpinned")
	if !c.Paired() || !s.Paired() {
		t.Fatal("unpinned")
	}
	if _, ok := s.ServerKey(); ok {
		t.Fatal("an unpinned pairing reports a server key")
	}
}

// TestServerAuthMismatch: every change to the pairResponse, and a server
// that answers with another key, gives ErrServerAuthMismatch.
func TestServerAuthMismatch(t *testing.T) {
	k := testServerKey(t, "k")
	p := mustProfile(t, Params{Strength: Strength512})
	sp := mustProfile(t, Params{Strength: Strength512, ServerKeys: []*ServerPrivateKey{k}})
	in, _ := NewPinnedInitiator(p, k.Public(), detReader("c"))
	var ss Session
	resp, err := ss.Respond(sp, in.Request(), detReader("s"), nil)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(resp, []byte(`"serverConfirm":"`)) + len(`"serverConfirm":"`)
	confirm, _ := base64.StdEncoding.DecodeString(string(resp[i : i+44]))
	for bit := 0; bit < 8*len(confirm); bit += 37 {
		c := bytes.Clone(confirm)
		c[bit/8] ^= 1 << (bit % 8)
		bad := append(append(bytes.Clone(resp[:i]), base64.StdEncoding.EncodeToString(c)...), resp[i+44:]...)
		var cs Session
		if err := in.Finish(bad, &cs); !errors.Is(err, ErrServerAuthMismatch) || cs.Paired() {
			t.Fatalf("bit %d: %v", bit, err)
		}
	}
	// A changed nonce (transcript) also fails the confirmation.
	j := bytes.Index(resp, []byte(`"encoderNonce":"`)) + len(`"encoderNonce":"`)
	j += bytes.IndexByte(resp[j:], '"') - 1 // last digit
	bad := bytes.Clone(resp)
	bad[j] = '0' + (bad[j]-'0'+1)%10
	var cs Session
	if err := in.Finish(bad, &cs); !errors.Is(err, ErrServerAuthMismatch) {
		t.Fatalf("nonce: %v", err)
	}
	// Malformed confirmations are mismatches too.
	for _, v := range []string{"", "AAAA", strings.Repeat("A", 43) + "!", base64.StdEncoding.EncodeToString(make([]byte, 33))} {
		bad := append(append(bytes.Clone(resp[:i]), v...), resp[i+44:]...)
		if err := in.Finish(bad, &cs); !errors.Is(err, ErrServerAuthMismatch) || !errors.Is(err, ErrBadPairResponse) {
			t.Fatalf("%q: %v", v, err)
		}
	}
	if err := in.Finish(resp, &cs); err != nil {
		t.Fatalf("original: %v", err)
	}
	// An unpinned client refuses an unsolicited serverConfirm.
	un, _ := NewInitiator(p, detReader("c"))
	var us Session
	resp2, _ := us.Respond(sp, un.Request(), detReader("s"), nil)
	resp2 = appendServerConfirm(resp2, make([]byte, 32))
	if err := un.Finish(resp2, &cs); !errors.Is(err, ErrBadPairResponse) {
		t.Fatalf("unsolicited: %v", err)
	}
}

// TestServerAuthRequestFields: strict parsing of serverKeyId and
// serverSecret (1002 with a precise reason).
func TestServerAuthRequestFields(t *testing.T) {
	k := testServerKey(t, "k")
	p := mustProfile(t, Params{Strength: Strength512})
	sp := mustProfile(t, Params{Strength: Strength512, ServerKeys: []*ServerPrivateKey{k}})
	in, _ := NewPinnedInitiator(p, k.Public(), detReader("c"))
	req := string(in.Request())
	id := k.ID().String()
	secret := req[strings.Index(req, `"serverSecret":"`)+len(`"serverSecret":"`) : len(req)-2]
	base := req[:strings.Index(req, `,"serverKeyId"`)]
	for _, c := range []struct {
		tail, want string
		auth       bool // ErrBadServerAuth: the engine counts it as malformed_server_auth
	}{
		{`,"serverKeyId":"` + id + `"}`, "mte: pairRequest has serverKeyId without serverSecret", true},
		{`,"serverSecret":"` + secret + `"}`, "mte: pairRequest has serverSecret without serverKeyId", true},
		{`,"serverKeyId":"` + strings.ToUpper(id) + `","serverSecret":"` + secret + `"}`, "mte: serverKeyId is not 16 lowercase hex digits", true},
		{`,"serverKeyId":"` + id[:15] + `","serverSecret":"` + secret + `"}`, "mte: serverKeyId is not 16 lowercase hex digits", true},
		{`,"serverKeyId":1,"serverSecret":"` + secret + `"}`, "mte: pairRequest field serverKeyId is not a string", false},
		{`,"serverKeyId":"` + id + `","serverKeyId":"` + id + `","serverSecret":"` + secret + `"}`, "mte: pairRequest has duplicate field serverKeyId", false},
		{`,"serverKeyId":"` + id + `","serverSecret":"` + secret[4:] + `"}`, "mte: serverSecret is 1085 bytes, want 1088 for ML-KEM-768", true},
		{`,"serverKeyId":"` + id + `","serverSecret":"` + secret[:40] + "\\n" + secret[40:] + `"}`, "mte: serverSecret is not standard padded base64", true},
	} {
		var s Session
		_, err := s.Respond(sp, []byte(base+c.tail), detReader("s"), nil)
		if !errors.Is(err, ErrBadPairRequest) || err.Error() != c.want {
			t.Errorf("%s: %v, want %q", c.tail[:min(40, len(c.tail))], err, c.want)
		}
		if errors.Is(err, ErrBadServerAuth) != c.auth {
			t.Errorf("%s: ErrBadServerAuth %v, want %v", c.tail[:min(40, len(c.tail))], errors.Is(err, ErrBadServerAuth), c.auth)
		}
		if code, _ := CloseCode(err); code != 1002 {
			t.Errorf("code %d", code)
		}
	}
	// Field order is free.
	var s Session
	reordered := `{"serverSecret":"` + secret + `","serverKeyId":"` + id + `",` + base[1:] + `}`
	if _, err := s.Respond(sp, []byte(reordered), detReader("s"), nil); err != nil {
		t.Fatal(err)
	}
}

func TestServerKeyEncoding(t *testing.T) {
	k := testServerKey(t, "k")
	for _, text := range [][]byte{k.MarshalPEM(), []byte(base64.StdEncoding.EncodeToString(k.seed) + "\n")} {
		k2, err := ParseServerPrivateKey(text)
		if err != nil || k2.ID() != k.ID() || !bytes.Equal(k2.Public().Bytes(), k.Public().Bytes()) {
			t.Fatalf("%s: %v", text, err)
		}
	}
	if !strings.HasPrefix(string(k.MarshalPEM()), "-----BEGIN SOCKETX MLKEM768 SERVER KEY-----\n") {
		t.Fatal(string(k.MarshalPEM()))
	}
	pin, err := ParseServerPublicKey(k.Public().String())
	if err != nil || pin.ID() != k.ID() || len(pin.ID().String()) != 16 {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "AAAA", strings.Repeat("/", 1580)} {
		if _, err := ParseServerPublicKey(bad); !errors.Is(err, ErrBadServerKey) {
			t.Errorf("pin %q: %v", bad[:min(8, len(bad))], err)
		}
		if _, err := ParseServerPrivateKey([]byte(bad)); !errors.Is(err, ErrBadServerKey) || strings.Contains(err.Error(), bad) && bad != "" {
			t.Errorf("key %q: %v", bad[:min(8, len(bad))], err)
		}
	}
	if _, err := NewProfile(Params{Strength: 512, ServerKeys: []*ServerPrivateKey{k, k}}); !errors.Is(err, ErrBadParams) {
		t.Fatalf("duplicate key: %v", err)
	}
}

// TestServerAuthSplice: a man in the middle pairs with the real server
// using its own ephemeral keys plus the client's serverKeyId and
// serverSecret, and hands the real serverConfirm to the client in its own
// pairResponse. The transcript and the ephemeral secrets differ, so the
// client refuses it as a wrong server.
func TestServerAuthSplice(t *testing.T) {
	k := testServerKey(t, "k")
	p := mustProfile(t, Params{Strength: StrengthXWing})
	sp := mustProfile(t, Params{Strength: StrengthXWing, ServerKeys: []*ServerPrivateKey{k}})
	in, _ := NewPinnedInitiator(p, k.Public(), detReader("client"))
	creq := string(in.Request())
	fields := creq[strings.Index(creq, `,"serverKeyId"`):]

	mi, _ := NewInitiator(p, detReader("mitm as client"))
	mreq := string(mi.Request())
	spliced := mreq[:len(mreq)-1] + fields
	var real Session
	realResp, err := real.Respond(sp, []byte(spliced), detReader("real server"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var sc pairScratch
	rr, err := parsePairResponse(realResp, StrengthXWing, &sc)
	if err != nil || rr.confirm == nil {
		t.Fatalf("real response: %v", err)
	}
	var ms Session
	fake, err := ms.Respond(p, in.Request(), detReader("mitm as server"), nil)
	if err != nil {
		t.Fatal(err)
	}
	fake = appendServerConfirm(fake, rr.confirm)
	var cs Session
	if err := in.Finish(fake, &cs); !errors.Is(err, ErrServerAuthMismatch) || cs.Paired() {
		t.Fatalf("spliced confirmation: %v", err)
	}
}
