package metering

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/smithy-go"
	"go.uber.org/zap"
)

// AWSAPI is the part of the AWS Marketplace Metering client the meter uses.
type AWSAPI interface {
	RegisterUsage(ctx context.Context, in *mm.RegisterUsageInput, optFns ...func(*mm.Options)) (*mm.RegisterUsageOutput, error)
	MeterUsage(ctx context.Context, in *mm.MeterUsageInput, optFns ...func(*mm.Options)) (*mm.MeterUsageOutput, error)
}

var _ AWSAPI = (*mm.Client)(nil)

// AWS dimension identifiers (the listing's dimension API names).
const (
	AWSDimensionEncoded = "encoded_messages"
	AWSDimensionDecoded = "decoded_messages"
	awsMaxAge           = 6 * time.Hour // MeterUsage refuses older timestamps
)

// newAWSClient builds the client from the default credential chain (ECS
// task role, EKS IRSA) and the environment's region.
func newAWSClient(cfg Config) (*mm.Client, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		return nil, fmt.Errorf("metering: aws config: %w", err)
	}
	return NewAWSClient(awsCfg, cfg.AWSEndpoint), nil
}

// NewAWSClient builds a Marketplace Metering client from an aws.Config with
// the SDK's own retries off: the meter retries (with the same bytes) on its
// own clock. endpoint, when not empty, replaces the service endpoint.
func NewAWSClient(awsCfg aws.Config, endpoint string) *mm.Client {
	return mm.NewFromConfig(awsCfg, func(o *mm.Options) {
		o.Retryer = aws.NopRetryer{}
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
}

type awsClass uint8

const (
	awsTransient awsClass = iota // throttling, 5xx, network: retry
	awsPermanent                 // the request will never succeed
	awsDuplicate                 // a record exists for this dimension and hour
	awsExpired                   // timestamp outside the accepted window
	awsOther                     // a client error not known to be permanent
)

// awsPermanentCodes never succeed on retry.
var awsPermanentCodes = map[string]string{
	"CustomerNotEntitledException":       "the AWS account is not subscribed to this product",
	"PlatformNotSupportedException":      "AWS Marketplace does not support metering from this platform (run on Amazon ECS or EKS)",
	"InvalidProductCodeException":        "the product code is not valid",
	"InvalidPublicKeyVersionException":   "AWS_MARKETPLACE_PUBLIC_KEY_VERSION is not valid",
	"InvalidRegionException":             "the call must be made in the Region the task runs in",
	"InvalidEndpointRegionException":     "the endpoint Region differs from the task's Region",
	"DisabledApiException":               "the API is disabled in this Region",
	"InvalidUsageDimensionException":     "the dimension is not one of the listing's dimensions",
	"InvalidUsageAllocationsException":   "invalid usage allocations",
	"InvalidTagException":                "invalid tags",
	"IdempotencyConflictException":       "the ClientToken was used for a different request",
	"InvalidCustomerIdentifierException": "invalid customer identifier",
}

func classifyAWS(err error) (awsClass, string, string) {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return awsTransient, "NetworkError", err.Error() // no answer: connection, timeout
	}
	code, msg := ae.ErrorCode(), ae.ErrorMessage()
	switch code {
	case "DuplicateRequestException":
		return awsDuplicate, code, msg
	case "TimestampOutOfBoundsException":
		return awsExpired, code, msg
	case "ThrottlingException", "InternalServiceErrorException":
		return awsTransient, code, msg
	}
	if _, ok := awsPermanentCodes[code]; ok {
		return awsPermanent, code, msg
	}
	var re *awshttp.ResponseError
	if ae.ErrorFault() == smithy.FaultServer || (errors.As(err, &re) && (re.HTTPStatusCode() >= 500 || re.HTTPStatusCode() == 429)) {
		return awsTransient, code, msg
	}
	return awsOther, code, msg
}

// registerAWS calls RegisterUsage, retrying only transient failures.
func (m *Meter) registerAWS(ctx context.Context) error {
	code := m.cfg.ProductCode()
	in := &mm.RegisterUsageInput{ProductCode: aws.String(code), PublicKeyVersion: aws.Int32(m.cfg.AWSPublicKeyVersion)}
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		out, err := m.awsClient.RegisterUsage(actx, in)
		cancel()
		if err == nil {
			f := []zap.Field{zap.String("product_code", code), zap.Int("signature_bytes", len(aws.ToString(out.Signature)))}
			if out.PublicKeyRotationTimestamp != nil {
				f = append(f, zap.Time("public_key_rotation", out.PublicKeyRotationTimestamp.UTC()))
			}
			m.log.Info("metering: aws RegisterUsage accepted", f...)
			return nil
		}
		class, ecode, msg := classifyAWS(err)
		if class != awsTransient {
			reason, ok := awsPermanentCodes[ecode]
			if !ok {
				reason = "registration refused"
			}
			if ecode == "InvalidProductCodeException" {
				reason = fmt.Sprintf("product code %q is not valid", code)
			}
			return &FatalError{Op: "aws RegisterUsage", Code: ecode, Reason: fmt.Sprintf("%s (%s)", reason, msg), Err: err}
		}
		if attempt == registerAttempts || ctx.Err() != nil {
			return &FatalError{Op: "aws RegisterUsage", Code: ecode,
				Reason: fmt.Sprintf("still failing after %d attempts (%s)", attempt, msg), Err: err}
		}
		d := registerBase << (attempt - 1)
		m.log.Warn("metering: aws RegisterUsage failed; retrying", zap.String("code", ecode),
			zap.Int("attempt", attempt), zap.Float64("backoff_seconds", d.Seconds()), zap.Error(err))
		select {
		case <-ctx.Done():
		case <-m.after(d/2 + time.Duration(randN(int64(d/2)+1))):
		}
	}
}

