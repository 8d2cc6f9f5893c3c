package engine

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestCredentialHintsCoverEveryMatch: Redact skips the credential
// patterns for text that holds none of their hints, so every text one of
// the patterns matches must hold a hint. Random texts are drawn from the
// patterns' own letters and separators, in both cases and with the
// non-ASCII letters Go's case folding maps onto ASCII ones.
func TestCredentialHintsCoverEveryMatch(t *testing.T) {
	t.Parallel()
	pieces := []string{
		"secret", "SECRET", "Secret", "access", "_", "key", "KEY", "session", "token", "Token", "password",
		"passwd", "PassWd", "api", "API", "Api_", "authorization", "Authorization", "bearer", "Bearer ", "basic ",
		"AKIA", "ASIA", "akia", "0123456789ABCDEF", "QRSTUVWX", "://", ":", "=", " ", "\"", "'", "@", "/",
		"u", "pw", "hunter2", "abcdefgh", "x", "\u017f", "\u212a", "\u017fecret", "to\u212aen",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	matched, skipped := 0, 0
	for range 60000 {
		var b strings.Builder
		for range 1 + rng.IntN(8) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		hint := mayHoldCredential(s)
		if !hint {
			skipped++
		}
		for _, re := range credentialPatterns() {
			if re.MatchString(s) {
				matched++
				if !hint {
					t.Fatalf("%q matches %s but holds no hint: Redact would leave it", s, re)
				}
			}
		}
	}
	if matched < 1000 || skipped < 1000 {
		t.Fatalf("%d matches and %d texts without a hint: the draw does not exercise both sides", matched, skipped)
	}
	for _, s := range []string{
		"my_\u017fecret=hunter22", "to\u212aen: abcdefgh", // non-ASCII letters folding onto the patterns' ASCII
		`{"msg":"AWS_SECRET_ACCESS_KEY=abc"}`, "postgres://app:pw@db/x", "Authorization: Basic dXNlcg==",
	} {
		if got := (&Redactor{}).Redact(s); got == s {
			t.Errorf("Redact(%q) left it unchanged", s)
		}
	}
	for _, s := range []string{`{"scanned":2000,"migrated":1990,"already":10,"bytes":81234}`, "42 rows written"} {
		if mayHoldCredential(s) {
			t.Errorf("mayHoldCredential(%q) = true, want the patterns skipped", s)
		}
	}
}
