package bench_test

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rounds is how many mirrored rounds every comparison runs: A B, B A,
// A B. A steady drift of the machine's load then weighs on every side
// alike, and the spread of the per-round ratios shows how noisy the run
// was; targets apply to the median.
const rounds = 3

// sample is one contender's run in one round.
type sample struct {
	timed
	cpu time.Duration // user+sys of this process and its reaped children during the call
}

// runMirrored runs the contenders in rounds, in the order given in even
// rounds and in reverse in odd ones; each call gets the round number and
// returns what it did. It returns the samples as [contender][round].
// CPU time is getrusage's user+sys of this process (for in-process
// contenders) plus that of the children reaped during the call (for
// contenders that run a binary); a server in another process (dynalite)
// is not counted.
func runMirrored(tb testing.TB, contenders ...func(round int) timed) [][]sample {
	tb.Helper()
	out := make([][]sample, len(contenders))
	for i := range out {
		out[i] = make([]sample, rounds)
	}
	for r := range rounds {
		for k := range contenders {
			i := k
			if r%2 == 1 {
				i = len(contenders) - 1 - k
			}
			before := cpuTime(tb)
			t := contenders[i](r)
			out[i][r] = sample{timed: t, cpu: cpuTime(tb) - before}
		}
	}
	return out
}

// cpuTime is the user+sys time of this process and of its reaped
// children so far.
func cpuTime(tb testing.TB) time.Duration {
	tb.Helper()
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if err := syscall.Getrusage(who, &ru); err != nil {
			tb.Fatalf("getrusage: %v", err)
		}
		total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return total
}

// total sums a contender's rounds.
func total(ss []sample) sample {
	var t sample
	for _, s := range ss {
		t.items += s.items
		t.elapsed += s.elapsed
		t.cpu += s.cpu
	}
	return t
}

// spread is the min, median and max of per-round figures.
type spread struct{ min, med, max float64 }

func spreadOf(xs []float64) spread {
	s := slices.Clone(xs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return spread{min: s[0], med: med, max: s[len(s)-1]}
}

func (s spread) String() string {
	return fmt.Sprintf("%.2f / %.2f / %.2f", s.min, s.med, s.max)
}

// versus compares contender a with b round by round (a/b, each ratio
// taken within one round).
type versus struct{ a, b []sample }

// speed returns the per-round ratios of a's throughput to b's: items per
// wall second and items per CPU second (higher favours a).
func (v versus) speed() (wall, cpu spread) {
	return v.ratios(func(s sample) float64 { return float64(s.items) / s.elapsed.Seconds() },
		func(s sample) float64 { return float64(s.items) / s.cpu.Seconds() })
}

// cost returns the per-round ratios of a's time per item to b's, wall and
// CPU (lower favours a).
func (v versus) cost() (wall, cpu spread) {
	return v.ratios(func(s sample) float64 { return s.elapsed.Seconds() / float64(s.items) },
		func(s sample) float64 { return s.cpu.Seconds() / float64(s.items) })
}

func (v versus) ratios(wallOf, cpuOf func(sample) float64) (wall, cpu spread) {
	var w, c []float64
	for r := range v.a {
		w = append(w, wallOf(v.a[r])/wallOf(v.b[r]))
		c = append(c, cpuOf(v.a[r])/cpuOf(v.b[r]))
	}
	return spreadOf(w), spreadOf(c)
}

// figure renders a comparison for the summary: the wall and CPU ratios
// as min / median / max, then detail (the totals the ratios come from).
func figure(wall, cpu spread, detail string) string {
	return fmt.Sprintf("wall %v, CPU %v (min/med/max); %s", wall, cpu, detail)
}

// logRounds writes every round's figures to the benchmark log.
func logRounds(b *testing.B, names []string, res [][]sample) {
	b.Helper()
	var sb strings.Builder
	for r := range rounds {
		fmt.Fprintf(&sb, "round %d:", r)
		for i, name := range names {
			s := res[i][r]
			fmt.Fprintf(&sb, " %s %d items %.3fs wall %.3fs CPU;", name, s.items, s.elapsed.Seconds(), s.cpu.Seconds())
		}
		sb.WriteString("\n")
	}
	b.Log(sb.String())
}