type awsReporter struct{ m *Meter }

func (a *awsReporter) maxQuantity() uint64   { return math.MaxInt32 }
func (a *awsReporter) maxAge() time.Duration { return awsMaxAge }
func (a *awsReporter) dimensionName(d dimension) string {
	if d == dimEncoded {
		return AWSDimensionEncoded
	}
	return AWSDimensionDecoded
}

// plan: every record is its own MeterUsage call; nothing to fix.
func (a *awsReporter) plan([]record) {}

// send makes one MeterUsage call per record. Every field comes from the
// frozen record, so a retry is byte-identical (same ClientToken).
func (a *awsReporter) send(ctx context.Context, recs []record) []outcome {
	outs := make([]outcome, len(recs))
	for i, r := range recs {
		if err := ctx.Err(); err != nil {
			outs[i] = outcome{result: resultTransient, err: err}
			continue
		}
		in := &mm.MeterUsageInput{
			ProductCode:    aws.String(a.m.cfg.ProductCode()),
			Timestamp:      aws.Time(time.Unix(r.Hour, 0).UTC()),
			UsageDimension: aws.String(a.dimensionName(r.Dim)),
			UsageQuantity:  aws.Int32(int32(r.Quantity)),
			ClientToken:    aws.String(r.Token),
		}
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		out, err := a.m.awsClient.MeterUsage(actx, in)
		cancel()
		if err == nil {
			outs[i] = outcome{result: resultAccepted, id: aws.ToString(out.MeteringRecordId)}
			continue
		}
		switch class, _, _ := classifyAWS(err); class {
		case awsDuplicate:
			outs[i] = outcome{result: resultDuplicate, err: err}
		case awsExpired:
			outs[i] = outcome{result: resultExpired, err: err}
		case awsPermanent:
			outs[i] = outcome{result: resultRejected, err: err}
		default: // transient, or an unknown client error (e.g. IAM being fixed): retry until the limit
			outs[i] = outcome{result: resultTransient, err: err}
		}
	}
	return outs
}
