package journal

import (
	"regexp"
	"strings"
	"testing"
)

// TestSafeIDMatchesTheRegexp checks safeID against the regular expression
// it replaced, on ids around each of its edges.
func TestSafeIDMatchesTheRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$`)
	ids := []string{"", "a", "Z", "0", ".", "_a", "-a", "a.b_c-d", "20261207-abc", "a b", "a/b", "../x", "é", "aé",
		strings.Repeat("a", 100), strings.Repeat("a", 101), strings.Repeat("a", 102), "a\n", "a\x00"}
	for _, id := range ids {
		if got, want := safeID(id), re.MatchString(id); got != want {
			t.Errorf("safeID(%q)=%v, want %v", id, got, want)
		}
	}
}
