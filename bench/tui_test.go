package bench_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tuiBenchmarks are the TUI engineer's benchmarks in package tui
// (tui/bench_test.go), run in a child `go test` because their helpers are
// internal to that package.
var tuiBenchmarks = []struct{ name, what string }{
	{"BenchmarkRunnerView100k", "TUI: runner View() after 100,000 output lines"},
	{"BenchmarkFirstFrame", "TUI: time to first frame (model built + first View(), Markdown included)"},
}

// BenchmarkTUI runs the TUI's render benchmarks and records their time
// per operation (informational: no target is set for them).
func BenchmarkTUI(b *testing.B) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		for _, tb := range tuiBenchmarks {
			skipped("(tui)", tb.what, "", "no go command")
		}
		b.Skipf("skipping: %v", err)
	}
	var names []string
	for _, tb := range tuiBenchmarks {
		names = append(names, strings.TrimPrefix(tb.name, "Benchmark"))
	}
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(goBin, "test", "-run", "^$", "-bench", "^Benchmark("+strings.Join(names, "|")+")$",
			"-benchtime", "1s", "-count", "1", "github.com/lockstep-run/lockstep/tui")
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("go test ./tui: %v\n%s", err, out)
		}
		got := parseBench(out)
		for _, tb := range tuiBenchmarks {
			d, ok := got[tb.name]
			if !ok {
				skipped("(tui)", tb.what, "", tb.name+" not found in tui/bench_test.go")
				continue
			}
			b.ReportMetric(float64(d.Microseconds())/1000, strings.TrimPrefix(tb.name, "Benchmark")+"-ms")
			record(row{id: "(tui)", what: tb.what, figure: fmt.Sprintf("%.2f ms per frame", float64(d.Nanoseconds())/1e6)})
		}
	}
}

// parseBench reads ns/op from `go test -bench` output, by benchmark name
// (the -GOMAXPROCS suffix removed).
func parseBench(out []byte) map[string]time.Duration {
	res := map[string]time.Duration{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		for j := 2; j+1 < len(f); j++ {
			if f[j+1] != "ns/op" {
				continue
			}
			if ns, err := strconv.ParseFloat(f[j], 64); err == nil {
				name, _, _ := strings.Cut(f[0], "-")
				res[name] = time.Duration(ns)
			}
		}
	}
	return res
}
