package metering

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const extID = "/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.ContainerService/managedClusters/aks/providers/Microsoft.KubernetesConfiguration/extensions/socketx"

type azReq struct {
	Path, Auth, RequestID, Body string
}

type azResp struct {
	status int
	body   string
}

// azureServer stands in for the metering API, IMDS and ARM. Unscripted
// usage events model the platform: the first event of a (resource,
// dimension, hour) is Accepted, any later one is a duplicate (409, or batch
// status Duplicate). Results echo effectiveStartTime through echoTime.
type azureServer struct {
	*httptest.Server
	mu       sync.Mutex
	reqs     []azReq
	script   map[string][]azResp // path → responses
	accepted map[string]bool     // resource|dimension|hour start → recorded
	echoTime func(sent string) string
}

func newAzureServer(t *testing.T) *azureServer {
	s := &azureServer{script: map[string][]azResp{}, accepted: map[string]bool{}, echoTime: func(v string) string { return v }}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.reqs = append(s.reqs, azReq{r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("x-ms-requestid"), string(body)})
		if r.URL.Path == "/metadata/instance" && r.Header.Get("Metadata") != "true" {
			w.WriteHeader(400)
			return
		}
		if q := s.script[r.URL.Path]; len(q) > 0 {
			s.script[r.URL.Path] = q[1:]
			w.WriteHeader(q[0].status)
			io.WriteString(w, q[0].body)
			return
		}
		if r.URL.Path == "/api/usageEvent" {
			var e azureEvent
			_ = json.Unmarshal(body, &e)
			if !s.recordLocked(e) {
				w.WriteHeader(409)
				fmt.Fprintf(w, `{"additionalInfo":{"acceptedMessage":{"usageEventId":"evt-%s-%s","status":"Duplicate"}},"code":"Conflict"}`,
					e.Dimension, e.EffectiveStartTime)
				return
			}
			fmt.Fprintf(w, `{"usageEventId":"evt-%s-%s","status":"Accepted","dimension":"%s","effectiveStartTime":"%s"}`,
				e.Dimension, e.EffectiveStartTime, e.Dimension, s.echoTime(e.EffectiveStartTime))
			return
		}
		if r.URL.Path == "/api/batchUsageEvent" {
			var b struct{ Request []azureEvent }
			_ = json.Unmarshal(body, &b)
			var res []string
			for _, e := range b.Request {
				status := "Accepted"
				if !s.recordLocked(e) {
					status = "Duplicate"
				}
				res = append(res, fmt.Sprintf(`{"usageEventId":"evt-%s","status":"%s","resourceId":"%s","resourceUri":"%s","dimension":"%s","effectiveStartTime":"%s"}`,
					e.Dimension, status, e.ResourceID, e.ResourceURI, e.Dimension, s.echoTime(e.EffectiveStartTime)))
			}
			fmt.Fprintf(w, `{"count":%d,"result":[%s]}`, len(res), strings.Join(res, ","))
			return
		}
		w.WriteHeader(404)
	}))
	t.Cleanup(s.Close)
	return s
}

// recordLocked notes e as recorded; false if its hour already has one.
func (s *azureServer) recordLocked(e azureEvent) bool {
	ts, _ := time.Parse(time.RFC3339, e.EffectiveStartTime)
	key := fmt.Sprintf("%s%s|%s|%d", e.ResourceID, e.ResourceURI, e.Dimension, hourOf(ts))
	if s.accepted[key] {
		return false
	}
	s.accepted[key] = true
	return true
}

func (s *azureServer) push(path string, status int, body string) {
	s.mu.Lock()
	s.script[path] = append(s.script[path], azResp{status, body})
	s.mu.Unlock()
}

