package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/socketx/socketx-server/metering"
)

// metering reads the BILLING_*, METERING_*, AWS_* and AZURE_* variables.
// A value that does not parse is reported here and replaced by its
// default, so metering.Config.Validate (run by Validate) judges the rest
// without repeating the problem. Ranges that depend on the strategy
// (BILLING_REPORT_INTERVAL) are metering's rules, checked there.
func (l *loader) metering() metering.Config {
	return metering.Config{
		Strategy:                 metering.Strategy(strings.ToLower(l.str("BILLING_STRATEGY"))),
		Provider:                 metering.Provider(strings.ToLower(l.str("BILLING_PROVIDER"))),
		Product:                  l.str("BILLING_PRODUCT"),
		ReportInterval:           l.anyDuration("BILLING_REPORT_INTERVAL", metering.DefaultReportInterval),
		StateDir:                 l.str("METERING_STATE_DIR"),
		AWSProductCode:           l.str("AWS_MARKETPLACE_PRODUCT_CODE"),
		AWSExternalProductCode:   l.str("AWS_MARKETPLACE_EXTERNAL_PRODUCT_CODE"),
		AWSPublicKeyVersion:      int32(l.intOr("AWS_MARKETPLACE_PUBLIC_KEY_VERSION", 1, math.MaxInt32, metering.DefaultPublicKeyVer)),
		AWSEndpoint:              l.str("AWS_ENDPOINT_URL_MARKETPLACE_METERING"),
		AzureResourceID:          l.str("AZURE_RESOURCE_ID"),
		AzureExtensionResourceID: l.str("AZURE_EXTENSION_RESOURCE_ID"),
		AzurePlanID:              l.str("AZURE_PLAN_ID"),
		AzureClientID:            l.str("AZURE_CLIENT_ID"),
		AzureTenantID:            l.str("AZURE_TENANT_ID"),
		AzureFederatedTokenFile:  l.str("AZURE_FEDERATED_TOKEN_FILE"),
		AzureMeteringEndpoint:    l.str("AZURE_METERING_ENDPOINT"),
		AzureIMDSEndpoint:        l.str("AZURE_IMDS_ENDPOINT"),
		AzureARMEndpoint:         l.str("AZURE_ARM_ENDPOINT"),
	}
}

// anyDuration reads a duration (see parseDuration) whose range the
// metering package checks; on error it reports and returns def.
func (l *loader) anyDuration(name string, def time.Duration) time.Duration {
	s := l.raw(name)
	d, err := parseDuration(s)
	if err != nil {
		l.fail(name, s, fmt.Sprintf("want whole seconds (like %d) or a Go duration (like %s)", int64(def/time.Second), shortDuration(def)))
		return def
	}
	return d
}

// intOr reads an integer within [lo, hi]; on error it reports and returns
// def.
func (l *loader) intOr(name string, lo, hi, def int) int {
	s := l.raw(name)
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		l.fail(name, s, "want an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
		return def
	}
	return n
}
