package metering

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	tMeter    = "AWSMPMeteringService.MeterUsage"
	tRegister = "AWSMPMeteringService.RegisterUsage"
)

func newAWSMeter(t *testing.T, srv *awsServer, cfg Config, clk *fakeClock, c *counters) *Meter {
	t.Helper()
	var src Source
	if c != nil {
		src = c.source()
	}
	m, err := New(cfg, src, nil, WithClock(clk.now), WithAfter(clk.after), WithAWSClient(srv.client()), WithTokenGenerator(tokenSeq()))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func wantBodies(t *testing.T, srv *awsServer, target string, want ...string) {
	t.Helper()
	var got []string
	for _, r := range srv.requests() {
		if r.Target == target {
			got = append(got, r.Body)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s bodies:\n%s\nwant:\n%s", target, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func wantStats(t *testing.T, m *Meter, want Stats) {
	t.Helper()
	if got := m.Stats(); got != want {
		t.Fatalf("stats\n got %+v\nwant %+v", got, want)
	}
}

func TestRegisterUsageSuccess(t *testing.T) {
	for _, tc := range []struct {
		strategy Strategy
		body     string
	}{
		{StrategyRegisterUsage, `{"ProductCode":"prod-abc","PublicKeyVersion":1}`},
		{StrategyExternalMeter, `{"ProductCode":"prod-ext","PublicKeyVersion":1}`},
	} {
		srv := newAWSServer(t)
		m := newAWSMeter(t, srv, awsConfig(tc.strategy), newClock("2026-03-04T10:00:00Z"), nil)
		if err := m.Register(context.Background()); err != nil {
			t.Fatalf("%s: %v", tc.strategy, err)
		}
		wantBodies(t, srv, tRegister, tc.body)
		if err := m.Run(context.Background()); err != nil { // no reporter: returns at once
			t.Fatal(err)
		}
		if err := m.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(srv.requests()); n != 1 {
			t.Fatalf("%d requests, want only RegisterUsage", n)
		}
	}
}

func TestRegisterUsageNotCalledForOtherStrategies(t *testing.T) {
	srv := newAWSServer(t)
	m := newAWSMeter(t, srv, awsConfig(StrategyRequestBased), newClock("2026-03-04T10:00:00Z"), &counters{})
	if err := m.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	off, err := New(Config{Strategy: StrategyNone}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := off.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := off.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.requests()); n != 0 {
		t.Fatalf("%d requests, want 0", n)
	}
	if s := off.Stats(); s != (Stats{}) {
		t.Fatalf("stats %+v", s)
	}
}

func TestRegisterUsageEntitlementFailuresAreFatal(t *testing.T) {
	for code, want := range map[string]string{
		"CustomerNotEntitledException":     "metering: aws RegisterUsage: CustomerNotEntitledException: the AWS account is not subscribed to this product (CustomerNotEntitledException message)",
		"PlatformNotSupportedException":    "metering: aws RegisterUsage: PlatformNotSupportedException: AWS Marketplace does not support metering from this platform (run on Amazon ECS or EKS) (PlatformNotSupportedException message)",
		"InvalidProductCodeException":      `metering: aws RegisterUsage: InvalidProductCodeException: product code "prod-abc" is not valid (InvalidProductCodeException message)`,
		"InvalidPublicKeyVersionException": "metering: aws RegisterUsage: InvalidPublicKeyVersionException: AWS_MARKETPLACE_PUBLIC_KEY_VERSION is not valid (InvalidPublicKeyVersionException message)",
		"AccessDeniedException":            "metering: aws RegisterUsage: AccessDeniedException: registration refused (AccessDeniedException message)",
	} {
		srv := newAWSServer(t)
		srv.push(tRegister, 400, awsErr(code))
		m := newAWSMeter(t, srv, awsConfig(StrategyRegisterUsage), newClock("2026-03-04T10:00:00Z"), nil)
		err := m.Register(context.Background())
		var fe *FatalError
		if !errors.As(err, &fe) || fe.Code != code {
			t.Fatalf("%s: err %v, want *FatalError", code, err)
		}
		if err.Error() != want {
			t.Fatalf("%s:\n got %s\nwant %s", code, err, want)
		}
		if n := len(srv.requests()); n != 1 {
			t.Fatalf("%s: %d attempts, want 1 (not retried)", code, n)
		}
	}
}

func TestRegisterUsageRetriesTransient(t *testing.T) {
	srv := newAWSServer(t)
	srv.push(tRegister, 400, awsErr("ThrottlingException"))
	srv.push(tRegister, 500, awsErr("InternalServiceErrorException"))
	srv.push(tRegister, 503, "<html>unavailable</html>")
	m := newAWSMeter(t, srv, awsConfig(StrategyRegisterUsage), newClock("2026-03-04T10:00:00Z"), nil)
	if err := m.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	body := `{"ProductCode":"prod-abc","PublicKeyVersion":1}`
	wantBodies(t, srv, tRegister, body, body, body, body)
}

func TestRegisterUsageRetriesAreBounded(t *testing.T) {
	srv := newAWSServer(t)
	for range 10 {
		srv.push(tRegister, 500, awsErr("InternalServiceErrorException"))
	}
	m := newAWSMeter(t, srv, awsConfig(StrategyRegisterUsage), newClock("2026-03-04T10:00:00Z"), nil)
	err := m.Register(context.Background())
	want := "metering: aws RegisterUsage: InternalServiceErrorException: still failing after 5 attempts (InternalServiceErrorException message)"
	var fe *FatalError
	if !errors.As(err, &fe) || err.Error() != want {
		t.Fatalf("err %v\nwant %s", err, want)
	}
	if n := len(srv.requests()); n != registerAttempts {
		t.Fatalf("%d attempts, want %d", n, registerAttempts)
	}
}

func TestHourBoundaries(t *testing.T) {
	srv := newAWSServer(t)
	clk := newClock("2026-03-04T10:00:00Z")
	var c counters
	m := newAWSMeter(t, srv, awsConfig(StrategyRequestBased), clk, &c)
	ctx := context.Background()

	c.add(7, 4)
	clk.set("2026-03-04T10:15:00Z")
	if wake := m.tick(ctx); !wake.Equal(time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)) {
		t.Fatalf("next wake %v", wake)
	}
	clk.set("2026-03-04T10:59:00Z")
	c.add(5, 0) // at 10:59
	clk.set("2026-03-04T10:59:59Z")
	if wake := m.tick(ctx); !wake.Equal(time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC)) {
		t.Fatalf("next wake %v, want the hour boundary", wake)
	}
	wantBodies(t, srv, tMeter) // nothing before the hour is complete
	clk.set("2026-03-04T11:00:00Z")
	m.tick(ctx)
	c.add(3, 2) // at 11:00:30
	clk.set("2026-03-04T11:15:00Z")
	m.tick(ctx)
	clk.set("2026-03-04T12:00:00Z")
	m.tick(ctx)
	clk.set("2026-03-04T13:00:00Z")
	m.tick(ctx) // an idle hour sends nothing
	wantBodies(t, srv, tMeter,
		meterUsageBody("tok-1", "encoded_messages", "2026-03-04T10:00:00Z", 12),
		meterUsageBody("tok-2", "decoded_messages", "2026-03-04T10:00:00Z", 4),
		meterUsageBody("tok-3", "encoded_messages", "2026-03-04T11:00:00Z", 3),
		meterUsageBody("tok-4", "decoded_messages", "2026-03-04T11:00:00Z", 2),
	)
	wantStats(t, m, Stats{Provider: "aws", Accepted: 4})
}

func TestMeterUsageRetriesAreByteIdentical(t *testing.T) {
	srv := newAWSServer(t)
	srv.push(tMeter, 400, awsErr("ThrottlingException"))
	srv.push(tMeter, 500, awsErr("InternalServiceErrorException"))
	srv.push(tMeter, 502, "bad gateway")
	clk := newClock("2026-03-04T10:00:00Z")
	var c counters
	m := newAWSMeter(t, srv, awsConfig(StrategyRequestBased), clk, &c)
	ctx := context.Background()
	c.add(9, 0)
	clk.set("2026-03-04T11:00:00Z")
	for i := range 3 {
		m.tick(ctx)
		wantStats(t, m, Stats{Provider: "aws", Failed: uint64(i + 1), UnreportedEncoded: 9, Pending: 1})
		m.tick(ctx) // not due yet: no request
		clk.advance(retryCap)
	}
	m.tick(ctx)
	b := meterUsageBody("tok-1", "encoded_messages", "2026-03-04T10:00:00Z", 9)
	wantBodies(t, srv, tMeter, b, b, b, b)
	wantStats(t, m, Stats{Provider: "aws", Accepted: 1, Failed: 3})
}

func TestBackoffBounds(t *testing.T) {
	for n := 1; n < 40; n++ {
		want := retryCap
		if n < 10 {
			want = min(retryBase<<(n-1), retryCap)
		}
		for range 50 {
			if d := backoff(n); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, want/2, want)
			}
		}
	}
}

