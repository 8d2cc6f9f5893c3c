package engine

import (
	"net/url"
	"slices"
	"strings"
)

// Credentials in lockstep's own process environment are redacted like
// declared secrets: a shell step inherits that environment, and `aws sts`,
// `env` or a debugging echo would otherwise print them into the journal.
//
// A variable is a credential when its name says so (credentialEnvName).
// AWS_ACCESS_KEY_ID is one too: AWS calls it an identifier rather than a
// secret, but it names the account and user, is half of the key pair, and
// the AKIA/ASIA pattern already redacts it wherever it appears. Any
// variable whose value is a URL with a password (DATABASE_URL, a proxy)
// has that password and the whole URL redacted.

// credentialEnvNames are credentials whatever the rules below say.
var credentialEnvNames = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"PGPASSWORD", "MYSQL_PWD", "TOKEN",
}

// notCredentialKeys end in _KEY but name a data key or a public half.
var notCredentialKeys = []string{"PRIMARY_KEY", "PARTITION_KEY", "SORT_KEY", "HASH_KEY", "RANGE_KEY", "PUBLIC_KEY"}

// credentialEnvName reports whether an environment variable's name marks
// its value as a credential: the well-known AWS and database ones, and
// names holding SECRET, PASSWORD, PASSWD, PASSPHRASE or CREDENTIAL, or
// ending in _TOKEN or _KEY (but not a data key such as SORT_KEY, nor a
// public key).
func credentialEnvName(name string) bool {
	n := strings.ToUpper(name)
	if slices.Contains(credentialEnvNames, n) {
		return true
	}
	for _, part := range []string{"SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIAL"} {
		if strings.Contains(n, part) {
			return true
		}
	}
	if strings.HasSuffix(n, "_TOKEN") {
		return true
	}
	if strings.HasSuffix(n, "_KEY") {
		return !slices.ContainsFunc(notCredentialKeys, func(k string) bool { return strings.HasSuffix(n, k) })
	}
	return false
}

// envCredentials returns the credential values of environ (KEY=value
// entries, as os.Environ gives them) and the names of credential
// variables whose value is too short to be redacted.
func envCredentials(environ []string) (values, short []string) {
	for _, kv := range environ {
		name, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			continue
		}
		if credentialEnvName(name) {
			if len(v) < minSecretLen {
				short = append(short, name)
				continue
			}
			values = append(values, v)
			continue
		}
		if pw := urlPassword(v); pw != "" {
			values = append(values, v) // withURLForms adds its masked forms
			if len(pw) >= minSecretLen {
				values = append(values, pw)
			}
		}
	}
	slices.Sort(short)
	return values, slices.Compact(short)
}

// urlPassword is the password of a scheme://user:pass@host value, or "".
func urlPassword(v string) string {
	if !strings.Contains(v, "://") || !strings.Contains(v, "@") {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return ""
	}
	pw, _ := u.User.Password()
	return pw
}
