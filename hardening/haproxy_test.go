package hardening

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/socketx/socketx-server/client"
	"github.com/socketx/socketx-server/internal/proctest"
	"github.com/socketx/socketx-server/internal/testwait"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/perf/wsecho"
)

// TestFaultReplicaKilledBehindHAProxy: two `socketx serve` replicas behind
// a real HAProxy on loopback; SDK clients with the reconnect policy send
// request/response traffic; one replica is killed with SIGKILL under load.
// Every message must end as exactly one of: echoed; refused by Send with an
// error; listed by OnUndelivered; or written on a socket that then died
// (the SDK reports that socket's loss through OnReconnecting, and the
// message's echo never came) — none may vanish on a socket that stayed up.
// Clients on the killed replica must pair again (new EEID) on the other.
func TestFaultReplicaKilledBehindHAProxy(t *testing.T) {
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy is not installed (apt-get install -y haproxy); skipping the SIGKILL-behind-a-load-balancer test")
	}
	echo := wsecho.New(wsecho.Config{Addr: "127.0.0.1:0", Loops: 1})
	go func() { _ = echo.Run() }()
	<-echo.Ready()
	t.Cleanup(func() { _ = echo.Stop(context.Background()) })
	dm := `DOMAIN_MAP={"*":{"upstream":"` + echo.URL() + `","allowedOrigins":["*"]}}`
	a := startSocketx(t, dm, "LOG_LEVEL=warn")
	b := startSocketx(t, dm, "LOG_LEVEL=warn")

	lbPort := proctest.FreePort(t)
	cfg := fmt.Sprintf(`global
    maxconn 2000
defaults
    mode tcp
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch
    default-server inter 200ms fall 1 rise 2
frontend ws
    bind 127.0.0.1:%d
    default_backend socketx
backend socketx
    balance roundrobin
    option httpchk GET /health
    server a 127.0.0.1:%d check
    server b 127.0.0.1:%d check
`, lbPort, a.Port, b.Port)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	lb := exec.Command(haproxy, "-db", "-f", cfgPath)
	lbOut := &lockedBuffer{}
	lb.Stdout, lb.Stderr = lbOut, lbOut
	if err := lb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lb.Process.Kill(); _ = lb.Wait() })
	url := "ws://127.0.0.1:" + strconv.Itoa(lbPort) + "/ha"
	// Wait (bounded) until HAProxy answers /health through both servers.
	testwait.For(t, "haproxy to listen", 10*time.Second, func() bool {
		for range 2 {
			resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(lbPort) + "/health")
			if err != nil {
				return false
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return false
			}
		}
		return true
	})

	const clients = 16
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	stop := make(chan struct{})

	type tally struct {
		sent, echoed, sendErr, undelivered, lostInFlight, silent int
		reconnects                                               int64
		firstEEID, lastEEID                                      mte.EEID
		lastEchoAfterReconnect                                   bool
	}
	results := make([]tally, clients)
	var wg sync.WaitGroup
	dialed := make(chan struct{}, clients)
	for i := range clients {
		wg.Go(func() {
			res := &results[i]
			var reconnects atomic.Int64
			var eeidMu sync.Mutex
			var undelivered int
			rc, err := client.DialReconnecting(ctx, url, client.Options{DialTimeout: 3 * time.Second, PairTimeout: 3 * time.Second},
				client.ReconnectOptions{
					BaseDelay: 50 * time.Millisecond, MaxDelay: 500 * time.Millisecond,
					Events: client.Events{
						OnReconnecting: func(attempt int, err error) {
							if attempt == 1 {
								reconnects.Add(1)
							}
						},
						OnReconnected: func(eeid mte.EEID) {
							eeidMu.Lock()
							res.lastEEID = eeid
							eeidMu.Unlock()
						},
						OnUndelivered: func(msgs []client.Message, err error) { undelivered += len(msgs) },
					},
				})
			dialed <- struct{}{}
			if err != nil {
				t.Errorf("client %d: dial: %v", i, err)
				return
			}
			res.firstEEID = rc.EEID()
			eeidMu.Lock()
			res.lastEEID = res.firstEEID
			eeidMu.Unlock()
			in := rc.Messages(ctx)
			for n := 0; ; n++ {
				select {
				case <-stop:
					_ = rc.Close(1000, "")
					<-rc.Done()
					res.undelivered = undelivered
					res.reconnects = reconnects.Load()
					return
				default:
				}
				id := fmt.Sprintf("c%d-m%d", i, n)
				epoch := reconnects.Load()
				res.sent++
				sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
				err := rc.Send(sctx, mte.TypeText, []byte(id))
				scancel()
				if err != nil {
					res.sendErr++ // reported to the sender
					continue
				}
				// Wait for this message's echo; echoes of earlier messages
				// classified as lost would come first, so skip older ids.
				timer := time.NewTimer(3 * time.Second)
			wait:
				for {
					select {
					case m, ok := <-in:
						if !ok {
							t.Errorf("client %d: message stream ended: %v", i, rc.Err())
							timer.Stop()
							return
						}
						if string(m.Data) == id {
							res.echoed++
							res.lastEchoAfterReconnect = reconnects.Load() > 0
							break wait
						}
					case <-timer.C:
						if reconnects.Load() > epoch {
							res.lostInFlight++ // its socket died: reported by OnReconnecting
						} else {
							res.silent++
						}
						break wait
					}
				}
				timer.Stop()
			}
		})
	}
	for range clients {
		<-dialed
	}
	// Load for a moment, kill replica a, keep going, then stop.
	time.Sleep(time.Second)
	if err := a.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	time.Sleep(5 * time.Second)
	close(stop)
	wg.Wait()

	var tot tally
	moved := 0
	for i, r := range results {
		tot.sent += r.sent
		tot.echoed += r.echoed
		tot.sendErr += r.sendErr
		tot.undelivered += r.undelivered
		tot.lostInFlight += r.lostInFlight
		tot.silent += r.silent
		tot.reconnects += r.reconnects
		if r.reconnects > 0 {
			moved++
			if r.lastEEID == r.firstEEID {
				t.Errorf("client %d reconnected but kept EEID %v", i, r.firstEEID)
			}
			if !r.lastEchoAfterReconnect {
				t.Errorf("client %d reconnected but no message was echoed afterwards", i)
			}
		}
	}
	t.Logf("replica killed at %s: %d clients, %d moved to the other replica; messages: %d sent, %d echoed, %d refused by Send, %d listed undelivered, %d lost in flight on a dead socket (reported by OnReconnecting), %d silent",
		killedAt.Format("15:04:05.000"), clients, moved, tot.sent, tot.echoed, tot.sendErr, tot.undelivered, tot.lostInFlight, tot.silent)
	if tot.silent != 0 {
		t.Fatalf("%d messages vanished silently", tot.silent)
	}
	if tot.sent != tot.echoed+tot.sendErr+tot.undelivered+tot.lostInFlight {
		t.Fatalf("accounting: %+v", tot)
	}
	if moved == 0 {
		t.Fatalf("no client was on the killed replica (haproxy output:\n%s)", lbOut.String())
	}
	_ = b
}

// lockedBuffer collects a subprocess's output.
type lockedBuffer struct {
	mu sync.Mutex // guards b
	b  []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}
