package bench_test

import (
	"os"
	"testing"
)

// TestMain runs the benchmarks, then prints the summary table of
// everything they measured.
func TestMain(m *testing.M) {
	code := m.Run()
	printSummary(os.Stdout)
	removeTemplates()
	os.Exit(code)
}
