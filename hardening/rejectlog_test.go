package hardening

import (
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/socketx/socketx-server/internal/enginetest"
	"github.com/socketx/socketx-server/internal/wstest"
	"github.com/socketx/socketx-server/mte"
)

// TestRejectLogDoesNotAlias (a fixed bug): the "Request rejected" line carries the Host and
// Origin as zap.ByteString fields that alias gnet's read buffer. A core that
// encodes later than Write (zaptest/observer, any buffering or sampling
// core that keeps fields) then logs whatever the next read on that loop put
// there, and the race detector reports the read against gnet's write.
func TestRejectLogDoesNotAlias(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	px := enginetest.Start(t, enginetest.Options{
		DomainMap: `{"app.example.com":{"upstream":"ws://127.0.0.1:1","allowedOrigins":["https://app.example.com"]}}`,
		MTE:       mte.Params{Strength: mte.Strength512},
		Log:       zap.New(core), // encodes late: the point of this test
	})
	addr := px.Addr

	c := wstest.Dial(t, addr)
	c.Write([]byte(wstest.UpgradeHead("/", "Origin: https://evil.example")))
	c.ReadAll()
	// Another request on the same (single) loop overwrites the read buffer.
	d := wstest.Dial(t, addr)
	d.Write([]byte(strings.Repeat("X", 200) + " / HTTP/1.1\r\n\r\n"))
	d.ReadAll()
	var origins []any
	for _, e := range logs.FilterMessage("Request rejected").All() {
		if e.ContextMap()["reason"] == "origin" {
			origins = append(origins, e.ContextMap()["origin"])
		}
	}
	if len(origins) != 1 || origins[0] != "https://evil.example" {
		t.Fatalf("origin rejections logged origin fields %q, want exactly [https://evil.example]", origins)
	}
}
