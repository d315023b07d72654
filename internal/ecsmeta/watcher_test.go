package ecsmeta

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// taskServer is a fake task metadata endpoint: /task answers with the
// current DesiredStatus, or with status fail while fail is non-zero.
type taskServer struct {
	desired atomic.Value // string
	fail    atomic.Int32 // HTTP status to answer with instead, 0 = answer
	polls   atomic.Int32
}

func newTaskServer(t *testing.T) (*taskServer, string) {
	ts := &taskServer{}
	ts.desired.Store("RUNNING")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.polls.Add(1)
		if r.URL.Path != "/task" {
			http.NotFound(w, r)
			return
		}
		if code := ts.fail.Load(); code != 0 {
			w.WriteHeader(int(code))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"Cluster":"c","TaskARN":"arn:aws:ecs:us-east-1:123456789012:task/c/abc","Family":"f",` +
			`"DesiredStatus":"` + ts.desired.Load().(string) + `","KnownStatus":"RUNNING","Containers":[{"Name":"socketx"}]}`))
	}))
	t.Cleanup(srv.Close)
	return ts, srv.URL
}

func newWatcher(t *testing.T, uri string) (*Watcher, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	w, err := New(Config{MetadataURI: uri, Interval: 10 * time.Millisecond, Timeout: 200 * time.Millisecond}, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	return w, logs
}

func TestWaitStoppedReturnsWhenDesiredStatusFlips(t *testing.T) {
	ts, uri := newTaskServer(t)
	w, _ := newWatcher(t, uri)
	got := make(chan Task, 1)
	go func() {
		task, err := w.WaitStopped(context.Background())
		if err != nil {
			t.Error(err)
		}
		got <- task
	}()
	for ts.polls.Load() < 3 {
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case <-got:
		t.Fatal("returned while DesiredStatus is RUNNING")
	default:
	}
	ts.desired.Store(StatusStopped)
	select {
	case task := <-got:
		if task.DesiredStatus != StatusStopped || task.KnownStatus != "RUNNING" || !strings.HasSuffix(task.TaskARN, "/abc") {
			t.Fatalf("task = %+v", task)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no return after DesiredStatus became STOPPED")
	}
}

// A failing or missing endpoint is polled again and logged once per
// change, never fatal.
func TestWaitStoppedSurvivesAFailingEndpoint(t *testing.T) {
	ts, uri := newTaskServer(t)
	ts.fail.Store(http.StatusInternalServerError)
	w, logs := newWatcher(t, uri)
	got := make(chan error, 1)
	go func() {
		_, err := w.WaitStopped(context.Background())
		got <- err
	}()
	for ts.polls.Load() < 10 {
		time.Sleep(5 * time.Millisecond)
	}
	ts.fail.Store(0)
	ts.desired.Store(StatusStopped)
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no return after the endpoint recovered")
	}
	warn := logs.FilterMessage("ECS task metadata unavailable; polling continues").Len()
	back := logs.FilterMessage("ECS task metadata available again").Len()
	if warn != 1 || back != 1 {
		t.Fatalf("%d unavailable and %d recovered lines over %d polls, want 1 and 1: %v", warn, back, ts.polls.Load(), logs.All())
	}
}

func TestWaitStoppedEndsWithTheContext(t *testing.T) {
	// Nothing listens on this port: every poll fails at once.
	w, logs := newWatcher(t, "http://127.0.0.1:1")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := w.WaitStopped(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	if n := logs.FilterMessage("ECS task metadata unavailable; polling continues").Len(); n != 1 {
		t.Fatalf("%d unavailable lines, want 1", n)
	}
}

func TestFetchIsBounded(t *testing.T) {
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(block)
	w, _ := newWatcher(t, slow.URL)
	start := time.Now()
	if _, err := w.Fetch(context.Background()); err == nil {
		t.Fatal("a hanging endpoint answered")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Fetch took %v with a 200ms timeout", d)
	}

	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"DesiredStatus":"STOPPED","Pad":"`))
		pad := []byte(strings.Repeat("x", 64<<10))
		for range 2 * maxTaskBody / len(pad) {
			if _, err := w.Write(pad); err != nil {
				return
			}
		}
		_, _ = w.Write([]byte(`"}`))
	}))
	defer huge.Close()
	w, _ = newWatcher(t, huge.URL)
	if task, err := w.Fetch(context.Background()); err == nil {
		t.Fatalf("a %d-byte document was accepted: %+v", 2*maxTaskBody, task)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{MetadataURI: "http://169.254.170.2/v4/abc"}, true},
		{Config{MetadataURI: ""}, false},
		{Config{MetadataURI: "169.254.170.2/v4/abc"}, false},
		{Config{MetadataURI: "http://x", Interval: -1}, false},
	} {
		if err := c.cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("Validate(%+v) = %v", c.cfg, err)
		}
	}
	w, err := New(Config{MetadataURI: "http://169.254.170.2/v4/abc/"}, zap.NewNop())
	if err != nil || w.url != "http://169.254.170.2/v4/abc/task" || w.interval != DefaultInterval || w.client.Timeout != DefaultTimeout {
		t.Fatalf("New: %+v %v", w, err)
	}
}