func (s *azureServer) requests(path string) []azReq {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []azReq
	for _, r := range s.reqs {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// fakeTokens issues tok-<scope-kind>-N valid for one hour of the fake clock.
type fakeTokens struct {
	mu    sync.Mutex
	clk   *fakeClock
	calls []string
	err   error
}

func (f *fakeTokens) Token(_ context.Context, scope string) (AccessToken, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, scope)
	if f.err != nil {
		return AccessToken{}, f.err
	}
	return AccessToken{Value: fmt.Sprintf("at-%d", len(f.calls)), ExpiresOn: f.clk.now().Add(time.Hour)}, nil
}

func azureConfig(url string) Config {
	return Config{
		Strategy: StrategyRequestBased, Provider: ProviderAzure, Product: "socketx", ReportInterval: 15 * time.Minute,
		AzureExtensionResourceID: extID, AzurePlanID: "plan-1",
		AzureMeteringEndpoint: url, AzureIMDSEndpoint: url, AzureARMEndpoint: url,
	}
}

func newAzureMeter(t *testing.T, cfg Config, clk *fakeClock, c *counters, tokens *fakeTokens) *Meter {
	t.Helper()
	m, err := New(cfg, c.source(), nil, WithClock(clk.now), WithAfter(clk.after), WithTokenSource(tokens), WithTokenGenerator(tokenSeq()))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func azBody(dim, hour string, qty int) string {
	return fmt.Sprintf(`{"resourceUri":"%s","quantity":%d,"dimension":"%s","effectiveStartTime":"%s","planId":"plan-1"}`, extID, qty, dim, hour)
}

func TestAzureAcceptedAndExactBody(t *testing.T) {
	srv := newAzureServer(t)
	clk := newClock("2026-03-04T10:00:00Z")
	var c counters
	tokens := &fakeTokens{clk: clk}
	m := newAzureMeter(t, azureConfig(srv.URL), clk, &c, tokens)
	if err := m.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.add(12, 0)
	clk.set("2026-03-04T11:00:00Z")
	m.tick(context.Background())
	got := srv.requests("/api/usageEvent")
	want := azReq{"/api/usageEvent", "Bearer at-1", "tok-1", azBody("encodedMessages", "2026-03-04T10:00:00Z", 12)}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("requests %+v\nwant %+v", got, want)
	}
	if strings.Join(tokens.calls, ",") != AzureMeteringScope {
		t.Fatalf("token scopes %v", tokens.calls)
	}
	wantStats(t, m, Stats{Provider: "azure", Accepted: 1})
}

func TestAzureResourceIDPrecedence(t *testing.T) {
	srv := newAzureServer(t)
	cfg := azureConfig(srv.URL)
	cfg.AzureResourceID = "11111111-2222-3333-4444-555555555555" // SaaS-style GUID → resourceId
	clk := newClock("2026-03-04T10:00:00Z")
	var c counters
	m := newAzureMeter(t, cfg, clk, &c, &fakeTokens{clk: clk})
	c.add(0, 3)
	clk.set("2026-03-04T11:00:00Z")
	m.tick(context.Background())
	want := `{"resourceId":"11111111-2222-3333-4444-555555555555","quantity":3,"dimension":"decodedMessages","effectiveStartTime":"2026-03-04T10:00:00Z","planId":"plan-1"}`
	if got := srv.requests("/api/usageEvent"); len(got) != 1 || got[0].Body != want {
		t.Fatalf("requests %+v", got)
	}
	if n := len(srv.requests("/metadata/instance")); n != 0 {
		t.Fatalf("IMDS called %d times", n)
	}
}

func TestAzureDuplicateExpiredForbidden(t *testing.T) {
	srv := newAzureServer(t)
	srv.push("/api/usageEvent", 409, `{"additionalInfo":{"acceptedMessage":{"usageEventId":"evt-old","status":"Duplicate"}},"message":"This usage event already exist.","code":"Conflict"}`)
	srv.push("/api/usageEvent", 400, `{"message":"One or more errors have occurred.","target":"usageEventRequest","details":[{"message":"The effectiveStartTime must be within the last 24 hours.","target":"effectiveStartTime","code":"BadArgument"}],"code":"BadArgument"}`)
	clk := newClock("2026-03-04T10:00:00Z")
	var c counters
	tokens := &fakeTokens{clk: clk}
	m := newAzureMeter(t, azureConfig(srv.URL), clk, &c, tokens)
	c.add(5, 6)
	clk.set("2026-03-04T11:00:00Z")
	// Two records due together go in one batch; a 503 fails both.
	srv.push("/api/batchUsageEvent", 503, "busy")
	m.tick(context.Background())
	clk.advance(retryCap)
	m.tick(context.Background()) // the same batch again, accepted
	got := srv.requests("/api/batchUsageEvent")
	if len(got) != 2 {
		t.Fatalf("batch requests %d", len(got))
	}
	s := m.Stats()
	if s.Failed != 2 || s.Pending != 0 || s.Accepted != 2 {
		t.Fatalf("stats %+v", s)
	}

	// Single events: 409 then 400 expired then 403 twice (refresh once).
	srv2 := newAzureServer(t)
	srv2.push("/api/usageEvent", 409, `{"additionalInfo":{"acceptedMessage":{"usageEventId":"evt-old","status":"Duplicate"}},"code":"Conflict"}`)
	srv2.push("/api/usageEvent", 400, `{"details":[{"target":"effectiveStartTime","code":"BadArgument"}],"code":"BadArgument"}`)
	srv2.push("/api/usageEvent", 403, `{"code":"Forbidden"}`)
	srv2.push("/api/usageEvent", 403, `{"code":"Forbidden"}`)
	clk2 := newClock("2026-03-04T10:00:00Z")
	var c2 counters
	tokens2 := &fakeTokens{clk: clk2}
	m2 := newAzureMeter(t, azureConfig(srv2.URL), clk2, &c2, tokens2)
	for i, hour := range []string{"2026-03-04T11:00:00Z", "2026-03-04T12:00:00Z", "2026-03-04T13:00:00Z"} {
		c2.add(uint64(i+1), 0)
		clk2.set(hour)
		m2.tick(context.Background())
	}
	wantStats(t, m2, Stats{Provider: "azure", Duplicate: 1, Expired: 1, Failed: 1, LostEncoded: 2, UnreportedEncoded: 3, Pending: 1})
	got2 := srv2.requests("/api/usageEvent")
	if len(got2) != 4 || got2[2].Auth != "Bearer at-3" || got2[3].Auth != "Bearer at-4" || got2[2].Body != got2[3].Body {
		t.Fatalf("403 should refresh the token once and resend: %+v", got2)
	}
	clk2.advance(retryCap)
	m2.tick(context.Background())
	wantStats(t, m2, Stats{Provider: "azure", Accepted: 1, Duplicate: 1, Expired: 1, Failed: 1, LostEncoded: 2})
}

func TestAzureTokenRefreshOnExpiry(t *testing.T) {
	srv := newAzureServer(t)
	clk := newClock("2026-03-04T10:00:00Z")
	var c counters
	tokens := &fakeTokens{clk: clk}
	m := newAzureMeter(t, azureConfig(srv.URL), clk, &c, tokens)
	for _, hour := range []string{"2026-03-04T11:00:00Z", "2026-03-04T11:54:00Z", "2026-03-04T12:00:00Z"} {
		c.add(1, 0)
		clk.set(hour)
		m.tick(context.Background())
	}
	// at-1 issued at 11:00, valid to 12:00, refreshed 5 min early.
	var auths []string
	for _, r := range srv.requests("/api/usageEvent") {
		auths = append(auths, r.Auth)
	}
	if strings.Join(auths, ",") != "Bearer at-1,Bearer at-2" || len(tokens.calls) != 2 {
		t.Fatalf("auths %v, token calls %d", auths, len(tokens.calls))
	}
}

func TestAzureBatchPartialResults(t *testing.T) {
	srv := newAzureServer(t)
	clk := newClock("2026-03-04T10:00:00Z")
	var c counters
	m := newAzureMeter(t, azureConfig(srv.URL), clk, &c, &fakeTokens{clk: clk})
	c.add(10, 20)
	clk.set("2026-03-04T11:00:00Z")
	srv.push("/api/batchUsageEvent", 200, `{"count":2,"result":[
	 {"usageEventId":"evt-b","status":"Duplicate","dimension":"decodedMessages","effectiveStartTime":"2026-03-04T10:00:00Z",
	  "error":{"code":"Conflict","additionalInfo":{"acceptedMessage":{"usageEventId":"evt-b0"}}}},
	 {"usageEventId":"evt-a","status":"Error","dimension":"encodedMessages","effectiveStartTime":"2026-03-04T10:00:00Z","error":{"code":"InternalError","message":"try later"}}]}`)
	m.tick(context.Background())
	wantStats(t, m, Stats{Provider: "azure", Duplicate: 1, Failed: 1, UnreportedEncoded: 10, Pending: 1})
	enc10 := azBody("encodedMessages", "2026-03-04T10:00:00Z", 10)
	want := `{"request":[` + enc10 + "," + azBody("decodedMessages", "2026-03-04T10:00:00Z", 20) + `]}`
	if got := srv.requests("/api/batchUsageEvent"); len(got) != 1 || got[0].Body != want || got[0].RequestID != "tok-1" {
		t.Fatalf("batch %+v\nwant %s", got, want)
	}
	// At 12:00 the retry goes out in its own batch under its first request
	// id; the two new records make a second batch that mixes Expired and
	// ResourceNotActive.
	c.add(1, 1)
	clk.set("2026-03-04T12:00:00Z")
	srv.push("/api/batchUsageEvent", 200, `{"count":1,"result":[
	 {"usageEventId":"e1","status":"Accepted","dimension":"encodedMessages","effectiveStartTime":"2026-03-04T10:00:00Z"}]}`)
	srv.push("/api/batchUsageEvent", 200, `{"count":2,"result":[
	 {"usageEventId":"e2","status":"Expired","dimension":"encodedMessages","effectiveStartTime":"2026-03-04T11:00:00Z"},
	 {"usageEventId":"e3","status":"ResourceNotActive","dimension":"decodedMessages","effectiveStartTime":"2026-03-04T11:00:00Z"}]}`)
	m.tick(context.Background())
	got := srv.requests("/api/batchUsageEvent")
	if len(got) != 3 || got[1].RequestID != "tok-1" || got[1].Body != `{"request":[`+enc10+`]}` || got[2].RequestID != "tok-3" {
		t.Fatalf("batches %+v", got)
	}
	if n := len(srv.requests("/api/usageEvent")); n != 0 {
		t.Fatalf("%d single events, want 0", n)
	}
	wantStats(t, m, Stats{Provider: "azure", Accepted: 1, Duplicate: 1, Rejected: 1, Expired: 1, Failed: 1, LostEncoded: 1, LostDecoded: 1})
}

// A record first sent in a batch is retried as the byte-identical event in
// a batch under the same x-ms-requestid, alone or with its batch's other
// pending events, never as a single event with its own id; a record first
// sent alone stays a single event. New records never join a retry.
func TestAzureBatchRetryIsTheIdenticalEvent(t *testing.T) {
	srv := newAzureServer(t)
	clk := newClock("2026-03-04T10:00:00Z")
	var c counters
	m := newAzureMeter(t, azureConfig(srv.URL), clk, &c, &fakeTokens{clk: clk})
	ctx := context.Background()
	c.add(10, 20)
	clk.set("2026-03-04T11:00:00Z")
	srv.push("/api/batchUsageEvent", 200, `{"count":2,"result":[
	 {"status":"Accepted","usageEventId":"e1","dimension":"encodedMessages","effectiveStartTime":"2026-03-04T10:00:00Z"},
	 {"status":"Error","dimension":"decodedMessages","effectiveStartTime":"2026-03-04T10:00:00Z","error":{"code":"InternalError"}}]}`)
	srv.push("/api/batchUsageEvent", 503, "busy")
	m.tick(ctx) // tok-1 batch: encoded accepted, decoded failed
	clk.advance(retryCap)
	m.tick(ctx) // the decoded event again: 503
	c.add(0, 7)
	clk.set("2026-03-04T12:00:00Z")
	m.tick(ctx) // the retry once more, and a new record for 11:00
	dec10 := azBody("decodedMessages", "2026-03-04T10:00:00Z", 20)
	want := []azReq{
		{"/api/batchUsageEvent", "Bearer at-1", "tok-1", `{"request":[` + azBody("encodedMessages", "2026-03-04T10:00:00Z", 10) + "," + dec10 + `]}`},
		{"/api/batchUsageEvent", "Bearer at-1", "tok-1", `{"request":[` + dec10 + `]}`},
		{"/api/batchUsageEvent", "Bearer at-2", "tok-1", `{"request":[` + dec10 + `]}`},
		{"/api/usageEvent", "Bearer at-2", "tok-3", azBody("decodedMessages", "2026-03-04T11:00:00Z", 7)},
	}
	got := append(srv.requests("/api/batchUsageEvent"), srv.requests("/api/usageEvent")...)
	if len(got) != len(want) {
		t.Fatalf("requests %+v\nwant %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("request %d\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	wantStats(t, m, Stats{Provider: "azure", Accepted: 3, Failed: 2})

	// A single event that failed is retried alone at 13:00, beside a new batch.
	srv.push("/api/usageEvent", 503, "busy")
	c.add(1, 0)
	clk.set("2026-03-04T13:00:00Z")
	m.tick(ctx)
	c.add(5, 5)
	clk.set("2026-03-04T14:00:00Z")
	m.tick(ctx)
	enc12 := azBody("encodedMessages", "2026-03-04T12:00:00Z", 1)
	singles := srv.requests("/api/usageEvent")
	batches := srv.requests("/api/batchUsageEvent")
	if len(singles) != 3 || singles[1].RequestID != "tok-4" || singles[1].Body != enc12 || singles[2] != (azReq{singles[2].Path, singles[2].Auth, "tok-4", enc12}) ||
		len(batches) != 4 || batches[3].RequestID != "tok-5" {
		t.Fatalf("singles %+v\nbatches %+v", singles, batches)
	}
	wantStats(t, m, Stats{Provider: "azure", Accepted: 6, Failed: 3})
}

// The batch request id is persisted before the first attempt: after a crash
// the next process resends the same batch, byte for byte.
func TestAzureBatchRetryAfterRestartIsIdentical(t *testing.T) {
	dir := t.TempDir()
	srv := newAzureServer(t)
	cfg := azureConfig(srv.URL)
	cfg.StateDir = dir
	clk := newClock("2026-03-04T10:00:00Z")
	var c1 counters
	m1, err := New(cfg, c1.source(), nil, WithClock(clk.now), WithAfter(clk.after),
		WithTokenSource(&fakeTokens{clk: clk}), WithTokenGenerator(tokenSeqFrom("a")))
	if err != nil {
		t.Fatal(err)
	}
	c1.add(3, 4)
	clk.set("2026-03-04T11:00:00Z")
	srv.push("/api/batchUsageEvent", 503, "busy")
	m1.tick(context.Background())
	// crash; a new process at 11:20
	clk.set("2026-03-04T11:20:00Z")
	var c2 counters
	m2, err := New(cfg, c2.source(), nil, WithClock(clk.now), WithAfter(clk.after),
		WithTokenSource(&fakeTokens{clk: clk}), WithTokenGenerator(tokenSeqFrom("b")))
	if err != nil {
		t.Fatal(err)
	}
	m2.tick(context.Background())
	got := srv.requests("/api/batchUsageEvent")
	if len(got) != 2 || got[0].RequestID != "a-1" || got[1].RequestID != "a-1" || got[0].Body != got[1].Body {
		t.Fatalf("batches %+v", got)
	}
	wantStats(t, m2, Stats{Provider: "azure", Accepted: 2})
}

// Batch results are matched on dimension, resource and the parsed hour, so
// an Accepted event is final whatever timestamp format the result uses, and
// is never retried into a Duplicate.
func TestAzureBatchResultsMatchOnParsedHour(t *testing.T) {
	for _, format := range []func(string) string{
		func(v string) string { return v },
		func(v string) string { return strings.TrimSuffix(v, "Z") },               // no zone (as in Azure's examples)
		func(v string) string { return strings.TrimSuffix(v, "Z") + ".0000000Z" }, // 100 ns digits
		func(v string) string { return strings.TrimSuffix(v, "Z") + "+00:00" },
		func(v string) string { return strings.TrimSuffix(v, "Z") + ".000+00:00" },
		func(v string) string { return strings.Replace(v, ":00:00Z", ":17:42.5Z", 1) }, // a time inside the hour
	} {
		srv := newAzureServer(t)
		srv.echoTime = format
		clk := newClock("2026-03-04T10:00:00Z")
		var c counters
		m := newAzureMeter(t, azureConfig(srv.URL), clk, &c, &fakeTokens{clk: clk})
		c.add(10, 20)
		clk.set("2026-03-04T11:00:00Z")
		m.tick(context.Background())
		clk.advance(retryCap)
		m.tick(context.Background())
		if n := len(srv.requests("/api/batchUsageEvent")) + len(srv.requests("/api/usageEvent")); n != 1 {
			t.Fatalf("format %q: %d requests, want 1", format("2026-03-04T10:00:00Z"), n)
		}
		wantStats(t, m, Stats{Provider: "azure", Accepted: 2})
	}

	// A result for another resource does not settle our event.
	srv := newAzureServer(t)
	srv.push("/api/batchUsageEvent", 200, `{"count":2,"result":[
	 {"status":"Accepted","resourceUri":"/subscriptions/other","dimension":"encodedMessages","effectiveStartTime":"2026-03-04T10:00:00"},
	 {"status":"Accepted","resourceUri":"`+extID+`","dimension":"decodedMessages","effectiveStartTime":"2026-03-04T10:00:00"}]}`)
	clk := newClock("2026-03-04T10:00:00Z")
	var c counters
	m := newAzureMeter(t, azureConfig(srv.URL), clk, &c, &fakeTokens{clk: clk})
	c.add(1, 2)
	clk.set("2026-03-04T11:00:00Z")
	m.tick(context.Background())
	wantStats(t, m, Stats{Provider: "azure", Accepted: 1, Failed: 1, UnreportedEncoded: 1, Pending: 1})
}

func TestAzureIMDSDiscovery(t *testing.T) {
	srv := newAzureServer(t)
	srv.push("/metadata/instance", 200, `{"compute":{"subscriptionId":"sub-9","resourceGroupName":"mrg-9"}}`)
	srv.push("/subscriptions/sub-9/resourceGroups/mrg-9", 200, `{"managedBy":"/subscriptions/sub-9/resourceGroups/app-rg/providers/Microsoft.Solutions/applications/socketx-app"}`)
	srv.push("/subscriptions/sub-9/resourceGroups/app-rg/providers/Microsoft.Solutions/applications/socketx-app", 200,
		`{"properties":{"billingDetails":{"resourceUsageId":"aaaa-bbbb"}}}`)
	cfg := azureConfig(srv.URL)
	cfg.AzureExtensionResourceID = ""
	clk := newClock("2026-03-04T10:00:00Z")
	tokens := &fakeTokens{clk: clk}
	var c counters
	m := newAzureMeter(t, cfg, clk, &c, tokens)
	if err := m.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := m.rep.(*azureReporter).resourceID; got != "aaaa-bbbb" {
		t.Fatalf("resource id %q", got)
	}
	if strings.Join(tokens.calls, ",") != azureARMScope {
		t.Fatalf("scopes %v", tokens.calls)
	}

	// Unmanaged resource group: fatal at start, not retried.
	srv2 := newAzureServer(t)
	srv2.push("/metadata/instance", 200, `{"compute":{"subscriptionId":"s","resourceGroupName":"r"}}`)
	srv2.push("/subscriptions/s/resourceGroups/r", 200, `{}`)
	cfg2 := azureConfig(srv2.URL)
	cfg2.AzureExtensionResourceID = ""
	m2 := newAzureMeter(t, cfg2, clk, &c, &fakeTokens{clk: clk})
	err := m2.Register(context.Background())
	var fe *FatalError
	want := "metering: azure resource id: NoResourceID: set AZURE_RESOURCE_ID or AZURE_EXTENSION_RESOURCE_ID (metering: no azure resource id (set AZURE_RESOURCE_ID): resource group r is not managed by an application)"
	if !errors.As(err, &fe) || err.Error() != want {
		t.Fatalf("err %v", err)
	}
}

func TestAzureTokenFailureIsRetried(t *testing.T) {
	srv := newAzureServer(t)
	clk := newClock("2026-03-04T10:00:00Z")
	tokens := &fakeTokens{clk: clk, err: errors.New("identity endpoint down")}
	var c counters
	m := newAzureMeter(t, azureConfig(srv.URL), clk, &c, tokens)
	c.add(1, 0)
	clk.set("2026-03-04T11:00:00Z")
	m.tick(context.Background())
	wantStats(t, m, Stats{Provider: "azure", Failed: 1, UnreportedEncoded: 1, Pending: 1})
	tokens.mu.Lock()
	tokens.err = nil
	tokens.mu.Unlock()
	clk.advance(retryCap)
	m.tick(context.Background())
	wantStats(t, m, Stats{Provider: "azure", Failed: 1, Accepted: 1})
}

// The azidentity wiring is checked by construction only: tests never reach
// a real identity endpoint.
func TestAzureIdentityConstruction(t *testing.T) {
	cfg := azureConfig("http://127.0.0.1:1")
	ts, err := newAzureTokenSource(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ts.(CredentialTokenSource); !ok {
		t.Fatalf("%T", ts)
	}
	f := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(f, []byte("jwt"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.AzureClientID, cfg.AzureTenantID, cfg.AzureFederatedTokenFile = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002", f
	if _, err := newAzureTokenSource(cfg); err != nil {
		t.Fatal(err)
	}
}
