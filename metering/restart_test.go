package metering

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// Restart tests: several processes of one task/pod share METERING_STATE_DIR
// one after the other, each with its own token prefix and a counter source
// that starts from zero.

func newRestartedAWS(t *testing.T, srv *awsServer, cfg Config, clk *fakeClock, c *counters, prefix string) (*Meter, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.InfoLevel)
	m, err := New(cfg, c.source(), zap.New(core), WithClock(clk.now), WithAfter(clk.after),
		WithAWSClient(srv.client()), WithTokenGenerator(tokenSeqFrom(prefix)))
	if err != nil {
		t.Fatal(err)
	}
	return m, logs
}

func stateFileText(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, StateFileName))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// errorLogs returns the messages and fields of Error-level entries.
func errorLogs(logs *observer.ObservedLogs) []observer.LoggedEntry {
	return logs.FilterLevelExact(zapcore.ErrorLevel).AllUntimed()
}

// A process that starts in an hour a previous process already flushed
// cannot add to that hour. At its own exit its counts go into the latest
// earlier hour this task has not reported (here 09:00, before the first
// process started); nothing is left on disk.
func TestAWSRestartInFlushedHourReportsInFreeEarlierHour(t *testing.T) {
	dir := t.TempDir()
	srv := newAWSServer(t)
	cfg := awsConfig(StrategyRequestBased)
	cfg.StateDir = dir
	clk := newClock("2026-03-04T10:05:00Z")
	srv.now = clk.now
	ctx := context.Background()

	var c1 counters
	m1, _ := newRestartedAWS(t, srv, cfg, clk, &c1, "a")
	c1.add(4, 4)
	clk.set("2026-03-04T10:20:00Z")
	if err := m1.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	var c2 counters // container restarted at 10:21
	m2, logs2 := newRestartedAWS(t, srv, cfg, clk, &c2, "b")
	c2.add(6, 2)
	clk.set("2026-03-04T10:40:00Z")
	if err := m2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	wantBodies(t, srv, tMeter,
		meterUsageBody("a-1", "encoded_messages", "2026-03-04T10:00:00Z", 4),
		meterUsageBody("a-2", "decoded_messages", "2026-03-04T10:00:00Z", 4),
		meterUsageBody("b-1", "encoded_messages", "2026-03-04T09:00:00Z", 6),
		meterUsageBody("b-2", "decoded_messages", "2026-03-04T09:00:00Z", 2),
	)
	wantStats(t, m2, Stats{Provider: "aws", Accepted: 2, CarriedOver: 8, Folded: 8})
	if e := errorLogs(logs2); len(e) != 0 {
		t.Fatalf("error logs %+v", e)
	}
	if s := stateFileText(t, dir); !strings.Contains(s, `"buckets": []`) || !strings.Contains(s, `"pending": []`) {
		t.Fatalf("state file:\n%s", s)
	}

	// A third process in the same hour: 10:00 and 09:00 are taken, 08:00 is free.
	var c3 counters
	m3, _ := newRestartedAWS(t, srv, cfg, clk, &c3, "c")
	c3.add(1, 0)
	clk.set("2026-03-04T10:50:00Z")
	if err := m3.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := srv.requests(); len(got) != 5 || got[4].Body != meterUsageBody("c-1", "encoded_messages", "2026-03-04T08:00:00Z", 1) {
		t.Fatalf("requests %+v", got)
	}
	wantStats(t, m3, Stats{Provider: "aws", Accepted: 1, CarriedOver: 1, Folded: 1})
}

