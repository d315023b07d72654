package metering

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"go.uber.org/zap"
)

// Azure constants.
const (
	AzureDimensionEncoded = "encodedMessages"
	AzureDimensionDecoded = "decodedMessages"
	// AzureMeteringScope is the token scope of the Marketplace metering API
	// (resource 20e940b3-4c77-4b0b-9a53-9e16a1b010a7).
	AzureMeteringScope = "20e940b3-4c77-4b0b-9a53-9e16a1b010a7/.default"
	azureARMScope      = DefaultAzureARM + "/.default"
	azureAPIVersion    = "2018-08-31"
	azureMaxAge        = 24 * time.Hour
	azureMaxBatch      = 25
	azureMaxQuantity   = 1 << 53 // quantity is a JSON double: exact up to 2^53
	tokenEarlyRefresh  = 5 * time.Minute
	maxErrorBody       = 4 << 10
)

// AccessToken is a bearer token and its expiry.
type AccessToken struct {
	Value     string
	ExpiresOn time.Time
}

// TokenSource returns a token for scope. The meter caches tokens until five
// minutes before ExpiresOn and asks again after a 401/403.
type TokenSource interface {
	Token(ctx context.Context, scope string) (AccessToken, error)
}

// CredentialTokenSource adapts an azcore.TokenCredential (azidentity).
type CredentialTokenSource struct{ Cred azcore.TokenCredential }

func (c CredentialTokenSource) Token(ctx context.Context, scope string) (AccessToken, error) {
	t, err := c.Cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		return AccessToken{}, err
	}
	return AccessToken{Value: t.Token, ExpiresOn: t.ExpiresOn}, nil
}

// newAzureTokenSource picks workload identity when AZURE_FEDERATED_TOKEN_FILE
// is set (AKS workload identity), else managed identity (with
// AZURE_CLIENT_ID for a user-assigned identity). No CLI or developer probing.
func newAzureTokenSource(cfg Config) (TokenSource, error) {
	var cred azcore.TokenCredential
	var err error
	if cfg.AzureFederatedTokenFile != "" {
		cred, err = azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientID: cfg.AzureClientID, TenantID: cfg.AzureTenantID, TokenFilePath: cfg.AzureFederatedTokenFile,
		})
	} else {
		o := &azidentity.ManagedIdentityCredentialOptions{}
		if cfg.AzureClientID != "" {
			o.ID = azidentity.ClientID(cfg.AzureClientID)
		}
		cred, err = azidentity.NewManagedIdentityCredential(o)
	}
	if err != nil {
		return nil, fmt.Errorf("metering: azure identity: %w", err)
	}
	return CredentialTokenSource{Cred: cred}, nil
}

type azureReporter struct {
	m          *Meter
	resourceID string // guarded by Meter.mu
	tokens     map[string]AccessToken
}

func newAzureReporter(m *Meter) *azureReporter {
	return &azureReporter{m: m, tokens: map[string]AccessToken{}}
}

func (a *azureReporter) maxQuantity() uint64   { return azureMaxQuantity }
func (a *azureReporter) maxAge() time.Duration { return azureMaxAge }
func (a *azureReporter) dimensionName(d dimension) string {
	if d == dimEncoded {
		return AzureDimensionEncoded
	}
	return AzureDimensionDecoded
}

func (a *azureReporter) token(ctx context.Context, scope string) (string, error) {
	if t, ok := a.tokens[scope]; ok && a.m.now().Before(t.ExpiresOn.Add(-tokenEarlyRefresh)) {
		return t.Value, nil
	}
	t, err := a.m.tokens.Token(ctx, scope)
	if err != nil {
		return "", fmt.Errorf("metering: azure token: %w", err)
	}
	a.tokens[scope] = t
	return t.Value, nil
}

