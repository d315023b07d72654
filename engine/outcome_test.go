package engine

import (
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/internal/testupstream"
	"github.com/socketx/socketx-server/internal/wstest"
	"github.com/socketx/socketx-server/mte"
)

// upgradeHost dials the proxy and upgrades with Host host and the good
// Origin, expecting 101.
func upgradeHost(t *testing.T, addr, host string) *wstest.Client {
	t.Helper()
	c := wstest.Dial(t, addr)
	c.Write([]byte(strings.Replace(wstest.UpgradeHead("/", wstest.GoodOrigin), "Host: app.example.com", "Host: "+host, 1)))
	resp, err := http.ReadResponse(c.BR, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade %s: %v %v", host, resp, err)
	}
	return c
}

// mixedRun drives one proxy with every kind of client the outcome metric
// distinguishes and returns the proxy once every connection is removed,
// with the outcomes it should have counted.
func mixedRun(t *testing.T) (*proxy, map[string]uint64) {
	echo := testupstream.NewEcho(t)
	refusing, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "ws://" + refusing.Addr().String()
	refusing.Close()
	// hang accepts the upstream TCP connection and never answers the
	// upgrade: a dial in progress that the test can observe.
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hang.Close() })
	hangAccepted := make(chan struct{}, 1)
	go func() {
		for {
			conn, err := hang.Accept()
			if err != nil {
				return
			}
			hangAccepted <- struct{}{}
			go func() { _, _ = io.Copy(io.Discard, conn); conn.Close() }() // until the proxy closes
		}
	}()
	origins := `"allowedOrigins":["https://app.example.com"]`
	dm := `{"app.example.com":{"upstream":"` + echo.URL + `",` + origins + `},` +
		`"down.example.com":{"upstream":"` + refused + `",` + origins + `},` +
		`"hang.example.com":{"upstream":"ws://` + hang.Addr().String() + `",` + origins + `}}`
	px := startProxy(t, proxyOpts{domainMap: dm, strength: mte.Strength512, mutate: func(c *Config) {
		c.HandshakeTimeout = 1500 * time.Millisecond
	}})
	upgrade := func(host, origin string) string {
		return "GET / HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: " + wstest.TestKey + "\r\nSec-WebSocket-Version: 13\r\nOrigin: " + origin + "\r\n\r\n"
	}
	expectStatus := func(request string, want int) {
		t.Helper()
		if resp := httpExchange(t, px.addr, request); statusOf(resp) != want {
			t.Fatalf("status of %q = %q, want %d", request, resp, want)
		}
	}

	// Relayed: three good SocketX clients that echo and close.
	for range 3 {
		c := connect(t, px, "/", wstest.GoodOrigin)
		c.RoundTrip(mte.TypeText, []byte("hello"))
		c.WriteFrame(true, codec.OpClose, codec.AppendClosePayload(nil, 1000, ""))
		c.ExpectClose(1000, "")
	}
	// HTTP: a health check.
	expectStatus("GET /health HTTP/1.1\r\nHost: x\r\n\r\n", 200)
	// Bad upgrades: 404 host (2), 403 origin (2), 400 (1).
	expectStatus(upgrade("other.example.org", "https://app.example.com"), 404)
	expectStatus(upgrade("other.example.net", "https://app.example.com"), 404)
	expectStatus(upgrade("app.example.com", "https://evil.example.com"), 403)
	expectStatus(upgrade("app.example.com", "null"), 403)
	expectStatus("\x16\x03\x01\x02\x00\r\n\r\n", 400)
	// Head timeout: a head that never completes.
	expectStatus("GET / HTTP/1.1\r\nHost: x\r\n", 408)
	// Plain WebSocket clients: a text message, a binary one without the
	// SocketX header.
	c := wstest.Dial(t, px.addr)
	c.Upgrade("/", wstest.GoodOrigin)
	c.WriteFrame(true, codec.OpText, []byte(`{"hello":"server"}`))
	c.ExpectClose(1003, "socketx messages must be binary")
	c = wstest.Dial(t, px.addr)
	c.Upgrade("/", wstest.GoodOrigin)
	c.WriteFrame(true, codec.OpBinary, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	c.ExpectClose(1002, mte.ErrBadMagic.Error())
	// A SocketX client that breaks the pairing order.
	c = wstest.Dial(t, px.addr)
	c.Upgrade("/", wstest.GoodOrigin)
	c.SendHandshake(mte.ActionPairRequest, []byte("{}"))
	c.ExpectClose(1002, "unexpected action pairRequest during hello")
	// One that never says hello.
	c = wstest.Dial(t, px.addr)
	c.Upgrade("/", wstest.GoodOrigin)
	c.ExpectClose(1008, "pairing timeout")
	// An upstream that refuses the connection.
	c = upgradeHost(t, px.addr, "down.example.com")
	c.Hello()
	c.Keys(px.profile)
	c.SendPathname("/")
	c.ExpectClose(1014, "upstream unavailable: refused")
	// Clients that leave: before the upgrade (silent; half a head),
	// during pairing (after hello), during the dial.
	c = wstest.Dial(t, px.addr)
	c.Conn.Close()
	c = wstest.Dial(t, px.addr)
	c.Write([]byte("GET / HTTP/1.1\r\nHo"))
	c.Conn.Close()
	c = wstest.Dial(t, px.addr)
	c.Upgrade("/", wstest.GoodOrigin)
	c.Hello()
	c.Conn.Close()
	c = upgradeHost(t, px.addr, "hang.example.com")
	c.Hello()
	c.Keys(px.profile)
	c.SendPathname("/")
	select {
	case <-hangAccepted:
	case <-time.After(10 * time.Second):
		t.Fatal("the proxy never dialed the upstream")
	}
	c.Conn.Close()

	// Every connection is removed asynchronously, on its loop.
	waitFor(t, "every connection to be removed", func() bool { return px.srv.Stats().Active == 0 })
	return px, map[string]uint64{
		"relayed":                  3,
		"http":                     1,
		"rejected_unknown_host":    2,
		"rejected_origin":          2,
		"rejected_bad_request":     1,
		"rejected_head_timeout":    1,
		"rejected_not_socketx":     2,
		"rejected_pairing":         1,
		"rejected_pairing_timeout": 1,
		"rejected_upstream":        1,
		"closed_before_upgrade":    2,
		"closed_during_pairing":    1,
		"closed_during_dial":       1,
	}
}

