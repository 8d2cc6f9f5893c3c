// Package sns is the Amazon SNS publisher: it sends notify steps' sns
// channel to a topic through the AWS SDK v2 and implements
// engine.Publisher.
//
// It may import the standard library, engine and the AWS SDK — never a UI
// package.
//
// The AWS configuration is the SDK's default one (environment, shared
// config and credentials files, profiles, SSO), loaded on the first
// Publish; the region is the topic ARN's. To publish to a local SNS
// endpoint (LocalStack, moto), set AWS_ENDPOINT_URL_SNS (or
// AWS_ENDPOINT_URL for every service), e.g.
//
//	AWS_ENDPOINT_URL_SNS=http://127.0.0.1:4566 lockstep run notify.yaml --env staging
//
// or pass WithEndpoint. A loopback endpoint with no AWS credentials
// configured gets static dummy ones, as local emulators accept any.
package sns

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"golang.org/x/text/unicode/norm"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/internal/awsconf"
)

var _ engine.Publisher = (*Publisher)(nil)

// Errors.
var (
	// ErrBadTopic: the topic is not an SNS topic ARN.
	ErrBadTopic = errors.New("not an SNS topic ARN: want arn:PARTITION:sns:REGION:ACCOUNT:NAME, " +
		"e.g. arn:aws:sns:eu-west-1:123456789012:ops-announce")
	// ErrEmptyMessage: SNS refuses an empty message.
	ErrEmptyMessage = errors.New("empty message: the notify template rendered nothing")
	// ErrNoMessageID: SNS answered without a message id, so the publish
	// cannot be acknowledged.
	ErrNoMessageID = errors.New("SNS answered without a message id")
)

// MaxSubject is the longest subject sent, in bytes: SNS wants fewer than
// 100 characters.
const MaxSubject = 99

// fifoGroup is the message group of every message sent to a FIFO topic.
const fifoGroup = "lockstep"

// API is the part of the SNS client the Publisher uses.
type API interface {
	Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Publisher publishes to SNS topics; safe for concurrent use. The zero
// value is not usable: call New.
type Publisher struct {
	opts options

	mu      sync.Mutex
	cfg     *aws.Config    // loaded on the first Publish
	clients map[string]API // by region
}

// Option configures New.
type Option func(*options)

type options struct {
	endpoint   string
	profile    string
	creds      aws.CredentialsProvider
	httpClient *http.Client
	api        API
}

// WithEndpoint sets the SNS endpoint URL (a local emulator), instead of
// AWS_ENDPOINT_URL_SNS / AWS_ENDPOINT_URL or the region's.
func WithEndpoint(u string) Option { return func(o *options) { o.endpoint = u } }

// WithProfile selects a profile of the shared config (as AWS_PROFILE does).
func WithProfile(name string) Option { return func(o *options) { o.profile = name } }

// WithCredentials sets the credentials instead of the default chain.
func WithCredentials(p aws.CredentialsProvider) Option { return func(o *options) { o.creds = p } }

// WithHTTPClient sets the HTTP client the SDK uses.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithAPI makes every Publish go through api instead of an SDK client
// (tests inject faults with it); no AWS configuration is loaded.
func WithAPI(api API) Option { return func(o *options) { o.api = api } }

// New returns a Publisher. Nothing is loaded or contacted until the first
// Publish.
func New(opts ...Option) *Publisher {
	p := &Publisher{clients: map[string]API{}}
	for _, f := range opts {
		f(&p.opts)
	}
	return p
}

// Publish sends message to the topic ARN with subject (made printable
// ASCII and cut to MaxSubject; omitted when empty) and returns SNS's
// message id. A FIFO topic (name ending in .fifo) gets the message group
// "lockstep" and a deduplication id hashed from subject and message, so a
// retried step does not deliver twice within SNS's five-minute window.
func (p *Publisher) Publish(ctx context.Context, topic, subject, message string) (string, error) {
	t, err := parseTopic(topic)
	if err != nil {
		return "", err
	}
	if message == "" {
		return "", fmt.Errorf("publish to %s: %w", topic, ErrEmptyMessage)
	}
	api, err := p.client(ctx, t.Region)
	if err != nil {
		return "", fmt.Errorf("publish to %s: %w", topic, err)
	}
	in := &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(message)}
	if s := cleanSubject(subject); s != "" {
		in.Subject = aws.String(s)
	}
	if strings.HasSuffix(t.Resource, ".fifo") {
		sum := sha256.Sum256([]byte(aws.ToString(in.Subject) + "\n" + message))
		in.MessageGroupId = aws.String(fifoGroup)
		in.MessageDeduplicationId = aws.String(hex.EncodeToString(sum[:]))
	}
	out, err := api.Publish(ctx, in)
	if err != nil {
		return "", fmt.Errorf("publish to %s: %w%s", topic, err, hint(err))
	}
	if out == nil || aws.ToString(out.MessageId) == "" {
		return "", fmt.Errorf("publish to %s: %w", topic, ErrNoMessageID)
	}
	return *out.MessageId, nil
}