// do sends one request with a bearer token for scope; on 401/403 it drops
// the cached token and tries once more with a fresh one.
func (a *azureReporter) do(ctx context.Context, method, u, scope string, body []byte, hdr map[string]string) (int, []byte, error) {
	for try := 0; ; try++ {
		tok, err := a.token(ctx, scope)
		if err != nil {
			return 0, nil, err
		}
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		req, err := http.NewRequestWithContext(actx, method, u, bytes.NewReader(body))
		if err != nil {
			cancel()
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := a.m.httpClient.Do(req)
		if err != nil {
			cancel()
			return 0, nil, err
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		cancel()
		if err != nil {
			return 0, nil, err
		}
		if (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) && try == 0 {
			delete(a.tokens, scope)
			a.m.log.Warn("metering: azure token refused; refreshing", zap.Int("status", resp.StatusCode))
			continue
		}
		return resp.StatusCode, data, nil
	}
}

// resolveResourceID: AZURE_RESOURCE_ID, else AZURE_EXTENSION_RESOURCE_ID,
// else IMDS + ARM (managed application's billingDetails.resourceUsageId).
func (a *azureReporter) resolveResourceID(ctx context.Context) (string, error) {
	if a.resourceID != "" {
		return a.resourceID, nil
	}
	id, src := a.m.cfg.AzureResourceID, "AZURE_RESOURCE_ID"
	if id == "" {
		id, src = a.m.cfg.AzureExtensionResourceID, "AZURE_EXTENSION_RESOURCE_ID"
	}
	if id == "" {
		var err error
		if id, err = a.discover(ctx); err != nil {
			return "", err
		}
		src = "IMDS"
	}
	a.resourceID = id
	a.m.log.Info("metering: azure resource id", zap.String("resource_id", id), zap.String("source", src))
	return id, nil
}

func (a *azureReporter) discover(ctx context.Context) (string, error) {
	actx, cancel := context.WithTimeout(ctx, attemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet,
		strings.TrimRight(a.m.cfg.AzureIMDSEndpoint, "/")+"/metadata/instance?api-version=2021-02-01", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Metadata", "true")
	resp, err := a.m.httpClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("metering: azure IMDS: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("metering: azure IMDS: status %d: %s", resp.StatusCode, truncate(data))
	}
	var inst struct {
		Compute struct {
			SubscriptionID    string `json:"subscriptionId"`
			ResourceGroupName string `json:"resourceGroupName"`
		} `json:"compute"`
	}
	if err := json.Unmarshal(data, &inst); err != nil || inst.Compute.SubscriptionID == "" || inst.Compute.ResourceGroupName == "" {
		return "", fmt.Errorf("%w: IMDS gave no subscription and resource group", ErrNoResourceID)
	}
	arm := strings.TrimRight(a.m.cfg.AzureARMEndpoint, "/")
	var rg struct {
		ManagedBy string `json:"managedBy"`
	}
	if err := a.armGet(ctx, arm+"/subscriptions/"+url.PathEscape(inst.Compute.SubscriptionID)+
		"/resourceGroups/"+url.PathEscape(inst.Compute.ResourceGroupName)+"?api-version=2021-04-01", &rg); err != nil {
		return "", err
	}
	if rg.ManagedBy == "" {
		return "", fmt.Errorf("%w: resource group %s is not managed by an application", ErrNoResourceID, inst.Compute.ResourceGroupName)
	}
	var app struct {
		Properties struct {
			BillingDetails struct {
				ResourceUsageID string `json:"resourceUsageId"`
			} `json:"billingDetails"`
		} `json:"properties"`
	}
	if err := a.armGet(ctx, arm+rg.ManagedBy+"?api-version=2019-07-01", &app); err != nil {
		return "", err
	}
	if app.Properties.BillingDetails.ResourceUsageID == "" {
		return "", fmt.Errorf("%w: managed application has no billingDetails.resourceUsageId", ErrNoResourceID)
	}
	return app.Properties.BillingDetails.ResourceUsageID, nil
}

func (a *azureReporter) armGet(ctx context.Context, u string, v any) error {
	status, data, err := a.do(ctx, http.MethodGet, u, azureARMScope, nil, nil)
	if err != nil {
		return fmt.Errorf("metering: azure ARM: %w", err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("metering: azure ARM: status %d: %s", status, truncate(data))
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("metering: azure ARM: %w", err)
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > 512 {
		b = b[:512]
	}
	return string(b)
}

// registerAzure resolves the resource id before the listener opens.
func (m *Meter) registerAzure(ctx context.Context) error {
	a := m.rep.(*azureReporter)
	for attempt := 1; ; attempt++ {
		m.mu.Lock()
		_, err := a.resolveResourceID(ctx)
		m.mu.Unlock()
		if err == nil {
			return nil
		}
		if errors.Is(err, ErrNoResourceID) || attempt == registerAttempts || ctx.Err() != nil {
			return &FatalError{Op: "azure resource id", Code: "NoResourceID",
				Reason: fmt.Sprintf("set AZURE_RESOURCE_ID or AZURE_EXTENSION_RESOURCE_ID (%v)", err), Err: err}
		}
		d := registerBase << (attempt - 1)
		m.log.Warn("metering: azure resource id lookup failed; retrying", zap.Int("attempt", attempt), zap.Error(err))
		select {
		case <-ctx.Done():
		case <-m.after(d/2 + time.Duration(randN(int64(d/2)+1))):
		}
	}
}

// azureEvent is one usage event; field order is fixed so retries are
// byte-identical. Ids that are ARM paths (AKS extension, managed app
// resource ids) go in resourceUri, SaaS GUIDs in resourceId.
type azureEvent struct {
	ResourceID         string  `json:"resourceId,omitempty"`
	ResourceURI        string  `json:"resourceUri,omitempty"`
	Quantity           float64 `json:"quantity"`
	Dimension          string  `json:"dimension"`
	EffectiveStartTime string  `json:"effectiveStartTime"`
	PlanID             string  `json:"planId"`
}

type azureResult struct {
	UsageEventID       string `json:"usageEventId"`
	Status             string `json:"status"`
	ResourceID         string `json:"resourceId"`
	ResourceURI        string `json:"resourceUri"`
	Dimension          string `json:"dimension"`
	EffectiveStartTime string `json:"effectiveStartTime"`
	Message            string `json:"message"`
	Code               string `json:"code"`
	Error              *struct {
		Code           string `json:"code"`
		Message        string `json:"message"`
		AdditionalInfo struct {
			AcceptedMessage struct {
				UsageEventID string `json:"usageEventId"`
			} `json:"acceptedMessage"`
		} `json:"additionalInfo"`
	} `json:"error"`
	AdditionalInfo struct {
		AcceptedMessage struct {
			UsageEventID string `json:"usageEventId"`
		} `json:"acceptedMessage"`
	} `json:"additionalInfo"`
}

func (a *azureReporter) event(id string, r record) azureEvent {
	e := azureEvent{
		Quantity:           float64(r.Quantity),
		Dimension:          a.dimensionName(r.Dim),
		EffectiveStartTime: time.Unix(r.Hour, 0).UTC().Format("2006-01-02T15:04:05Z"),
		PlanID:             a.m.cfg.AzurePlanID,
	}
	if strings.HasPrefix(id, "/") {
		e.ResourceURI = id
	} else {
		e.ResourceID = id
	}
	return e
}

// plan: never-sent records due together go out in batches of up to 25
// under the first record's token; a lone one goes out as a single event
// under its own. Records already sent keep their request and id.
func (a *azureReporter) plan(recs []record) {
	var fresh []int
	for i := range recs {
		if recs[i].Req == "" {
			fresh = append(fresh, i)
		}
	}
	for lo := 0; lo < len(fresh); lo += azureMaxBatch {
		chunk := fresh[lo:min(lo+azureMaxBatch, len(fresh))]
		for _, i := range chunk {
			recs[i].Req = recs[chunk[0]].Token
			recs[i].Batch = len(chunk) > 1
		}
	}
}

// send sends each planned request: records with the same Req and Batch
// together, in their order, each event byte-identical to its first send.
func (a *azureReporter) send(ctx context.Context, recs []record) []outcome {
	outs := make([]outcome, len(recs))
	id, err := a.resolveResourceID(ctx)
	if err != nil {
		for i := range outs {
			outs[i] = outcome{result: resultTransient, err: err}
		}
		return outs
	}
	type request struct {
		req   string
		batch bool
	}
	var order []request
	groups := map[request][]int{}
	for i, r := range recs {
		k := request{r.Req, r.Batch}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	for _, k := range order {
		idx := groups[k]
		if !k.batch {
			for _, i := range idx {
				outs[i] = a.sendOne(ctx, id, recs[i])
			}
			continue
		}
		group := make([]record, len(idx))
		for j, i := range idx {
			group[j] = recs[i]
		}
		gouts := make([]outcome, len(idx))
		a.sendBatch(ctx, id, k.req, group, gouts)
		for j, i := range idx {
			outs[i] = gouts[j]
		}
	}
	return outs
}

func (a *azureReporter) url(path string) string {
	return strings.TrimRight(a.m.cfg.AzureMeteringEndpoint, "/") + path + "?api-version=" + azureAPIVersion
}

func (a *azureReporter) sendOne(ctx context.Context, id string, r record) outcome {
	body, _ := json.Marshal(a.event(id, r))
	status, data, err := a.do(ctx, http.MethodPost, a.url("/api/usageEvent"), AzureMeteringScope, body,
		map[string]string{"x-ms-requestid": r.Req, "x-ms-correlationid": r.Req})
	if err != nil {
		return outcome{result: resultTransient, err: err}
	}
	var res azureResult
	_ = json.Unmarshal(data, &res)
	herr := fmt.Errorf("metering: azure usageEvent: status %d: %s", status, truncate(data))
	switch {
	case status == http.StatusOK || status == http.StatusCreated:
		return outcome{result: resultAccepted, id: res.UsageEventID}
	case status == http.StatusConflict:
		return outcome{result: resultDuplicate, id: res.AdditionalInfo.AcceptedMessage.UsageEventID, err: herr}
	case status == http.StatusBadRequest:
		if a.expired(r, data) {
			return outcome{result: resultExpired, err: herr}
		}
		return outcome{result: resultRejected, err: herr}
	default: // 401/403 after a refresh, 404, 429, 5xx: retry until 24 h
		return outcome{result: resultTransient, err: herr}
	}
}

// expired: the platform says effectiveStartTime is out of range, or our
// own clock says the hour is past the 24 h back-fill limit.
func (a *azureReporter) expired(r record, body []byte) bool {
	if bytes.Contains(body, []byte("effectiveStartTime")) || bytes.Contains(body, []byte("Expired")) {
		return true
	}
	return a.m.now().Sub(time.Unix(r.Hour, 0)) >= azureMaxAge
}

// sendBatch sends recs (at most 25) as one batchUsageEvent under request
// id reqID and fills outs with the result matched to each record.
func (a *azureReporter) sendBatch(ctx context.Context, id, reqID string, recs []record, outs []outcome) {
	req := struct {
		Request []azureEvent `json:"request"`
	}{}
	for _, r := range recs {
		req.Request = append(req.Request, a.event(id, r))
	}
	body, _ := json.Marshal(req)
	status, data, err := a.do(ctx, http.MethodPost, a.url("/api/batchUsageEvent"), AzureMeteringScope, body,
		map[string]string{"x-ms-requestid": reqID, "x-ms-correlationid": reqID})
	fail := func(res result, err error) {
		for i := range outs {
			outs[i] = outcome{result: res, err: err}
		}
	}
	if err != nil {
		fail(resultTransient, err)
		return
	}
	herr := fmt.Errorf("metering: azure batchUsageEvent: status %d: %s", status, truncate(data))
	if status != http.StatusOK {
		// A whole-batch 400 is a malformed batch: retry item by item
		// later rather than lose every record for one bad item.
		fail(resultTransient, herr)
		return
	}
	var resp struct {
		Result []azureResult `json:"result"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		fail(resultTransient, herr)
		return
	}
	used := make([]bool, len(resp.Result))
	for i, r := range recs {
		outs[i] = outcome{result: resultTransient, err: errors.New("metering: azure batchUsageEvent: no result for this event")}
		for j, res := range resp.Result {
			if !used[j] && a.resultFor(res, id, r) {
				used[j] = true
				outs[i] = batchOutcome(res)
				break
			}
		}
	}
}

// resultFor reports whether a batch result is r's: same dimension, same
// hour once parsed (Azure may write the time with or without fractional
// seconds or zone), and the same resource when the result names the field
// we sent (ARM ids and GUIDs compare case-insensitively).
func (a *azureReporter) resultFor(res azureResult, id string, r record) bool {
	if res.Dimension != a.dimensionName(r.Dim) {
		return false
	}
	t, ok := parseAzureTime(res.EffectiveStartTime)
	if !ok || hourOf(t) != r.Hour {
		return false
	}
	got := res.ResourceID
	if strings.HasPrefix(id, "/") {
		got = res.ResourceURI
	}
	return got == "" || strings.EqualFold(got, id)
}

// parseAzureTime reads an effectiveStartTime from a result: RFC 3339 with
// any number of fractional digits, or the same without a zone (UTC).
func parseAzureTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if t, err := time.Parse("2006-01-02T15:04:05.999999999", s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

func batchOutcome(res azureResult) outcome {
	var err error
	if res.Status != "Accepted" {
		msg := res.Message
		if res.Error != nil {
			msg = res.Error.Code + ": " + res.Error.Message
		}
		err = fmt.Errorf("metering: azure batch item %s: %s", res.Status, msg)
	}
	switch res.Status {
	case "Accepted":
		return outcome{result: resultAccepted, id: res.UsageEventID}
	case "Duplicate":
		id := res.UsageEventID
		if res.Error != nil && res.Error.AdditionalInfo.AcceptedMessage.UsageEventID != "" {
			id = res.Error.AdditionalInfo.AcceptedMessage.UsageEventID
		}
		return outcome{result: resultDuplicate, id: id, err: err}
	case "Expired":
		return outcome{result: resultExpired, err: err}
	case "ResourceNotFound", "ResourceNotAuthorized", "ResourceNotActive", "InvalidDimension", "InvalidQuantity", "BadArgument":
		return outcome{result: resultRejected, err: err}
	default: // "Error" and anything new: retry until 24 h
		return outcome{result: resultTransient, err: err}
	}
}
