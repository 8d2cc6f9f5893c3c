package engine

import (
	"slices"
	"testing"
)

// TestCredentialEnvName: which variables of the process environment are
// credentials, by name.
func TestCredentialEnvName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want bool
	}{
		{"AWS_ACCESS_KEY_ID", true},
		{"AWS_SECRET_ACCESS_KEY", true},
		{"AWS_SESSION_TOKEN", true},
		{"GITHUB_TOKEN", true},
		{"TOKEN", true},
		{"OAUTH_CLIENT_SECRET", true},
		{"SECRET_KEY_BASE", true},
		{"DB_PASSWORD", true},
		{"PGPASSWORD", true},
		{"MYSQL_PWD", true},
		{"GPG_PASSPHRASE", true},
		{"GOOGLE_APPLICATION_CREDENTIALS", true},
		{"STRIPE_API_KEY", true},
		{"encryption_key", true},
		{"SORT_KEY", false},
		{"DYNAMO_PARTITION_KEY", false},
		{"SSH_PUBLIC_KEY", false},
		{"TOKENIZER", false},
		{"KEYBOARD", false},
		{"AWS_REGION", false},
		{"PWD", false},
		{"OLDPWD", false},
		{"LOCKSTEP_JOURNAL", false},
		{"HOME", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := credentialEnvName(tt.name); got != tt.want {
				t.Errorf("credentialEnvName(%q) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

// TestEnvCredentials: the values redacted from a process environment and
// the credential variables too short to be.
func TestEnvCredentials(t *testing.T) {
	t.Parallel()
	values, short := envCredentials([]string{
		"HOME=/home/alice",
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG",
		"RETRY_TOKEN=1",
		"EMPTY_TOKEN=",
		"DATABASE_URL=postgres://app:pw-long-enough@db:5432/prod",
		"CACHE_URL=redis://:abc@cache:6379",
		"PLAIN_URL=https://example.com/x@y",
		"NOT_AN_ENTRY",
	})
	want := []string{"wJalrXUtnFEMI/K7MDENG", "postgres://app:pw-long-enough@db:5432/prod", "pw-long-enough", "redis://:abc@cache:6379"}
	if !slices.Equal(values, want) {
		t.Errorf("envCredentials values = %q, want %q", values, want)
	}
	if !slices.Equal(short, []string{"RETRY_TOKEN"}) {
		t.Errorf("envCredentials short = %q, want [RETRY_TOKEN]", short)
	}
}