// When every hour of the back-fill window is taken, the exit flush cannot
// report the counts: it logs an error naming them, returns ErrUnreported and
// leaves them in the state file, where the next process of the same pod
// reports them with its own 11:00 record.
func TestAWSRestartWithNoFreeHourLogsExactLossAndHandsOver(t *testing.T) {
	dir := t.TempDir()
	srv := newAWSServer(t)
	cfg := awsConfig(StrategyRequestBased)
	cfg.StateDir = dir
	clk := newClock("2026-03-04T05:10:00Z") // 05:00 stays free but is too old at 10:40
	srv.now = clk.now
	ctx := context.Background()

	var c1 counters
	m1, _ := newRestartedAWS(t, srv, cfg, clk, &c1, "a")
	for _, hour := range []string{"06", "07", "08", "09", "10"} {
		clk.set("2026-03-04T" + hour + ":00:00Z")
		m1.tick(ctx)
		c1.add(1, 1)
	}
	clk.set("2026-03-04T10:20:00Z")
	if err := m1.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.requests()); n != 10 { // 06:00 … 10:00, both dimensions
		t.Fatalf("%d requests, want 10", n)
	}

	var c2 counters
	m2, logs2 := newRestartedAWS(t, srv, cfg, clk, &c2, "b")
	c2.add(6, 0)
	clk.set("2026-03-04T10:40:00Z")
	err := m2.Flush(ctx)
	want := "metering: records left unreported: encoded_messages 6 counted for 2026-03-04T11:00:00Z, an hour that has not begun, and no earlier hour is free"
	if !errors.Is(err, ErrUnreported) || err.Error() != want {
		t.Fatalf("err %v\nwant %s", err, want)
	}
	if n := len(srv.requests()); n != 10 {
		t.Fatalf("%d requests, want 10 (nothing legal to send)", n)
	}
	e := errorLogs(logs2)
	if len(e) != 1 {
		t.Fatalf("error logs %+v", e)
	}
	f := e[0].ContextMap()
	if f["dimension"] != "encoded_messages" || f["quantity"] != uint64(6) || f["hour"] == nil || f["state_dir"] != dir {
		t.Fatalf("error log fields %v", f)
	}
	wantStats(t, m2, Stats{Provider: "aws", UnreportedEncoded: 6, CarriedOver: 6})
	if s := stateFileText(t, dir); !strings.Contains(s, `"hour": 1772622000,`) || !strings.Contains(s, `"encoded": 6,`) {
		t.Fatalf("state file:\n%s", s)
	}

	// The pod survives: the next container finds the 6 and reports them
	// with its own counts as the one 11:00 record.
	var c3 counters
	m3, _ := newRestartedAWS(t, srv, cfg, clk, &c3, "c")
	c3.add(1, 0)
	clk.set("2026-03-04T11:00:00Z")
	m3.tick(ctx)
	c3.add(2, 3)
	clk.set("2026-03-04T11:10:00Z")
	if err := m3.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := srv.requests()
	if len(got) != 12 ||
		got[10].Body != meterUsageBody("c-1", "encoded_messages", "2026-03-04T11:00:00Z", 9) ||
		got[11].Body != meterUsageBody("c-2", "decoded_messages", "2026-03-04T11:00:00Z", 3) {
		t.Fatalf("requests %+v", got[10:])
	}
	wantStats(t, m3, Stats{Provider: "aws", Accepted: 2, CarriedOver: 1})
}

// Without a state dir nothing is known across a restart: the second
// process's record for the flushed hour is answered DuplicateRequest, final
// and not billed (the residual risk docs/METERING.md states).
func TestAWSRestartWithoutStateDirLosesSecondRecordLoudly(t *testing.T) {
	srv := newAWSServer(t)
	cfg := awsConfig(StrategyRequestBased)
	clk := newClock("2026-03-04T10:05:00Z")
	srv.now = clk.now
	var c1 counters
	m1, _ := newRestartedAWS(t, srv, cfg, clk, &c1, "a")
	c1.add(4, 0)
	clk.set("2026-03-04T10:20:00Z")
	if err := m1.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var c2 counters
	m2, logs2 := newRestartedAWS(t, srv, cfg, clk, &c2, "b")
	c2.add(5, 0)
	clk.set("2026-03-04T10:40:00Z")
	if err := m2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantBodies(t, srv, tMeter,
		meterUsageBody("a-1", "encoded_messages", "2026-03-04T10:00:00Z", 4),
		meterUsageBody("b-1", "encoded_messages", "2026-03-04T10:00:00Z", 5),
	)
	wantStats(t, m2, Stats{Provider: "aws", Duplicate: 1})
	if len(logs2.FilterMessageSnippet("duplicate").AllUntimed()) != 1 {
		t.Fatalf("logs %+v", logs2.AllUntimed())
	}
}

// Azure: the same rule with its 24 h window; the event for the flushed hour
// is never sent twice, the restarted process's usage goes out at 09:00.
func TestAzureRestartInFlushedHourReportsInFreeEarlierHour(t *testing.T) {
	dir := t.TempDir()
	srv := newAzureServer(t)
	cfg := azureConfig(srv.URL)
	cfg.StateDir = dir
	clk := newClock("2026-03-04T10:05:00Z")
	ctx := context.Background()
	newM := func(c *counters, prefix string) *Meter {
		m, err := New(cfg, c.source(), nil, WithClock(clk.now), WithAfter(clk.after),
			WithTokenSource(&fakeTokens{clk: clk}), WithTokenGenerator(tokenSeqFrom(prefix)))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	var c1 counters
	m1 := newM(&c1, "a")
	c1.add(4, 0)
	clk.set("2026-03-04T10:20:00Z")
	if err := m1.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var c2 counters
	m2 := newM(&c2, "b")
	c2.add(6, 0)
	clk.set("2026-03-04T10:40:00Z")
	if err := m2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := srv.requests("/api/usageEvent")
	want := []azReq{
		{"/api/usageEvent", "Bearer at-1", "a-1", azBody("encodedMessages", "2026-03-04T10:00:00Z", 4)},
		{"/api/usageEvent", "Bearer at-1", "b-1", azBody("encodedMessages", "2026-03-04T09:00:00Z", 6)},
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("requests %+v\nwant %+v", got, want)
	}
	wantStats(t, m2, Stats{Provider: "azure", Accepted: 1, CarriedOver: 6, Folded: 6})
}
