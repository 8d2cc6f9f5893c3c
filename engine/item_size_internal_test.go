package engine

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestNumberSizeFastPath: on generated numbers (integers with leading and
// trailing zeros and signs, fractions, exponents, odd strings),
// numberSize (its integer fast path) agrees with the general computation.
func TestNumberSizeFastPath(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 7))
	parts := []string{"0", "00", "1", "7", "42", "900", "-", "+", ".", "5", "e3", "E-2", "x", ""}
	for range 20000 {
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		n := Number(b.String())
		if got, want := numberSize(n), generalNumberSize(string(n)); got != want {
			t.Fatalf("numberSize(%q)=%d, want %d", n, got, want)
		}
	}
}