func TestDuplicateRequestIsFinal(t *testing.T) {
	srv := newAWSServer(t)
	srv.push(tMeter, 400, awsErr("DuplicateRequestException"))
	clk := newClock("2026-03-04T10:00:00Z")
	var c counters
	m := newAWSMeter(t, srv, awsConfig(StrategyRequestBased), clk, &c)
	ctx := context.Background()
	c.add(5, 0)
	clk.set("2026-03-04T11:00:00Z")
	m.tick(ctx)
	clk.advance(time.Hour - time.Second)
	m.tick(ctx)
	wantBodies(t, srv, tMeter, meterUsageBody("tok-1", "encoded_messages", "2026-03-04T10:00:00Z", 5))
	wantStats(t, m, Stats{Provider: "aws", Duplicate: 1})
}

func TestPermanentAndExpired(t *testing.T) {
	srv := newAWSServer(t)
	srv.push(tMeter, 400, awsErr("InvalidUsageDimensionException"))
	srv.push(tMeter, 400, awsErr("TimestampOutOfBoundsException"))
	clk := newClock("2026-03-04T10:00:00Z")
	var c counters
	m := newAWSMeter(t, srv, awsConfig(StrategyRequestBased), clk, &c)
	c.add(5, 6)
	clk.set("2026-03-04T11:00:00Z")
	m.tick(context.Background())
	wantStats(t, m, Stats{Provider: "aws", Rejected: 1, Expired: 1, LostEncoded: 5, LostDecoded: 6})

	// A record still failing at its hour + 6 h expires locally.
	srv2 := newAWSServer(t)
	for range 100 {
		srv2.push(tMeter, 500, awsErr("InternalServiceErrorException"))
	}
	clk2 := newClock("2026-03-04T10:00:00Z")
	var c2 counters
	m2 := newAWSMeter(t, srv2, awsConfig(StrategyRequestBased), clk2, &c2)
	c2.add(2, 0)
	clk2.set("2026-03-04T11:00:00Z")
	for clk2.now().Before(time.Date(2026, 3, 4, 16, 0, 0, 0, time.UTC)) {
		m2.tick(context.Background())
		clk2.advance(retryCap)
	}
	m2.tick(context.Background())
	s := m2.Stats()
	if s.Expired != 1 || s.LostEncoded != 2 || s.Pending != 0 || s.Accepted != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestFlushReportsPartialHourOnce(t *testing.T) {
	srv := newAWSServer(t)
	clk := newClock("2026-03-04T10:00:00Z")
	var c counters
	m := newAWSMeter(t, srv, awsConfig(StrategyRequestBased), clk, &c)
	c.add(9, 8)
	clk.set("2026-03-04T10:20:00Z")
	if err := m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Late counts after the flush must not make a second 10:00 record; the
	// next flush puts them in 09:00, the latest hour without a record.
	c.add(1, 0)
	clk.set("2026-03-04T10:40:00Z")
	if err := m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantStats(t, m, Stats{Provider: "aws", Accepted: 3, CarriedOver: 1, Folded: 1})
	clk.set("2026-03-04T11:00:00Z")
	m.tick(context.Background())
	clk.set("2026-03-04T12:00:00Z")
	m.tick(context.Background())
	wantBodies(t, srv, tMeter,
		meterUsageBody("tok-1", "encoded_messages", "2026-03-04T10:00:00Z", 9),
		meterUsageBody("tok-2", "decoded_messages", "2026-03-04T10:00:00Z", 8),
		meterUsageBody("tok-3", "encoded_messages", "2026-03-04T09:00:00Z", 1),
	)
}

func TestFlushGivesUpWhenContextEnds(t *testing.T) {
	srv := newAWSServer(t)
	for range 1000 {
		srv.push(tMeter, 500, awsErr("InternalServiceErrorException"))
	}
	clk := newClock("2026-03-04T10:00:00Z")
	var c counters
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	after := func(d time.Duration) <-chan time.Time {
		if calls++; calls == 3 {
			cancel()
		}
		return clk.after(d)
	}
	m, err := New(awsConfig(StrategyRequestBased), c.source(), nil, WithClock(clk.now), WithAfter(after),
		WithAWSClient(srv.client()), WithTokenGenerator(tokenSeq()))
	if err != nil {
		t.Fatal(err)
	}
	c.add(4, 0)
	err = m.Flush(ctx)
	if !errors.Is(err, ErrUnreported) || err.Error() != "metering: records left unreported: 1 records (encoded 4, decoded 0)" {
		t.Fatalf("err %v", err)
	}
	if n := len(srv.requests()); n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
}

func TestInt32Overflow(t *testing.T) {
	srv := newAWSServer(t)
	clk := newClock("2026-03-04T10:00:00Z")
	var c counters
	m := newAWSMeter(t, srv, awsConfig(StrategyRequestBased), clk, &c)
	c.add(math.MaxInt32+10, 0)
	clk.set("2026-03-04T11:00:00Z")
	m.tick(context.Background())
	c.add(5, 0)
	clk.set("2026-03-04T12:00:00Z")
	m.tick(context.Background())
	wantBodies(t, srv, tMeter,
		meterUsageBody("tok-1", "encoded_messages", "2026-03-04T10:00:00Z", math.MaxInt32),
		meterUsageBody("tok-2", "encoded_messages", "2026-03-04T11:00:00Z", 15),
	)
	wantStats(t, m, Stats{Provider: "aws", Accepted: 2, CarriedOver: 10})
}

func TestRestartWithStateDirSendsPendingOnce(t *testing.T) {
	dir := t.TempDir()
	srv := newAWSServer(t)
	for range 4 {
		srv.push(tMeter, 500, awsErr("InternalServiceErrorException"))
	}
	cfg := awsConfig(StrategyRequestBased)
	cfg.StateDir = dir
	clk := newClock("2026-03-04T10:00:00Z")
	var c1 counters
	m1 := newAWSMeter(t, srv, cfg, clk, &c1)
	c1.add(7, 3)
	clk.set("2026-03-04T11:00:00Z")
	m1.tick(context.Background()) // both fail; records persisted
	c1.add(2, 2)
	clk.set("2026-03-04T11:10:00Z")
	m1.tick(context.Background()) // fail again; 11:00 bucket persisted
	// crash: m1 is dropped without Flush.

	clk.set("2026-03-04T11:30:00Z")
	var c2 counters // a new engine counts from zero
	m2, err := New(cfg, c2.source(), nil, WithClock(clk.now), WithAfter(clk.after), WithAWSClient(srv.client()), WithTokenGenerator(tokenSeq()))
	if err != nil {
		t.Fatal(err)
	}
	wantStats(t, m2, Stats{Provider: "aws", UnreportedEncoded: 9, UnreportedDecoded: 5, Pending: 2})
	m2.tick(context.Background())
	c2.add(1, 1)
	clk.set("2026-03-04T12:00:00Z")
	m2.tick(context.Background())
	b1 := meterUsageBody("tok-1", "encoded_messages", "2026-03-04T10:00:00Z", 7)
	b2 := meterUsageBody("tok-2", "decoded_messages", "2026-03-04T10:00:00Z", 3)
	wantBodies(t, srv, tMeter, b1, b2, b1, b2, b1, b2,
		meterUsageBody("tok-1", "encoded_messages", "2026-03-04T11:00:00Z", 3),
		meterUsageBody("tok-2", "decoded_messages", "2026-03-04T11:00:00Z", 3),
	)
	wantStats(t, m2, Stats{Provider: "aws", Accepted: 4})

	// A third process started in the same dir finds nothing to send.
	m3 := newAWSMeter(t, srv, cfg, clk, &counters{})
	wantStats(t, m3, Stats{Provider: "aws"})
	if err := m3.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.requests()); n != 8 {
		t.Fatalf("%d requests, want 8", n)
	}
}

