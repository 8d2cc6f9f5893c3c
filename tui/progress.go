package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/progress"

	"github.com/lockstep-run/lockstep/engine"
)

// sparkSamples is how many rate samples the sparkline shows.
const sparkSamples = 30

// progressPane renders a migrate step's live progress.
type progressPane struct {
	step  string
	data  engine.Progress
	rates []float64
	bar   progress.Model
	width int
}

func newProgressPane(st *styles) progressPane {
	bar := progress.New(progress.WithoutPercentage(), progress.WithColors(st.BarFull), progress.WithFillCharacters('█', '░'))
	bar.EmptyColor = st.BarEmpty
	return progressPane{bar: bar}
}

// Update records a progress sample for step.
func (p *progressPane) Update(step string, d engine.Progress) {
	if step != p.step {
		p.step, p.rates = step, p.rates[:0]
	}
	p.data = d
	p.rates = append(p.rates, d.Rate)
	if len(p.rates) > sparkSamples {
		p.rates = p.rates[len(p.rates)-sparkSamples:]
	}
}

// Active reports whether step has progress to show.
func (p *progressPane) Active(step string) bool { return p.step != "" && p.step == step }

// SetSize sets the width in cells.
func (p *progressPane) SetSize(w int) {
	p.width = w
	p.bar.SetWidth(max(w-8, 10))
}

// View renders the progress block as lines: bar, figures, and for a
// migrate (writes) its conflicts and throttles and the rate sparkline.
// A backup, drill, verify or exact estimate only reads or imports.
func (p *progressPane) View(st *styles, writes bool) []string {
	d := p.data
	pct := 0.0
	if d.Total > 0 {
		pct = min(float64(d.Done)/float64(d.Total), 1)
	}
	bar := p.bar.ViewAs(pct) + fmt.Sprintf(" %3.0f%%", pct*100)
	eta := "—"
	if d.ETAms > 0 {
		eta = (time.Duration(d.ETAms) * time.Millisecond).Round(time.Second).String()
	}
	stats := fmt.Sprintf("%s/%s items · %s items/s · ETA %s", count(d.Done), count(d.Total), count(int64(d.Rate+0.5)), eta)
	if d.Total <= 0 {
		// Size unknown (a fresh DynamoDB table reports 0 items): no
		// percentage or ETA to promise.
		bar = p.bar.ViewAs(0) + "    ?"
		stats = fmt.Sprintf("%s items so far · %s items/s · total not known yet", count(d.Done), count(int64(d.Rate+0.5)))
	}
	if !writes {
		return []string{bar, stats}
	}
	issues := fmt.Sprintf("conflicts %d · throttles %d · failures %d · skipped %s",
		d.Conflicts, d.Throttles, d.Failures, count(d.Skipped))
	if d.Conflicts > 0 || d.Failures > 0 {
		issues = st.Warn.Render(issues)
	}
	lines := []string{bar, stats, issues}
	if d.Segments > 0 {
		lines = append(lines, fleetLines(d, p.width)...)
	}
	return append(lines, "rate "+st.SparkStyle.Render(sparkline(p.rates)))
}

// fleetLines renders a fleet step's workers alive and segments by state:
// one line when it fits in w cells, else two.
func fleetLines(d engine.Progress, w int) []string {
	workers := fmt.Sprintf("workers %d alive", d.WorkersAlive)
	segs := fmt.Sprintf("segments %s done · %s claimed · %s left",
		count(int64(d.SegmentsDone)), count(int64(d.SegmentsClaimed)), count(int64(d.SegmentsLeft)))
	if one := workers + " · " + segs; w <= 0 || len([]rune(one)) <= w {
		return []string{one}
	}
	return []string{fit(workers, w), fit(segs, w)}
}

var sparkRunes = []rune("▁▂▃▄▅▆▇█")

// sparkline renders values as a row of block characters scaled to the max.
func sparkline(vals []float64) string {
	if len(vals) == 0 {
		return ""
	}
	hi := 0.0
	for _, v := range vals {
		hi = max(hi, v)
	}
	var b strings.Builder
	for _, v := range vals {
		i := 0
		if hi > 0 {
			i = int(v / hi * float64(len(sparkRunes)-1))
		}
		b.WriteRune(sparkRunes[min(max(i, 0), len(sparkRunes)-1)])
	}
	return b.String()
}

// count formats n with thousands separators.
func count(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
