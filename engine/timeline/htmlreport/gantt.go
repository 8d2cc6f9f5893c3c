package htmlreport

import (
	"fmt"
	"html/template"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/timeline"
)

// gantt places each phase and step on the session's span: a phase as one
// bar, a step as one bar per attempt, and the session's pauses as bars of
// their own row.
func gantt(tl timeline.Timeline, start, end time.Time) ([]ganttRow, []axisTick) {
	total := end.Sub(start)
	if total <= 0 {
		return nil, nil
	}
	place := func(from, to time.Time, class, title string) ganttBar {
		if to.IsZero() || to.Before(from) {
			to = from
		}
		left := float64(from.Sub(start)) / float64(total) * 100
		width := float64(to.Sub(from)) / float64(total) * 100
		b := ganttBar{Class: class, Title: title, Marker: width < 0.4}
		b.Style = template.CSS(fmt.Sprintf("left:%.2f%%;width:%.2f%%", clamp(left), clamp(width)))
		return b
	}
	var rows []ganttRow
	done := map[string]bool{}
	addSteps := func(phase string) {
		for _, st := range tl.Steps {
			if done[st.ID] || (phase != "" && st.Phase != phase) {
				continue
			}
			done[st.ID] = true
			r := ganttRow{Label: st.ID, Kind: st.Kind, Status: string(st.Status)}
			for _, a := range st.History {
				if a.Started.IsZero() {
					continue
				}
				to := a.Ended
				if to.IsZero() {
					to = end
				}
				r.Bars = append(r.Bars, place(a.Started, to, string(a.Status),
					fmt.Sprintf("%s attempt %d: %s, %s", st.ID, a.Attempt, a.Status, engine.FormatDuration(to.Sub(a.Started)))))
			}
			rows = append(rows, r)
		}
	}
	for _, ph := range tl.Phases {
		to := ph.Ended
		if to.IsZero() {
			to = end
		}
		rows = append(rows, ganttRow{Label: ph.Name, Phase: true, Status: ph.Status,
			Bars: []ganttBar{place(ph.Started, to, "phase", fmt.Sprintf("phase %s: %s", ph.Name, engine.FormatDuration(to.Sub(ph.Started))))}})
		addSteps(ph.Name)
	}
	addSteps("")
	if pauses := pauseBars(tl, end, place); len(pauses) > 0 {
		rows = append(rows, ganttRow{Label: "paused", Kind: "pause", Bars: pauses})
	}
	var ticks []axisTick
	for i := 0; i <= 4; i++ {
		ticks = append(ticks, axisTick{Style: template.CSS(fmt.Sprintf("left:%d%%", i*25)),
			Label: "+" + engine.FormatDuration((total * time.Duration(i) / 4).Round(100*time.Millisecond))})
	}
	return rows, ticks
}

// pauseBars are the session's pauses, from each pause to the resume (or
// the end) that followed.
func pauseBars(tl timeline.Timeline, end time.Time, place func(from, to time.Time, class, title string) ganttBar) []ganttBar {
	var bars []ganttBar
	var at time.Time
	var by string
	for _, n := range tl.Notes {
		switch n.Kind {
		case engine.EvPause:
			if at.IsZero() {
				at, by = n.Time, n.Operator
			}
		case engine.EvResume, engine.EvSessionResume, engine.EvSessionEnd:
			if !at.IsZero() {
				bars = append(bars, place(at, n.Time, "pause", fmt.Sprintf("paused by %s for %s", by, engine.FormatDuration(n.Time.Sub(at)))))
				at = time.Time{}
			}
		}
	}
	if !at.IsZero() {
		bars = append(bars, place(at, end, "pause", "paused by "+by))
	}
	return bars
}

func clamp(v float64) float64 { return min(max(v, 0), 100) }
