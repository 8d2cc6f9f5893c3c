package engine

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// slowNumberSize is numberSize without its integer fast path: the
// reference it must agree with.
func slowNumberSize(n Number) int {
	s := string(n)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimLeft(s, "+-")
	whole, frac, _ := strings.Cut(s, ".")
	digits := strings.Trim(whole+frac, "0")
	return (len(digits)+1)/2 + 1
}

// TestNumberSizeFastPath: on generated numbers (integers with leading and
// trailing zeros and signs, fractions, exponents, odd strings),
// numberSize agrees with the general computation.
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
		if got, want := numberSize(n), slowNumberSize(n); got != want {
			t.Fatalf("numberSize(%q)=%d, want %d", n, got, want)
		}
	}
}
