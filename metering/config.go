package metering

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Strategy is BILLING_STRATEGY.
type Strategy string

const (
	StrategyNone          Strategy = "eclypses_no_billing" // no calls (default)
	StrategyRegisterUsage Strategy = "register_usage"      // AWS RegisterUsage at start
	StrategyRequestBased  Strategy = "request_based"       // hourly per-message records
	StrategyExternalMeter Strategy = "external_meter"      // RegisterUsage with the external-meter product code
)

// Provider is BILLING_PROVIDER.
type Provider string

const (
	ProviderAWS   Provider = "aws"
	ProviderAzure Provider = "azure"
)

// Defaults: package config shows them as the variables' defaults and
// applies them when a variable is unset.
const (
	DefaultReportInterval  = 15 * time.Minute
	DefaultPublicKeyVer    = 1
	DefaultAzureMetering   = "https://marketplaceapi.microsoft.com"
	DefaultAzureIMDS       = "http://169.254.169.254"
	DefaultAzureARM        = "https://management.azure.com"
	minReportInterval      = time.Second
	maxReportInterval      = time.Hour
	requiredBillingProduct = "socketx"
)

// Config is the metering configuration: plain data. Package config reads
// it from the variable named beside each field, applies the defaults
// above and runs Validate.
type Config struct {
	Strategy       Strategy      // BILLING_STRATEGY
	Provider       Provider      // BILLING_PROVIDER
	Product        string        // BILLING_PRODUCT
	ReportInterval time.Duration // BILLING_REPORT_INTERVAL
	StateDir       string        // METERING_STATE_DIR

	AWSProductCode         string // AWS_MARKETPLACE_PRODUCT_CODE (register_usage, request_based)
	AWSExternalProductCode string // AWS_MARKETPLACE_EXTERNAL_PRODUCT_CODE (external_meter)
	AWSPublicKeyVersion    int32  // AWS_MARKETPLACE_PUBLIC_KEY_VERSION
	AWSEndpoint            string // AWS_ENDPOINT_URL_MARKETPLACE_METERING

	AzureResourceID          string // AZURE_RESOURCE_ID
	AzureExtensionResourceID string // AZURE_EXTENSION_RESOURCE_ID (Helm global.azure.extension.resourceId)
	AzurePlanID              string // AZURE_PLAN_ID (Helm global.azure.marketplace.planId)
	AzureClientID            string // AZURE_CLIENT_ID (Helm global.azure.identity.clientId)
	AzureTenantID            string // AZURE_TENANT_ID (workload identity)
	AzureFederatedTokenFile  string // AZURE_FEDERATED_TOKEN_FILE (workload identity)
	AzureMeteringEndpoint    string // AZURE_METERING_ENDPOINT
	AzureIMDSEndpoint        string // AZURE_IMDS_ENDPOINT
	AzureARMEndpoint         string // AZURE_ARM_ENDPOINT
}

// Enabled reports whether the strategy makes any Marketplace call.
func (c Config) Enabled() bool { return c.Strategy != StrategyNone }

// ProductCode is the AWS product code the strategy uses.
func (c Config) ProductCode() string {
	if c.Strategy == StrategyExternalMeter {
		return c.AWSExternalProductCode
	}
	return c.AWSProductCode
}

