package config

import (
	"strings"
	"testing"
	"time"

	"github.com/socketx/socketx-server/metering"
)

// TestMeteringVariables: each metering variable reaches its field, values
// that do not parse are reported by config, the rules across them by
// metering.Config.Validate, all at once.
func TestMeteringVariables(t *testing.T) {
	c, err := Load(env("DOMAIN_MAP", minimalMap,
		"BILLING_STRATEGY", "Request_Based", "BILLING_PROVIDER", "AWS", "BILLING_PRODUCT", "socketx",
		"BILLING_REPORT_INTERVAL", "5m", "AWS_MARKETPLACE_PRODUCT_CODE", "abc", "AWS_MARKETPLACE_PUBLIC_KEY_VERSION", "2",
		"METERING_STATE_DIR", "/var/lib/socketx", "AWS_ENDPOINT_URL_MARKETPLACE_METERING", "http://127.0.0.1:4566",
		"AWS_MARKETPLACE_EXTERNAL_PRODUCT_CODE", "ext",
		"AZURE_RESOURCE_ID", "r", "AZURE_EXTENSION_RESOURCE_ID", "x", "AZURE_PLAN_ID", "p", "AZURE_CLIENT_ID", "c",
		"AZURE_TENANT_ID", "t", "AZURE_FEDERATED_TOKEN_FILE", "/f", "AZURE_METERING_ENDPOINT", "http://m",
		"AZURE_IMDS_ENDPOINT", "http://i", "AZURE_ARM_ENDPOINT", "http://a"))
	if err != nil {
		t.Fatal(err)
	}
	want := metering.Config{
		Strategy: metering.StrategyRequestBased, Provider: metering.ProviderAWS, Product: "socketx",
		ReportInterval: 5 * time.Minute, StateDir: "/var/lib/socketx",
		AWSProductCode: "abc", AWSExternalProductCode: "ext", AWSPublicKeyVersion: 2, AWSEndpoint: "http://127.0.0.1:4566",
		AzureResourceID: "r", AzureExtensionResourceID: "x", AzurePlanID: "p", AzureClientID: "c",
		AzureTenantID: "t", AzureFederatedTokenFile: "/f",
		AzureMeteringEndpoint: "http://m", AzureIMDSEndpoint: "http://i", AzureARMEndpoint: "http://a",
	}
	if c.Metering != want {
		t.Fatalf("metering:\n got %+v\nwant %+v", c.Metering, want)
	}
	red := c.Redacted()
	if last := red[len(red)-1]; last != [2]string{"aws_metering_endpoint", "http://127.0.0.1:4566"} {
		t.Fatalf("metering's settings do not end the redacted view: %v", last)
	}

	// A value that does not parse is reported once and replaced by its
	// default, so metering's rules judge the rest.
	_, err = Load(env("DOMAIN_MAP", minimalMap, "BILLING_STRATEGY", "request_based", "BILLING_PROVIDER", "aws",
		"BILLING_PRODUCT", "socketx", "BILLING_REPORT_INTERVAL", "soon", "AWS_MARKETPLACE_PUBLIC_KEY_VERSION", "0"))
	wantErr := strings.Join([]string{
		`config: BILLING_REPORT_INTERVAL="soon": want whole seconds (like 900) or a Go duration (like 15m)`,
		`config: AWS_MARKETPLACE_PUBLIC_KEY_VERSION="0": want an integer from 1 to 2147483647`,
		"metering: AWS_MARKETPLACE_PRODUCT_CODE=: required with BILLING_STRATEGY=request_based",
	}, "\n")
	if err == nil || err.Error() != wantErr {
		t.Fatalf("error:\n%v\nwant:\n%s", err, wantErr)
	}

	// Without billing, the interval's range is not checked (metering's
	// rule), but it must still be a duration.
	if _, err := Load(env("DOMAIN_MAP", minimalMap, "BILLING_REPORT_INTERVAL", "2h")); err != nil {
		t.Fatal(err)
	}
}
