package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/socketx/socketx-server/client"
	"github.com/socketx/socketx-server/internal/testupstream"
	"github.com/socketx/socketx-server/mte"
)

// fakeTaskMetadata serves ${ECS_CONTAINER_METADATA_URI_V4}/task with a
// DesiredStatus the test flips, as ECS does when it decides to stop a task.
func fakeTaskMetadata(t *testing.T) (uri string, stop func()) {
	t.Helper()
	var stopped atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v4/task-1/task" {
			http.NotFound(w, r)
			return
		}
		desired := "RUNNING"
		if stopped.Load() {
			desired = "STOPPED"
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"Cluster":"socketx","TaskARN":"arn:aws:ecs:us-east-1:123456789012:task/socketx/task-1",` +
			`"Family":"socketx","DesiredStatus":"` + desired + `","KnownStatus":"RUNNING","Containers":[]}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v4/task-1", func() { stopped.Store(true) }
}

// readyStatus is GET /ready on the public port (the ALB health check).
func readyStatus(t *testing.T, p *proc) int {
	t.Helper()
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(p.Port) + "/ready")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// expectGoingAway waits for every client's 1001 "going away" and returns
// when the last one arrived.
func expectGoingAway(t *testing.T, conns []*client.Conn) time.Time {
	t.Helper()
	for i, c := range conns {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, _, err := c.Receive(ctx)
		cancel()
		var ce *client.CloseError
		if !errorsAs(err, &ce) || ce.Code != 1001 || ce.Reason != "going away" {
			t.Fatalf("client %d: %v, want close 1001 going away", i, err)
		}
	}
	return time.Now()
}

// TestECSStopDrainsBeforeSIGTERM: when the task metadata's DesiredStatus
// becomes STOPPED (ECS deregisters the task from the ALB at that moment and
// sends SIGTERM only after the deregistration delay), the proxy drains at
// once: /ready 503, paired clients get 1001 within DRAIN_TIMEOUT. It keeps
// running until SIGTERM, which stops it without a second drain; exit 0.
func TestECSStopDrainsBeforeSIGTERM(t *testing.T) {
	echo := testupstream.NewEcho(t)
	uri, stopTask := fakeTaskMetadata(t)
	const drainTimeout = 2 * time.Second
	p := start(t, echoDomainMap(echo.URL), "LOG_LEVEL=info", "DRAIN_TIMEOUT=2s", "ECS_CONTAINER_METADATA_URI_V4="+uri)
	p.waitLog("ECS stop watcher started", nil)
	const n = 10
	conns := make([]*client.Conn, n)
	for i := range conns {
		conns[i] = dial(t, p, "/ecs") // paired, upstream connected
	}
	time.Sleep(2500 * time.Millisecond) // a poll or more while RUNNING: nothing happens
	if got := readyStatus(t, p); got != 200 {
		t.Fatalf("/ready while the task runs = %d", got)
	}

	stopTask()
	draining := p.waitLog("Draining", func(l map[string]any) bool { return l["reason"] == "ECS task DesiredStatus STOPPED" })
	drainStart := time.Now()
	if draining["task_arn"] != "arn:aws:ecs:us-east-1:123456789012:task/socketx/task-1" || draining["connections"] != float64(n) {
		t.Errorf("Draining line: %v", draining)
	}
	if got := readyStatus(t, p); got != 503 {
		t.Errorf("/ready during the drain = %d, want 503", got)
	}
	last := expectGoingAway(t, conns)
	if d := last.Sub(drainStart); d > drainTimeout {
		t.Errorf("last 1001 arrived %v after the drain started, DRAIN_TIMEOUT is %v", d, drainTimeout)
	}
	p.waitLog("Drained; waiting for SIGTERM", nil)

	// Still running, still out of rotation, until ECS sends SIGTERM.
	select {
	case err := <-p.Exit:
		t.Fatalf("exited before SIGTERM: %v", err)
	case <-time.After(time.Second):
	}
	if got := readyStatus(t, p); got != 503 {
		t.Errorf("/ready after the drain = %d, want 503", got)
	}
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.Exit:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	p.waitLog("Signal after the drain: stopping", nil)
	p.waitLog("Stopped", func(l map[string]any) bool { return l["forced"] == false })
	if got := strings.Count(p.Output(), `"msg":"Draining"`); got != 1 {
		t.Errorf("%d Draining lines, want 1:\n%s", got, p.Output())
	}
}

// TestSIGTERMDuringECSDrainFinishesIt: SIGTERM while the drain ECS started
// is still running neither restarts nor cuts it; the process exits 0 once
// every client has had its 1001, within DRAIN_TIMEOUT of the drain's start.
func TestSIGTERMDuringECSDrainFinishesIt(t *testing.T) {
	echo := testupstream.NewEcho(t)
	uri, stopTask := fakeTaskMetadata(t)
	const drainTimeout = 4 * time.Second
	p := start(t, echoDomainMap(echo.URL), "LOG_LEVEL=info", "DRAIN_TIMEOUT=4s", "ECS_CONTAINER_METADATA_URI_V4="+uri)
	const n = 10
	conns := make([]*client.Conn, n)
	for i := range conns {
		conns[i] = dial(t, p, "/ecs")
	}
	stopTask()
	p.waitLog("Draining", func(l map[string]any) bool { return l["reason"] == "ECS task DesiredStatus STOPPED" })
	drainStart := time.Now()
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitLog("Signal during the drain: finishing it", nil)
	last := expectGoingAway(t, conns)
	select {
	case err := <-p.Exit:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit after the drain")
	}
	if d := last.Sub(drainStart); d > drainTimeout {
		t.Errorf("last 1001 arrived %v after the drain started, DRAIN_TIMEOUT is %v", d, drainTimeout)
	}
	stopped := p.waitLog("Stopped", func(l map[string]any) bool { return l["forced"] == false })
	if d, _ := stopped["drain_seconds"].(float64); d > drainTimeout.Seconds() {
		t.Errorf("drain took %vs, DRAIN_TIMEOUT is %v", d, drainTimeout)
	}
	if got := strings.Count(p.Output(), `"msg":"Draining"`); got != 1 {
		t.Errorf("%d Draining lines, want 1:\n%s", got, p.Output())
	}
}

// TestECSWatcherMissingEndpointIsHarmless: a metadata URI nobody answers is
// logged, and SIGTERM still drains as usual.
func TestECSWatcherMissingEndpointIsHarmless(t *testing.T) {
	echo := testupstream.NewEcho(t)
	p := start(t, echoDomainMap(echo.URL), "LOG_LEVEL=info", "DRAIN_TIMEOUT=1s", "ECS_CONTAINER_METADATA_URI_V4=http://127.0.0.1:1/v4/none")
	p.waitLog("ECS task metadata unavailable; polling continues", nil)
	c := dial(t, p, "/ecs")
	roundTrip(t, c, mte.TypeText, "still serving")
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	p.waitLog("Draining", func(l map[string]any) bool { return l["signal"] == "terminated" })
	expectGoingAway(t, []*client.Conn{c})
	select {
	case err := <-p.Exit:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit")
	}
}
