package gnetaddr

import (
	"net"
	"testing"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"
)

// bootOnly records Listener's answer in OnBoot and shuts the engine down.
type bootOnly struct {
	gnet.BuiltinEventEngine
	addr *net.TCPAddr
	err  error
}

func (b *bootOnly) OnBoot(eng gnet.Engine) gnet.Action {
	b.addr, b.err = Listener(eng)
	return gnet.Shutdown
}

func TestListener(t *testing.T) {
	cases := []struct {
		listen string
		ip     string
	}{
		{"tcp://127.0.0.1:0", "127.0.0.1"},
		{"tcp6://[::1]:0", "::1"},
	}
	for _, tc := range cases {
		t.Run(tc.listen, func(t *testing.T) {
			if tc.ip == "::1" {
				ln, err := net.Listen("tcp6", "[::1]:0")
				if err != nil {
					t.Skipf("no IPv6 loopback: %v", err)
				}
				_ = ln.Close()
			}
			b := &bootOnly{}
			if err := gnet.Run(b, tc.listen, gnet.WithNumEventLoop(1), gnet.WithLogLevel(logging.ErrorLevel)); err != nil {
				t.Fatalf("gnet.Run: %v", err)
			}
			if b.err != nil {
				t.Fatalf("Listener: %v", b.err)
			}
			if b.addr.IP.String() != tc.ip || b.addr.Port == 0 {
				t.Fatalf("Listener = %v, want %s with the port the kernel picked", b.addr, tc.ip)
			}
		})
	}
}