// TestConnectionOutcomesAddUp: under a mixed run of good, bad and plain
// clients, and clients that leave at each stage, every accepted connection
// is counted in exactly one outcome.
func TestConnectionOutcomesAddUp(t *testing.T) {
	px, want := mixedRun(t)
	m := px.srv.Metrics()
	var sum uint64
	for _, n := range m.Outcomes {
		sum += n
	}
	const accepted = 19
	if m.Accepted != accepted || sum != accepted || m.ConnectionsOpened != accepted {
		t.Errorf("accepted %d (sessions %d), Σ outcomes %d; want %d each", m.Accepted, m.ConnectionsOpened, sum, accepted)
	}
	for o := outcomeRelayed; o < numOutcomes; o++ {
		if _, ok := want[o.String()]; !ok {
			want[o.String()] = 0
		}
	}
	want[OutcomeShedDescriptors], want[OutcomeShedAcceptError] = 0, 0
	for k, n := range m.Outcomes {
		if want[k] != n {
			t.Errorf("outcome %s = %d, want %d", k, n, want[k])
		}
	}
	if len(m.Outcomes) != len(want) {
		t.Errorf("%d outcome series, want %d: %v", len(m.Outcomes), len(want), m.Outcomes)
	}
	// Rejections by reason are the rejected_ outcomes.
	for r, n := range m.Rejected {
		if want["rejected_"+r] != n {
			t.Errorf("rejections{%s} = %d, want %d", r, n, want["rejected_"+r])
		}
	}
	if m.Routes != 3 || m.Draining {
		t.Errorf("routes %d draining %v, want 3 false", m.Routes, m.Draining)
	}
}

