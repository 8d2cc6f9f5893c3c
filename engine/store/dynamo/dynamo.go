// Package dynamo is the DynamoDB store: one DynamoDB table seen as a
// lockstep store through the AWS SDK v2. It implements engine.Store and
// the optional engine.NativeBackuper, engine.ScratchCreator and
// engine.Leaser.
//
// It may import the standard library, engine, runbook and the AWS SDK —
// never a UI package.
//
// Throttling is never retried inside the SDK: it reaches the engine as
// engine.ErrThrottled so its AIMD rate control sees and counts it. The
// SDK's client-side retry quota is disabled, so many goroutines cannot
// exhaust it; 5xx answers and dropped connections are still retried.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/internal/awsconf"
	"github.com/lockstep-run/lockstep/runbook"
)

var (
	_ engine.Store          = (*Store)(nil)
	_ engine.NativeBackuper = (*Store)(nil)
	_ engine.ScratchCreator = (*Store)(nil)
	_ engine.Leaser         = (*Store)(nil)
)

// DefaultLeaseTable is the table holding migration leases, created on
// first use.
const DefaultLeaseTable = "lockstep-leases"

// DefaultMaxAttempts is how many times the SDK tries a request that
// failed with a 5xx or a connection error.
const DefaultMaxAttempts = 5

// dynamoAPI is the part of the DynamoDB client the store uses.
type dynamoAPI interface {
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DeleteTable(context.Context, *dynamodb.DeleteTableInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error)
	CreateBackup(context.Context, *dynamodb.CreateBackupInput, ...func(*dynamodb.Options)) (*dynamodb.CreateBackupOutput, error)
	DescribeBackup(context.Context, *dynamodb.DescribeBackupInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeBackupOutput, error)
	DescribeContinuousBackups(context.Context, *dynamodb.DescribeContinuousBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error)
}

// Store is a DynamoDB table seen as a lockstep store; safe for concurrent
// use.
type Store struct {
	api         dynamoAPI
	table       string
	key         []string // partition key [, sort key]
	keyTypes    map[string]types.ScalarAttributeType
	versionAttr string
	leaseTable  string
	leases      leaseState
	spec        runbook.StoreSpec
	opts        options
}

// Option configures Open.
type Option func(*options)

type options struct {
	maxAttempts int
	maxBackoff  time.Duration
	httpClient  *http.Client
	leaseTable  string
	api         dynamoAPI
}

// WithMaxAttempts sets how many times the SDK tries a request that failed
// with a 5xx or a connection error (never a throttle).
func WithMaxAttempts(n int) Option { return func(o *options) { o.maxAttempts = n } }

// WithMaxBackoff caps the SDK's delay between retries (default 20 s).
func WithMaxBackoff(d time.Duration) Option { return func(o *options) { o.maxBackoff = d } }

// WithHTTPClient sets the HTTP client the SDK uses.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithLeaseTable names the lease table (default DefaultLeaseTable).
func WithLeaseTable(name string) Option { return func(o *options) { o.leaseTable = name } }

// Open connects to the table spec.Table (spec's ${VAR} references already
// expanded) with the SDK's default configuration: environment, shared
// config and SSO, spec.Profile when set, spec.Region, and spec.Endpoint as
// the base endpoint when set. A loopback endpoint without configured
// credentials (dynalite, DynamoDB Local) gets static dummy credentials.
// The key schema is spec.Key, or read with DescribeTable.
func Open(ctx context.Context, spec *runbook.StoreSpec, opts ...Option) (*Store, error) {
	if spec == nil || spec.Table == "" {
		return nil, errors.New("open dynamodb store: table is required")
	}
	o := options{maxAttempts: DefaultMaxAttempts, leaseTable: DefaultLeaseTable}
	for _, f := range opts {
		f(&o)
	}
	s := &Store{table: spec.Table, versionAttr: spec.VersionAttribute, leaseTable: o.leaseTable, spec: *spec, opts: o, api: o.api}
	if s.versionAttr == "" {
		s.versionAttr = "v"
	}
	if s.api == nil {
		client, err := newClient(ctx, spec, o, countAttemptsOption)
		if err != nil {
			return nil, fmt.Errorf("open dynamodb table %s: %w", spec.Table, err)
		}
		s.api = client
	}
	if err := s.loadKey(ctx, spec.Key); err != nil {
		return nil, fmt.Errorf("open dynamodb table %s: %w", spec.Table, err)
	}
	return s, nil
}

