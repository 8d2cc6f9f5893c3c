package postgres

import (
	"net/url"
	"regexp"
	"strings"
)

// RedactDSN returns dsn with its password replaced by "xxxxx", in both
// URL (postgres://user:pw@host/db, ?password=pw) and keyword/value
// (password=pw) forms, for messages, screens and the journal.
func RedactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return kvPassword.ReplaceAllString(dsn, "${1}xxxxx")
}

// kvPassword matches the password of a keyword/value connection string,
// quoted or not.
var kvPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// dsnPassword returns the password dsn holds, "" when none.
func dsnPassword(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		if pw, ok := u.User.Password(); ok {
			return pw
		}
		return u.Query().Get("password")
	}
	if m := kvPassword.FindStringSubmatch(dsn); m != nil {
		return strings.Trim(m[2], "'")
	}
	return ""
}

// redactErr returns err with every occurrence of dsn's password (raw
// and URL-escaped) removed from its text; it still wraps err.
func redactErr(err error, dsn string) error {
	pw := dsnPassword(dsn)
	if err == nil || pw == "" {
		return err
	}
	msg := err.Error()
	for _, form := range []string{pw, url.QueryEscape(pw), url.PathEscape(pw)} {
		msg = strings.ReplaceAll(msg, form, "xxxxx")
	}
	return &redacted{msg: msg, err: err}
}

type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }
