package metering

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// fakeClock is a movable clock. Its after advances the clock by d and
// fires at once, so retry waits take no real time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(s string) *fakeClock {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &fakeClock{t: t}
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) set(s string) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
func (c *fakeClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *fakeClock) after(d time.Duration) <-chan time.Time {
	c.advance(d)
	ch := make(chan time.Time, 1)
	ch <- c.now()
	return ch
}

// counters stands in for the engine's cumulative Stats().Encoded/Decoded.
type counters struct{ enc, dec atomic.Uint64 }

func (c *counters) source() Source {
	return func() (uint64, uint64) { return c.enc.Load(), c.dec.Load() }
}
func (c *counters) add(e, d uint64) { c.enc.Add(e); c.dec.Add(d) }

// tokenSeq returns tok-1, tok-2, ... for deterministic idempotency tokens.
func tokenSeq() func() string { return tokenSeqFrom("tok") }

// tokenSeqFrom returns prefix-1, prefix-2, ...: one prefix per process in
// restart tests, as random tokens never repeat across processes.
func tokenSeqFrom(prefix string) func() string {
	var n atomic.Int64
	return func() string { return fmt.Sprintf("%s-%d", prefix, n.Add(1)) }
}

type awsReq struct {
	Target string
	Body   string
}

type awsResp struct {
	status int
	body   string
}

// awsServer speaks AWS JSON 1.1 for AWSMPMeteringService and models the
// platform: one record per (dimension, hour); an identical request (same
// ClientToken and parameters) gets the same record id back; a different
// request for a recorded (dimension, hour) is a DuplicateRequestException.
type awsServer struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []awsReq
	script  map[string][]awsResp // target → responses to send first
	records map[string]string    // dimension|timestamp → body that made it
	ids     map[string]string    // body → record id
	// now, when set, makes MeterUsage refuse a Timestamp after now or more
	// than 6 h before it (TimestampOutOfBoundsException), as AWS does.
	now func() time.Time
}

func newAWSServer(t *testing.T) *awsServer {
	s := &awsServer{script: map[string][]awsResp{}, records: map[string]string{}, ids: map[string]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Close)
	return s
}

func (s *awsServer) push(target string, status int, body string) {
	s.mu.Lock()
	s.script[target] = append(s.script[target], awsResp{status, body})
	s.mu.Unlock()
}

func awsErr(code string) string {
	return fmt.Sprintf(`{"__type":"%s","message":"%s message"}`, code, code)
}

func (s *awsServer) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	target := r.Header.Get("X-Amz-Target")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, awsReq{Target: target, Body: string(body)})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if q := s.script[target]; len(q) > 0 {
		s.script[target] = q[1:]
		w.WriteHeader(q[0].status)
		io.WriteString(w, q[0].body)
		return
	}
	switch target {
	case "AWSMPMeteringService.RegisterUsage":
		io.WriteString(w, `{"Signature":"eyJhbGciOi.sig"}`)
	case "AWSMPMeteringService.MeterUsage":
		var in struct {
			Timestamp      float64
			UsageDimension string
		}
		_ = json.Unmarshal(body, &in)
		if s.now != nil {
			ts := time.Unix(int64(in.Timestamp), 0)
			if ts.After(s.now()) || s.now().Sub(ts) > awsMaxAge {
				w.WriteHeader(400)
				io.WriteString(w, awsErr("TimestampOutOfBoundsException"))
				return
			}
		}
		key := fmt.Sprintf("%s|%d", in.UsageDimension, int64(in.Timestamp))
		if prev, ok := s.records[key]; ok && prev != string(body) {
			w.WriteHeader(400)
			io.WriteString(w, awsErr("DuplicateRequestException"))
			return
		}
		s.records[key] = string(body)
		if s.ids[string(body)] == "" {
			s.ids[string(body)] = fmt.Sprintf("rec-%d", len(s.ids)+1)
		}
		fmt.Fprintf(w, `{"MeteringRecordId":"%s"}`, s.ids[string(body)])
	default:
		w.WriteHeader(400)
		io.WriteString(w, awsErr("UnknownOperationException"))
	}
}

func (s *awsServer) requests() []awsReq {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]awsReq(nil), s.reqs...)
}

// client is the real SDK client pointed at the server with static keys.
func (s *awsServer) client() AWSAPI {
	return NewAWSClient(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	}, s.URL)
}

func awsConfig(strategy Strategy) Config {
	return Config{
		Strategy: strategy, Provider: ProviderAWS, Product: "socketx", ReportInterval: 15 * time.Minute,
		AWSProductCode: "prod-abc", AWSExternalProductCode: "prod-ext", AWSPublicKeyVersion: 1,
	}
}

// meterUsageBody is the exact JSON the SDK sends for one record.
func meterUsageBody(token, dim string, hour string, qty int) string {
	t, _ := time.Parse(time.RFC3339, hour)
	return fmt.Sprintf(`{"ClientToken":"%s","ProductCode":"prod-abc","Timestamp":%d,"UsageDimension":"%s","UsageQuantity":%d}`,
		token, t.Unix(), dim, qty)
}