// NewClient returns the SDK client Open would use for spec (for tools and
// tests that need raw DynamoDB calls, such as creating a table).
func NewClient(ctx context.Context, spec *runbook.StoreSpec, opts ...Option) (*dynamodb.Client, error) {
	o := options{maxAttempts: DefaultMaxAttempts}
	for _, f := range opts {
		f(&o)
	}
	return newClient(ctx, spec, o)
}

func newClient(ctx context.Context, spec *runbook.StoreSpec, o options, extra ...func(*dynamodb.Options)) (*dynamodb.Client, error) {
	cfg, err := awsconf.Load(ctx, awsconf.Options{Region: spec.Region, Profile: spec.Profile,
		Endpoint: spec.Endpoint, HTTPClient: o.httpClient})
	if err != nil {
		return nil, err
	}
	base := func(d *dynamodb.Options) {
		if spec.Endpoint != "" {
			d.BaseEndpoint = aws.String(spec.Endpoint)
		}
		d.Retryer = newRetryer(o.maxAttempts, o.maxBackoff)
	}
	return dynamodb.NewFromConfig(cfg, append([]func(*dynamodb.Options){base}, extra...)...), nil
}

// newRetryer is the SDK's standard retryer without its client-side retry
// quota (ratelimit.None) and without retrying throttles.
func newRetryer(maxAttempts int, maxBackoff time.Duration) aws.Retryer {
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.RateLimiter = ratelimit.None
		so.MaxAttempts = max(maxAttempts, 1)
		if maxBackoff > 0 {
			so.MaxBackoff = maxBackoff
			so.Backoff = retry.NewExponentialJitterBackoff(maxBackoff)
		}
		so.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if isThrottle(err) {
				return aws.FalseTernary
			}
			return aws.UnknownTernary
		})}, so.Retryables...)
	})
}

// Table is the store's table name.
func (s *Store) Table() string { return s.table }

// Spec is the spec the store was opened with.
func (s *Store) Spec() runbook.StoreSpec { return s.spec }

// Close releases nothing: the SDK client needs no closing.
func (s *Store) Close() error { return nil }

// loadKey sets the key from spec.Key or DescribeTable (which also gives
// the key attributes' types, needed to create scratch tables).
func (s *Store) loadKey(ctx context.Context, specKey []string) error {
	out, err := s.describeTable(ctx)
	if err != nil {
		return fmt.Errorf("describe table: %w", err)
	}
	s.key, s.keyTypes = keySchema(out.Table)
	if len(specKey) > 0 {
		s.key = append([]string(nil), specKey...)
	}
	return nil
}

func keySchema(t *types.TableDescription) ([]string, map[string]types.ScalarAttributeType) {
	var hash, rng string
	for _, k := range t.KeySchema {
		switch k.KeyType {
		case types.KeyTypeHash:
			hash = aws.ToString(k.AttributeName)
		case types.KeyTypeRange:
			rng = aws.ToString(k.AttributeName)
		}
	}
	key := []string{hash}
	if rng != "" {
		key = append(key, rng)
	}
	kt := map[string]types.ScalarAttributeType{}
	for _, d := range t.AttributeDefinitions {
		kt[aws.ToString(d.AttributeName)] = d.AttributeType
	}
	return key, kt
}

// isThrottle reports whether err is DynamoDB throttling.
func isThrottle(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ProvisionedThroughputExceededException", "RequestLimitExceeded", "ThrottlingException",
			"Throttling", "TooManyRequestsException", "LimitExceededException":
			return true
		}
	}
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusTooManyRequests
}

// translate maps SDK errors onto the engine's sentinels.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return fmt.Errorf("%w: %w", engine.ErrConditionFailed, err)
	case isThrottle(err):
		return fmt.Errorf("%w: %w", engine.ErrThrottled, err)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "UnknownOperationException":
			return fmt.Errorf("%w by this endpoint: %w", engine.ErrUnsupported, err)
		case "ValidationException":
			// The request itself is wrong for this item (too large, a
			// bad value): the same request fails again.
			return engine.Rejected(err)
		}
	}
	return err
}

// Control-plane calls (DescribeTable) are few and not paced by the
// engine's write limiter, so a throttle there is retried here with
// exponential backoff instead of failing a whole step.
const (
	describeAttempts = 8
	describeBackoff  = 50 * time.Millisecond
)

// describeTable calls DescribeTable, retrying throttles.
func (s *Store) describeTable(ctx context.Context) (*dynamodb.DescribeTableOutput, error) {
	wait := describeBackoff
	for attempt := 1; ; attempt++ {
		out, err := s.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
		if err == nil {
			return out, nil
		}
		err = translate(err)
		if !errors.Is(err, engine.ErrThrottled) || attempt == describeAttempts {
			return nil, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 3*time.Second)
	}
}