// Validate checks the rules across fields, which depend on the strategy
// and provider. Each problem is one line naming the variable.
func (c Config) Validate() error {
	var errs []error
	bad := func(name, val, allowed string) {
		errs = append(errs, fmt.Errorf("metering: %s=%s: %s", name, val, allowed))
	}
	switch c.Strategy {
	case StrategyNone:
		return nil
	case StrategyRegisterUsage, StrategyRequestBased, StrategyExternalMeter:
	default:
		bad("BILLING_STRATEGY", string(c.Strategy), "one of eclypses_no_billing, register_usage, request_based, external_meter")
		return errors.Join(errs...)
	}
	if c.Product != requiredBillingProduct {
		bad("BILLING_PRODUCT", c.Product, "must be socketx when billing is enabled")
	}
	if c.Strategy == StrategyRequestBased && (c.ReportInterval < minReportInterval || c.ReportInterval > maxReportInterval) {
		bad("BILLING_REPORT_INTERVAL", c.ReportInterval.String(), "a Go duration between 1s and 1h, such as 15m")
	}
	switch c.Provider {
	case ProviderAWS:
		if c.Strategy == StrategyExternalMeter {
			if c.AWSExternalProductCode == "" {
				bad("AWS_MARKETPLACE_EXTERNAL_PRODUCT_CODE", "", "required with BILLING_STRATEGY=external_meter")
			}
		} else if c.AWSProductCode == "" {
			bad("AWS_MARKETPLACE_PRODUCT_CODE", "", "required with BILLING_STRATEGY="+string(c.Strategy))
		}
		if c.AWSPublicKeyVersion < 1 {
			bad("AWS_MARKETPLACE_PUBLIC_KEY_VERSION", strconv.Itoa(int(c.AWSPublicKeyVersion)), "a positive integer (default 1)")
		}
		checkURL(&errs, "AWS_ENDPOINT_URL_MARKETPLACE_METERING", c.AWSEndpoint, true)
	case ProviderAzure:
		if c.Strategy != StrategyRequestBased {
			bad("BILLING_STRATEGY", string(c.Strategy), "only request_based or eclypses_no_billing with BILLING_PROVIDER=azure")
		}
		if c.AzurePlanID == "" {
			bad("AZURE_PLAN_ID", "", "required with BILLING_PROVIDER=azure (Helm global.azure.marketplace.planId)")
		}
		if (c.AzureFederatedTokenFile != "") != (c.AzureTenantID != "") {
			bad("AZURE_FEDERATED_TOKEN_FILE", c.AzureFederatedTokenFile, "workload identity needs both AZURE_FEDERATED_TOKEN_FILE and AZURE_TENANT_ID")
		}
		checkURL(&errs, "AZURE_METERING_ENDPOINT", c.AzureMeteringEndpoint, false)
		checkURL(&errs, "AZURE_IMDS_ENDPOINT", c.AzureIMDSEndpoint, false)
		checkURL(&errs, "AZURE_ARM_ENDPOINT", c.AzureARMEndpoint, false)
	default:
		bad("BILLING_PROVIDER", string(c.Provider), "aws or azure when BILLING_STRATEGY is not eclypses_no_billing")
	}
	return errors.Join(errs...)
}

func checkURL(errs *[]error, name, v string, optional bool) {
	if v == "" && optional {
		return
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		*errs = append(*errs, fmt.Errorf("metering: %s=%s: an absolute http:// or https:// URL", name, v))
	}
}

// Redacted returns the settings for the startup log, in a fixed order. No
// field is a secret (credentials come from the platform's identity), but
// only the fields the strategy uses are listed.
func (c Config) Redacted() [][2]string {
	out := [][2]string{{"billing_strategy", string(c.Strategy)}}
	if !c.Enabled() {
		return out
	}
	out = append(out,
		[2]string{"billing_provider", string(c.Provider)},
		[2]string{"billing_product", c.Product},
	)
	if c.Strategy == StrategyRequestBased {
		out = append(out, [2]string{"billing_report_interval", c.ReportInterval.String()})
		out = append(out, [2]string{"metering_state_dir", c.StateDir})
	}
	switch c.Provider {
	case ProviderAWS:
		out = append(out,
			[2]string{"aws_product_code", c.ProductCode()},
			[2]string{"aws_public_key_version", strconv.Itoa(int(c.AWSPublicKeyVersion))},
		)
		if c.AWSEndpoint != "" {
			out = append(out, [2]string{"aws_metering_endpoint", c.AWSEndpoint})
		}
	case ProviderAzure:
		out = append(out,
			[2]string{"azure_resource_id", c.AzureResourceID},
			[2]string{"azure_extension_resource_id", c.AzureExtensionResourceID},
			[2]string{"azure_plan_id", c.AzurePlanID},
			[2]string{"azure_client_id", c.AzureClientID},
			[2]string{"azure_identity", c.azureIdentityKind()},
			[2]string{"azure_metering_endpoint", c.AzureMeteringEndpoint},
		)
	}
	return out
}

func (c Config) azureIdentityKind() string {
	if c.AzureFederatedTokenFile != "" {
		return "workload"
	}
	return "managed"
}
