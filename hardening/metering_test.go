package hardening

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/socketx/socketx-server/client"
	"github.com/socketx/socketx-server/internal/testupstream"
	"github.com/socketx/socketx-server/mte"
)

// flakyAWS speaks the AWS JSON 1.1 protocol of AWSMPMeteringService and
// answers 503 to the first failFirst MeterUsage calls (the endpoint is
// down), then accepts.
type flakyAWS struct {
	mu        sync.Mutex // guards the following
	failFirst int
	calls     []map[string]any // every MeterUsage body, failed ones too
	accepted  []map[string]any
}

func (f *flakyAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req map[string]any
	_ = json.Unmarshal(body, &req)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch r.Header.Get("X-Amz-Target") {
	case "AWSMPMeteringService.RegisterUsage":
		fmt.Fprint(w, `{"Signature":"sig"}`)
	case "AWSMPMeteringService.MeterUsage":
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls = append(f.calls, req)
		if len(f.calls) <= f.failFirst {
			w.WriteHeader(503)
			fmt.Fprint(w, `{"__type":"ServiceUnavailableException","message":"down"}`)
			return
		}
		f.accepted = append(f.accepted, req)
		fmt.Fprintf(w, `{"MeteringRecordId":"rec-%d"}`, len(f.accepted))
	default:
		w.WriteHeader(400)
		fmt.Fprint(w, `{"__type":"UnknownOperationException"}`)
	}
}

// TestFaultMeteringEndpointDown: the metering endpoint fails the first
// attempts; the records sent once it is back total exactly the relayed
// messages, one accepted record per dimension, none duplicated.
func TestFaultMeteringEndpointDown(t *testing.T) {
	aws := &flakyAWS{failFirst: 3}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: aws}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { hs.Close() })

	echo := testupstream.NewEcho(t)
	p := startSocketx(t,
		`DOMAIN_MAP={"*":{"upstream":"`+echo.URL+`","allowedOrigins":["*"]}}`,
		"LOG_LEVEL=info", "DRAIN_TIMEOUT=1s", "BILLING_STRATEGY=request_based",
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL_MARKETPLACE_METERING=http://"+ln.Addr().String(),
		"BILLING_PROVIDER=aws", "BILLING_PRODUCT=socketx", "AWS_MARKETPLACE_PRODUCT_CODE=prod-123")

	const perConn, conns = 23, 3
	for range conns {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := client.Dial(ctx, p.URL("/bill"), client.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range perConn {
			msg := []byte(fmt.Sprint(i))
			if err := c.Send(ctx, mte.TypeText, msg); err != nil {
				t.Fatal(err)
			}
			if _, got, err := c.Receive(ctx); err != nil || string(got) != string(msg) {
				t.Fatalf("echo %q %v", got, err)
			}
		}
		_ = c.Close(1000, "")
		cancel()
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.Exit:
		if err != nil {
			t.Fatalf("exit: %v; output:\n%s", err, p.Output())
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("no exit; output:\n%s", p.Output())
	}
	aws.mu.Lock()
	defer aws.mu.Unlock()
	got := map[string]float64{}
	tokens := map[string]int{}
	for _, r := range aws.accepted {
		dim, _ := r["UsageDimension"].(string)
		q, _ := r["UsageQuantity"].(float64)
		got[dim] += q
		tokens[fmt.Sprint(r["Timestamp"], dim)]++
	}
	want := float64(perConn * conns)
	if len(aws.accepted) != 2 || got["encoded_messages"] != want || got["decoded_messages"] != want {
		t.Fatalf("accepted %v (of %d calls, %d refused): got %v, want %v encoded and decoded in one record each", aws.accepted, len(aws.calls), aws.failFirst, got, want)
	}
	for k, n := range tokens {
		if n != 1 {
			t.Fatalf("record %s accepted %d times", k, n)
		}
	}
	t.Logf("metering: %d MeterUsage calls, %d refused with 503, %d accepted: %v", len(aws.calls), aws.failFirst, len(aws.accepted), got)
}
