package bench_test

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
)

// row is one line of the summary table.
type row struct {
	id      string // (a), (b)…
	what    string
	figure  string // the measured figure, with the numbers it is made of
	target  string // "" when informational
	verdict string // PASS, MISS, SKIP or "" (informational)
}

// summary collects the rows benchmarks record, in recording order.
var summary struct {
	mu   sync.Mutex
	rows []row
}

func record(r row) {
	summary.mu.Lock()
	defer summary.mu.Unlock()
	summary.rows = append(summary.rows, r)
}

// check returns PASS or MISS.
func check(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// skipped records that a measurement did not run, and why.
func skipped(id, what, target, why string) {
	record(row{id: id, what: what, figure: "not measured: " + why, target: target, verdict: "SKIP"})
}

// printSummary writes the table; it writes nothing when no benchmark ran.
func printSummary(w io.Writer) {
	summary.mu.Lock()
	defer summary.mu.Unlock()
	if len(summary.rows) == 0 {
		return
	}
	rows := slices.Clone(summary.rows)
	sort.SliceStable(rows, func(i, j int) bool { return rank(rows[i].id) < rank(rows[j].id) })
	fmt.Fprintln(w)
	fmt.Fprintln(w, "lockstep benchmark summary (every figure from this one run)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tmeasure\tfigure\ttarget\tverdict")
	fmt.Fprintln(tw, "\t-------\t------\t------\t-------")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.id, r.what, r.figure, orDash(r.target), orDash(r.verdict))
	}
	tw.Flush()
	var miss []string
	for _, r := range rows {
		if r.verdict == "MISS" {
			miss = append(miss, r.id)
		}
	}
	if len(miss) > 0 {
		fmt.Fprintf(w, "missed: %s\n", strings.Join(miss, " "))
	}
}

// rank orders ids as the brief lists them: (a) (a') (b) (b') … (tui).
func rank(id string) string {
	return strings.Trim(id, "()'") + strings.Repeat("'", strings.Count(id, "'"))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
