package metering

import (
	"testing"
	"time"
)

func lookupMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadConfigDefaults(t *testing.T) {
	c, err := LoadConfig(lookupMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Strategy != StrategyNone || c.ReportInterval != 15*time.Minute || c.AWSPublicKeyVersion != 1 ||
		c.AzureMeteringEndpoint != DefaultAzureMetering || c.AzureIMDSEndpoint != DefaultAzureIMDS || c.Enabled() {
		t.Fatalf("%+v", c)
	}
	if r := c.Redacted(); len(r) != 1 || r[0] != [2]string{"billing_strategy", "eclypses_no_billing"} {
		t.Fatalf("%v", r)
	}
}

func TestLoadConfigAWS(t *testing.T) {
	c, err := LoadConfig(lookupMap(map[string]string{
		"BILLING_STRATEGY": "request_based", "BILLING_PROVIDER": "aws", "BILLING_PRODUCT": "socketx",
		"BILLING_REPORT_INTERVAL": "5m", "AWS_MARKETPLACE_PRODUCT_CODE": "abc", "AWS_MARKETPLACE_PUBLIC_KEY_VERSION": "2",
		"METERING_STATE_DIR": "/var/lib/socketx",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{
		{"billing_strategy", "request_based"}, {"billing_provider", "aws"}, {"billing_product", "socketx"},
		{"billing_report_interval", "5m0s"}, {"metering_state_dir", "/var/lib/socketx"},
		{"aws_product_code", "abc"}, {"aws_public_key_version", "2"},
	}
	got := c.Redacted()
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%d: %v want %v", i, got[i], want[i])
		}
	}
}

func TestLoadConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"BILLING_STRATEGY": "sometimes"},
			"metering: BILLING_STRATEGY=sometimes: one of eclypses_no_billing, register_usage, request_based, external_meter"},
		{map[string]string{"BILLING_STRATEGY": "register_usage", "BILLING_PROVIDER": "gcp", "BILLING_PRODUCT": "other"},
			"metering: BILLING_PRODUCT=other: must be socketx when billing is enabled\n" +
				"metering: BILLING_PROVIDER=gcp: aws or azure when BILLING_STRATEGY is not eclypses_no_billing"},
		{map[string]string{"BILLING_STRATEGY": "request_based", "BILLING_PROVIDER": "aws", "BILLING_PRODUCT": "socketx",
			"BILLING_REPORT_INTERVAL": "soon", "AWS_MARKETPLACE_PUBLIC_KEY_VERSION": "0"},
			"metering: BILLING_REPORT_INTERVAL=soon: a Go duration between 1s and 1h, such as 15m\n" +
				"metering: AWS_MARKETPLACE_PUBLIC_KEY_VERSION=0: a positive integer (default 1)\n" +
				"metering: AWS_MARKETPLACE_PRODUCT_CODE=: required with BILLING_STRATEGY=request_based"},
		{map[string]string{"BILLING_STRATEGY": "request_based", "BILLING_PROVIDER": "aws", "BILLING_PRODUCT": "socketx",
			"BILLING_REPORT_INTERVAL": "2h", "AWS_MARKETPLACE_PRODUCT_CODE": "p", "AWS_ENDPOINT_URL_MARKETPLACE_METERING": "localhost:4566"},
			"metering: BILLING_REPORT_INTERVAL=2h0m0s: a Go duration between 1s and 1h, such as 15m\n" +
				"metering: AWS_ENDPOINT_URL_MARKETPLACE_METERING=localhost:4566: an absolute http:// or https:// URL"},
		{map[string]string{"BILLING_STRATEGY": "external_meter", "BILLING_PROVIDER": "aws", "BILLING_PRODUCT": "socketx"},
			"metering: AWS_MARKETPLACE_EXTERNAL_PRODUCT_CODE=: required with BILLING_STRATEGY=external_meter"},
		{map[string]string{"BILLING_STRATEGY": "register_usage", "BILLING_PROVIDER": "azure", "BILLING_PRODUCT": "socketx",
			"AZURE_TENANT_ID": "t"},
			"metering: BILLING_STRATEGY=register_usage: only request_based or eclypses_no_billing with BILLING_PROVIDER=azure\n" +
				"metering: AZURE_PLAN_ID=: required with BILLING_PROVIDER=azure (Helm global.azure.marketplace.planId)\n" +
				"metering: AZURE_FEDERATED_TOKEN_FILE=: workload identity needs both AZURE_FEDERATED_TOKEN_FILE and AZURE_TENANT_ID"},
	} {
		_, err := LoadConfig(lookupMap(tc.env))
		if err == nil || err.Error() != tc.want {
			t.Fatalf("env %v\n got %v\nwant %s", tc.env, err, tc.want)
		}
	}
}

func TestHourOf(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2026-03-04T10:59:59.999Z", "2026-03-04T10:00:00Z"},
		{"2026-03-04T11:00:00Z", "2026-03-04T11:00:00Z"},
		{"2026-03-04T11:30:00+05:30", "2026-03-04T06:00:00Z"},
		{"1969-12-31T23:30:00Z", "1969-12-31T23:00:00Z"},
	} {
		in, _ := time.Parse(time.RFC3339Nano, tc.in)
		if got := time.Unix(hourOf(in), 0).UTC().Format(time.RFC3339); got != tc.want {
			t.Fatalf("hourOf(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
