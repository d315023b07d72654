package engine

import (
	"net"
	"testing"
	"time"

	"github.com/socketx/socketx-server/internal/testupstream"
	"github.com/socketx/socketx-server/internal/wstest"
	"github.com/socketx/socketx-server/mte"
)

// A PROXY header followed by only part of the request head in one read:
// the header is consumed, the partial head is kept for the next read.
func TestProxyHeaderThenSplitHead(t *testing.T) {
	echo := testupstream.NewEcho(t)
	px := startProxy(t, proxyOpts{domainMap: echoMap(echo.URL), strength: mte.Strength512, mutate: func(c *Config) {
		c.ProxyProtocol = true
	}})
	c := wstest.Dial(t, px.addr)
	_ = c.Conn.(*net.TCPConn).SetNoDelay(true)
	head := wstest.UpgradeHead("/", wstest.GoodOrigin)
	c.Write([]byte("PROXY TCP4 192.0.2.7 127.0.0.1 5000 8080\r\n" + head[:20]))
	time.Sleep(100 * time.Millisecond) // let the proxy read the first part alone
	c.Split = func(b []byte) [][]byte { return [][]byte{b[20:]} }
	c.Upgrade("/", wstest.GoodOrigin)
	c.Split = nil
	c.Pair(px.profile, "/p")
	c.RoundTrip(mte.TypeText, []byte("through"))
	if reqs := echo.Requests(); len(reqs) != 1 || reqs[0].Header.Get("X-Forwarded-For") != "192.0.2.7" {
		t.Fatalf("upstream saw %+v", reqs)
	}
}