func TestRunTicksOnIntervalAndHourAndStops(t *testing.T) {
	srv := newAWSServer(t)
	clk := newClock("2026-03-04T10:50:00Z")
	var c counters
	waits := make(chan time.Duration)
	fire := make(chan time.Time)
	after := func(d time.Duration) <-chan time.Time { waits <- d; return fire }
	m, err := New(awsConfig(StrategyRequestBased), c.source(), nil, WithClock(clk.now), WithAfter(after),
		WithAWSClient(srv.client()), WithTokenGenerator(tokenSeq()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	if d := <-waits; d != 10*time.Minute { // to the 11:00 boundary, not 15m
		t.Fatalf("first wait %v", d)
	}
	c.add(2, 1)
	clk.set("2026-03-04T11:00:00Z")
	fire <- clk.now()
	if d := <-waits; d != 15*time.Minute {
		t.Fatalf("second wait %v", d)
	}
	wantBodies(t, srv, tMeter,
		meterUsageBody("tok-1", "encoded_messages", "2026-03-04T10:00:00Z", 2),
		meterUsageBody("tok-2", "decoded_messages", "2026-03-04T10:00:00Z", 1),
	)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestCorruptStateIsMovedAside(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, StateFileName), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := awsConfig(StrategyRequestBased)
	cfg.StateDir = dir
	clk := newClock("2026-03-04T10:00:00Z")
	newAWSMeter(t, newAWSServer(t), cfg, clk, &counters{})
	if _, err := os.Stat(filepath.Join(dir, StateFileName+".bad-1772618400")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, StateFileName)); err != nil {
		t.Fatal(err) // a fresh file was written
	}
	cfg.StateDir = filepath.Join(dir, "missing")
	_, err := New(cfg, (&counters{}).source(), nil, WithAWSClient(newAWSServer(t).client()))
	if err == nil || !strings.HasPrefix(err.Error(), "metering: METERING_STATE_DIR="+cfg.StateDir+": not writable") {
		t.Fatalf("err %v", err)
	}
}

func TestSourceRequired(t *testing.T) {
	_, err := New(awsConfig(StrategyRequestBased), nil, nil, WithAWSClient(newAWSServer(t).client()))
	if !errors.Is(err, ErrSourceRequired) {
		t.Fatalf("err %v", err)
	}
}
