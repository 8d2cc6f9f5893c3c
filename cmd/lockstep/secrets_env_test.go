package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProcessCredentialsNeverLeave: credentials in lockstep's own process
// environment, printed by a shell step alone, inside `aws sts`-shaped
// JSON and as the password of a database URL, reach neither the plain
// front end's output, nor the journal file, nor `journal show` and
// `journal export`. No runbook declares them as secrets.
func TestProcessCredentialsNeverLeave(t *testing.T) {
	creds := map[string]string{
		"AWS_ACCESS_KEY_ID":     "ASIAZXEXAMPLE7Q4KD2M",
		"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
		"AWS_SESSION_TOKEN":     "IQoJb3JpZ2luX2VjEXAMPLE+Tok/en9xYz==",
		"DATABASE_URL":          "postgres://app:Sup3r-S3cret-pw@db.internal:5432/prod",
		"BILLING_DB_PASSWORD":   "hunter2-but-longer",
		"STRIPE_API_KEY":        "sk_live_51HexampleKEYvalue",
		"DEPLOY_TOKEN":          "dpl-token-value-42",
		"OAUTH_CLIENT_SECRET":   "cl13nt-s3cr3t-value",
	}
	for k, v := range creds {
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "creds.sh")
	if err := os.WriteFile(script, []byte(`#!/bin/sh
echo "$AWS_SECRET_ACCESS_KEY"
echo "$AWS_SESSION_TOKEN"
printf '{"Credentials": {"AccessKeyId": "%s", "SecretAccessKey": "%s", "SessionToken": "%s"}}\n' \
  "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN"
echo "$DATABASE_URL"
echo "db pw is $(echo "$DATABASE_URL" | sed 's|.*://[^:]*:\([^@]*\)@.*|\1|')"
echo "$BILLING_DB_PASSWORD $STRIPE_API_KEY $DEPLOY_TOKEN"
printf '{"client_secret":"%s"}\n' "$OAUTH_CLIENT_SECRET"
echo creds-printed
`), 0o700); err != nil {
		t.Fatal(err)
	}
	jpath, out, errOut, err := runOneStep(t, dir, "Credentials", "{id: creds, kind: shell, with: {argv: [sh, "+script+"]}}", nil)
	if err != nil {
		t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	if !strings.Contains(out.String(), "creds-printed") {
		t.Fatalf("the plain output lacks the step's output (did it run?):\n%s", out)
	}
	_, info := latestSession(t, jpath)

	seen := map[string]string{"plain output": out.String() + errOut.String()}
	for _, args := range [][]string{
		{"journal", "show", info.ID},
		{"journal", "export", info.ID, "--format", "md"},
		{"journal", "export", info.ID, "--format", "json"},
	} {
		f, o, e := testFactory(map[string]string{"LOCKSTEP_JOURNAL": jpath}, "u")
		cmd := newRootCmd(f)
		cmd.SetArgs(args)
		cmd.SetOut(f.Out)
		cmd.SetErr(f.ErrOut)
		if err := cmd.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		seen[strings.Join(args[:2], " ")+" "+strings.Join(args[3:], " ")] = o.String() + e.String()
	}
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(jpath + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		seen["journal file"+suffix] = string(b)
	}
	values := []string{"Sup3r-S3cret-pw"} // the URL's password alone
	for _, v := range creds {
		values = append(values, v)
	}
	for where, text := range seen {
		for _, v := range values {
			if strings.Contains(text, v) {
				t.Errorf("%s holds the credential %q", where, v)
			}
		}
	}
	if !bytes.Contains([]byte(seen["plain output"]), []byte("[REDACTED]")) {
		t.Errorf("plain output shows no [REDACTED]:\n%s", seen["plain output"])
	}
}