// logFields are the field names of each kind of log line the engine
// writes, by message. A new kind of line, or a renamed field, fails
// TestLogFieldNames until it is added here (and documented).
var logFields = map[string][]string{
	"Listening":                  {"addr"},
	"Request rejected":           {"connection_id", "reason", "status", "detail", "client_addr", "host", "origin"},
	"Request head timeout":       {"connection_id", "client_addr"},
	"Pairing failed":             {"connection_id", "client_addr", "state", "error"},
	"Pairing timeout":            {"connection_id", "client_addr", "state"},
	"Paired":                     {"connection_id", "eeid", "mte_key_exchange", "server_authenticated"},
	"Upstream connection failed": {"connection_id", "upstream_server", "reason", "error"},
	"Client is not a SocketX client (plain WebSocket?)": {"connection_id", "client_addr", "host", "origin",
		"first_message", "close_code", "close_reason"},
	"Connection ending": {"connection_id", "closed_by", "close_code", "close_reason"},
	"Connection closed": {"connection_id", "eeid", "client_addr", "host", "origin", "upstream_server", "audit"},
	// Package upstream's, through the engine's logger.
	"upstream dial failed; backing off": {"addr", "reason", "failures", "window_seconds"},
	"MTE decode":                        {"connection_id", "event_type", "duration_ms", "payload_size_bytes", "payload_sha256", "eeid", "host", "origin", "upstream_server"},
	"MTE encode":                        {"connection_id", "event_type", "duration_ms", "payload_size_bytes", "payload_sha256", "eeid", "host", "origin", "upstream_server"},
}

// rateLimitedCallers are the functions that write each rate-limited line
// (through logRejection, which must not be named as the caller).
var rateLimitedCallers = map[string]string{
	"Request rejected":           "(*session).reject",
	"Request head timeout":       "(*session).setupTimeout",
	"Pairing failed":             "(*session).pairingFailed",
	"Pairing timeout":            "(*session).setupTimeout",
	"Upstream connection failed": "(*session).upstreamUnavailable",
	"Client is not a SocketX client (plain WebSocket?)": "(*session).notSocketX",
}

// TestLogFieldNames: every line of the mixed run has exactly the fields
// its kind documents; the peer is client_addr everywhere; durations carry
// their unit in the field name (no zap.Duration, whose encoding has no
// unit); rate-limited lines name the function that wrote them.
func TestLogFieldNames(t *testing.T) {
	px, _ := mixedRun(t)
	seen := map[string]int{}
	for _, e := range px.logs.All() {
		want, ok := logFields[e.Message]
		if !ok {
			t.Errorf("log line %q (fields %v) is not in logFields", e.Message, e.ContextMap())
			continue
		}
		seen[e.Message]++
		var got []string
		for _, f := range e.Context {
			got = append(got, f.Key)
			if f.Type == zapcore.DurationType {
				t.Errorf("%q: field %s is a zap.Duration; name the unit (_ms, _seconds) and log a number", e.Message, f.Key)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q fields = %v, want %v", e.Message, got, want)
		}
		if !e.Caller.Defined || strings.HasSuffix(e.Caller.File, "ratelimit.go") {
			t.Errorf("%q: caller %v", e.Message, e.Caller)
		}
		if fn, ok := rateLimitedCallers[e.Message]; ok && !strings.HasSuffix(e.Caller.Function, "engine."+fn) {
			t.Errorf("%q: caller %s, want engine.%s", e.Message, e.Caller.Function, fn)
		}
	}
	for msg := range rateLimitedCallers {
		if seen[msg] == 0 {
			t.Errorf("the mixed run wrote no %q line", msg)
		}
	}
	if seen["Client is not a SocketX client (plain WebSocket?)"] != 2 {
		t.Errorf("%d plain-WebSocket lines, want 2", seen["Client is not a SocketX client (plain WebSocket?)"])
	}
}

// TestNotSocketXLine: the line tells the operator what the client sent
// and what it was told.
func TestNotSocketXLine(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512})
	c := wstest.Dial(t, px.addr)
	c.Upgrade("/", wstest.GoodOrigin)
	c.WriteFrame(true, codec.OpText, []byte("hi"))
	c.ExpectClose(1003, "socketx messages must be binary")
	lines := px.logs.FilterMessage("Client is not a SocketX client (plain WebSocket?)").All()
	if len(lines) != 1 {
		t.Fatalf("%d lines", len(lines))
	}
	got := lines[0].ContextMap()
	want := map[string]any{"client_addr": "127.0.0.1", "host": "app.example.com", "origin": "https://app.example.com",
		"first_message": "text", "close_code": uint16(1003), "close_reason": "socketx messages must be binary"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	if lines[0].Level != zapcore.InfoLevel {
		t.Errorf("level %v", lines[0].Level)
	}
}
