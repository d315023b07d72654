package metering

import (
	"testing"
	"time"
)

// defaults is Config as package config builds it with no variable set.
func defaults() Config {
	return Config{
		Strategy: StrategyNone, ReportInterval: DefaultReportInterval, AWSPublicKeyVersion: DefaultPublicKeyVer,
		AzureMeteringEndpoint: DefaultAzureMetering, AzureIMDSEndpoint: DefaultAzureIMDS, AzureARMEndpoint: DefaultAzureARM,
	}
}

func TestConfigDefaults(t *testing.T) {
	c := defaults()
	if err := c.Validate(); err != nil || c.Enabled() {
		t.Fatalf("%+v: %v", c, err)
	}
	if r := c.Redacted(); len(r) != 1 || r[0] != [2]string{"billing_strategy", "eclypses_no_billing"} {
		t.Fatalf("%v", r)
	}
}

func TestConfigAWS(t *testing.T) {
	c := defaults()
	c.Strategy, c.Provider, c.Product = StrategyRequestBased, ProviderAWS, "socketx"
	c.ReportInterval, c.AWSProductCode, c.AWSPublicKeyVersion, c.StateDir = 5*time.Minute, "abc", 2, "/var/lib/socketx"
	if err := c.Validate(); err != nil {
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

// TestConfigValidate: every cross-field problem, one line each. Variables
// that do not parse are package config's (config's TestMeteringVariables).
func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		set  func(*Config)
		want string
	}{
		{func(c *Config) { c.Strategy = "sometimes" },
			"metering: BILLING_STRATEGY=sometimes: one of eclypses_no_billing, register_usage, request_based, external_meter"},
		{func(c *Config) { c.Strategy, c.Provider, c.Product = StrategyRegisterUsage, "gcp", "other" },
			"metering: BILLING_PRODUCT=other: must be socketx when billing is enabled\n" +
				"metering: BILLING_PROVIDER=gcp: aws or azure when BILLING_STRATEGY is not eclypses_no_billing"},
		{func(c *Config) {
			c.Strategy, c.Provider, c.Product, c.AWSPublicKeyVersion = StrategyRequestBased, ProviderAWS, "socketx", 0
		},
			"metering: AWS_MARKETPLACE_PRODUCT_CODE=: required with BILLING_STRATEGY=request_based\n" +
				"metering: AWS_MARKETPLACE_PUBLIC_KEY_VERSION=0: a positive integer (default 1)"},
		{func(c *Config) {
			c.Strategy, c.Provider, c.Product, c.ReportInterval = StrategyRequestBased, ProviderAWS, "socketx", 2*time.Hour
			c.AWSProductCode, c.AWSEndpoint = "p", "localhost:4566"
		},
			"metering: BILLING_REPORT_INTERVAL=2h0m0s: a Go duration between 1s and 1h, such as 15m\n" +
				"metering: AWS_ENDPOINT_URL_MARKETPLACE_METERING=localhost:4566: an absolute http:// or https:// URL"},
		{func(c *Config) { c.Strategy, c.Provider, c.Product = StrategyExternalMeter, ProviderAWS, "socketx" },
			"metering: AWS_MARKETPLACE_EXTERNAL_PRODUCT_CODE=: required with BILLING_STRATEGY=external_meter"},
		{func(c *Config) {
			c.Strategy, c.Provider, c.Product, c.AzureTenantID = StrategyRegisterUsage, ProviderAzure, "socketx", "t"
		},
			"metering: BILLING_STRATEGY=register_usage: only request_based or eclypses_no_billing with BILLING_PROVIDER=azure\n" +
				"metering: AZURE_PLAN_ID=: required with BILLING_PROVIDER=azure (Helm global.azure.marketplace.planId)\n" +
				"metering: AZURE_FEDERATED_TOKEN_FILE=: workload identity needs both AZURE_FEDERATED_TOKEN_FILE and AZURE_TENANT_ID"},
	} {
		c := defaults()
		tc.set(&c)
		if err := c.Validate(); err == nil || err.Error() != tc.want {
			t.Fatalf("%+v\n got %v\nwant %s", c, err, tc.want)
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