// hint tells the operator what to do about a refused publish.
func hint(err error) string {
	var nf *types.NotFoundException
	var auth *types.AuthorizationErrorException
	switch {
	case errors.As(err, &nf):
		return " (check the topic ARN's account, region and name, and that the topic exists)"
	case errors.As(err, &auth):
		return " (the AWS identity in use needs sns:Publish on this topic)"
	}
	return ""
}

// parseTopic parses an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME);
// anything else is ErrBadTopic.
func parseTopic(s string) (arn.ARN, error) {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "sns" || a.Region == "" || a.AccountID == "" ||
		a.Resource == "" || strings.ContainsAny(a.Resource, ":/") {
		return arn.ARN{}, fmt.Errorf("topic %q: %w", s, ErrBadTopic)
	}
	return a, nil
}

// client returns the SNS client of region, loading the AWS configuration
// on first use. A failed load is retried on the next call.
func (p *Publisher) client(ctx context.Context, region string) (API, error) {
	if p.opts.api != nil {
		return p.opts.api, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[region]; ok {
		return c, nil
	}
	if p.cfg == nil {
		cfg, err := p.loadConfig(ctx)
		if err != nil {
			return nil, err
		}
		p.cfg = &cfg
	}
	c := sns.NewFromConfig(*p.cfg, func(o *sns.Options) {
		o.Region = region
		if p.opts.endpoint != "" {
			o.BaseEndpoint = aws.String(p.opts.endpoint)
		}
	})
	p.clients[region] = c
	return c, nil
}

func (p *Publisher) loadConfig(ctx context.Context) (aws.Config, error) {
	return awsconf.Load(ctx, awsconf.Options{Profile: p.opts.profile, Endpoint: p.endpoint(),
		HTTPClient: p.opts.httpClient, Credentials: p.opts.creds})
}

// endpoint is the SNS endpoint in effect when one is configured: the
// option, else the SDK's environment variables.
func (p *Publisher) endpoint() string {
	if p.opts.endpoint != "" {
		return p.opts.endpoint
	}
	if os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") == "true" {
		return ""
	}
	for _, k := range []string{"AWS_ENDPOINT_URL_SNS", "AWS_ENDPOINT_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// cleanSubject makes s a valid SNS subject: one line of printable ASCII
// (accents dropped, other characters as '?', runs of spaces and control
// characters as one space), at most MaxSubject bytes, cut with "...".
func cleanSubject(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsSpace(r) || unicode.IsControl(r):
			space = true
			continue
		case r > '~':
			r = '?'
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	out := b.String()
	if len(out) > MaxSubject {
		out = strings.TrimRight(out[:MaxSubject-3], " ") + "..."
	}
	return out
}
