// Package awsconf loads the AWS SDK configuration the way lockstep's AWS
// drivers (the DynamoDB store, the SNS publisher) share: the SDK's default
// chain (environment, shared files, profiles, SSO), an optional profile,
// and for an endpoint on this machine (dynalite, LocalStack) no instance
// metadata lookups and dummy credentials when none are configured, since
// local emulators accept any.
package awsconf

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// Options are what a driver knows before loading the configuration. All
// are optional.
type Options struct {
	Region      string
	Profile     string
	Endpoint    string // the service endpoint in effect, when overridden
	HTTPClient  *http.Client
	Credentials aws.CredentialsProvider
}

// localRegion is the region of a local endpoint that names none: the SDK
// needs one to sign requests, and emulators ignore it.
const localRegion = "us-east-1"

// Load returns the SDK configuration for o.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	var lo []func(*config.LoadOptions) error
	if o.Region != "" {
		lo = append(lo, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(o.Profile))
	}
	if o.HTTPClient != nil {
		lo = append(lo, config.WithHTTPClient(o.HTTPClient))
	}
	creds := o.Credentials
	if IsLoopback(o.Endpoint) {
		lo = append(lo, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
		if creds == nil && o.Profile == "" && os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
			creds = credentials.NewStaticCredentialsProvider("lockstep", "lockstep", "")
		}
		if o.Region == "" {
			lo = append(lo, config.WithRegion(localRegion))
		}
	}
	if creds != nil {
		lo = append(lo, config.WithCredentialsProvider(creds))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	return cfg, nil
}

// IsLoopback reports whether endpoint is a URL on this machine
// (localhost, 127.0.0.0/8, ::1).
func IsLoopback(endpoint string) bool {
	if endpoint == "" {
		return false
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
