package engine

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Redacted replaces every secret the Redactor finds.
const Redacted = "[REDACTED]"

// minSecretLen is the shortest secret value replaced verbatim: shorter
// values would mangle ordinary output (a secret "1" would erase every 1).
const minSecretLen = 4

// credentialPatterns find obvious credentials whatever the runbook
// declares. Groups "keep" and "tail" are kept; the rest of the match is
// replaced. They are compiled on first use: Go initialises every linked
// package on every command, and most commands redact nothing (issue 17).
var credentialPatterns = sync.OnceValue(func() []*regexp.Regexp {
	return []*regexp.Regexp{
		// KEY=value and KEY: value for well-known secret names.
		// CamelCase too: `aws sts assume-role` prints "SecretAccessKey": "…".
		regexp.MustCompile(`(?i)(?P<keep>\b[A-Z0-9_]*(?:SECRET_?ACCESS_?KEY|SESSION_?TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_TOKEN|TOKEN)["']?\s*[=:]\s*["']?)[^\s"'&,;\\]+`),
		// Authorization headers.
		regexp.MustCompile(`(?i)(?P<keep>\bAuthorization:\s*(?:Bearer|Basic|Token)\s+)[^\s"'\\]+`),
		regexp.MustCompile(`(?i)(?P<keep>\bBearer\s+)[A-Za-z0-9\-._~+/]{8,}=*`),
		// AWS access key ids.
		regexp.MustCompile(`(?P<keep>)\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`),
		// user:password@ in URLs (the user may be empty: redis://:pw@host).
		regexp.MustCompile(`(?P<keep>://[^/\s:@"']*:)[^/\s@"']+(?P<tail>@)`),
	}
})

// Redactor removes secret values and obvious credentials from text. It is
// safe for concurrent use.
type Redactor struct {
	secrets []string // longest first, so a secret containing another goes first
}

// NewRedactor returns a Redactor for the given secret values (the values
// of the runbook's `secrets:` variables). Empty and very short values are
// ignored; the credential patterns always apply. A secret URL with a
// password is also redacted in the forms Go prints it with the password
// masked, which the whole value no longer matches.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	seen := map[string]bool{}
	for _, v := range withURLForms(secrets) {
		if len(v) < minSecretLen || seen[v] {
			continue
		}
		seen[v] = true
		r.secrets = append(r.secrets, v)
		// The JSON-escaped form, so journaled JSON is redacted too.
		if b, err := json.Marshal(v); err == nil {
			if esc := string(b[1 : len(b)-1]); esc != v && !seen[esc] {
				seen[esc] = true
				r.secrets = append(r.secrets, esc)
			}
		}
	}
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	return r
}

// withURLForms adds, for each secret URL with a password, the forms with
// the password masked: url.URL.Redacted ("xxxxx") and net/http's errors
// ("***").
func withURLForms(secrets []string) []string {
	out := slices.Clone(secrets)
	for _, v := range secrets {
		u, err := url.Parse(v)
		if err != nil || u.User == nil {
			continue
		}
		if _, ok := u.User.Password(); !ok {
			continue
		}
		out = append(out, u.Redacted(),
			strings.Replace(u.String(), u.User.String()+"@", u.User.Username()+":***@", 1))
	}
	return out
}

// Redact returns s with every secret value and credential replaced by
// [REDACTED].
func (r *Redactor) Redact(s string) string {
	if r == nil || s == "" {
		return s
	}
	for _, v := range r.secrets {
		s = strings.ReplaceAll(s, v, Redacted)
	}
	if !mayHoldCredential(s) {
		return s
	}
	for _, re := range credentialPatterns() {
		s = re.ReplaceAllString(s, "${keep}"+Redacted+"${tail}")
	}
	return s
}

// mayHoldCredential says whether s could match a credential pattern: it
// holds a string every match of one of them holds (ASCII-folded for the
// case-insensitive ones), or a byte outside ASCII (where case folding
// goes beyond ASCII: (?i)s matches ſ, k matches the Kelvin sign). Most
// of what a session redacts — progress, counts, checkpoints — holds
// none, and five regular expressions over every event cost more than
// the event (issue 17).
func mayHoldCredential(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	for _, h := range [...]string{"AKIA", "ASIA", "://"} {
		if strings.Contains(s, h) {
			return true
		}
	}
	lower := strings.ToLower(s) // s itself when it has no upper case
	for _, h := range [...]string{"secret", "token", "passw", "api", "authorization", "bearer"} {
		if strings.Contains(lower, h) {
			return true
		}
	}
	return false
}

// redactJSON redacts a JSON document; the replacement keeps it valid JSON
// (the patterns never consume quotes or backslashes).
func (r *Redactor) redactJSON(data json.RawMessage) json.RawMessage {
	if len(data) == 0 {
		return data
	}
	out := r.Redact(string(data))
	if out == string(data) || !json.Valid([]byte(out)) {
		if out != string(data) {
			// Should not happen; never journal a secret, even at the cost of detail.
			b, _ := json.Marshal(map[string]string{"redacted": r.Redact(string(data))})
			return b
		}
		return data
	}
	return json.RawMessage(out)
}

// redactError returns err with its text redacted: errors.Is and errors.As
// still see what it wraps. An error with nothing to redact is returned as is.
func (r *Redactor) redactError(err error) error {
	if err == nil {
		return nil
	}
	msg := r.Redact(err.Error())
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// redactedError is an error whose text was redacted.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
