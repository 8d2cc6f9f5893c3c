package htmlreport

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/timeline"
)

// Session is one session's journal as the report reads it: its info, its
// events in seq order and, when the caller checked it, the result of
// verifying its hash chain (nil: not checked).
type Session struct {
	Info     engine.SessionInfo
	Events   []engine.Event
	Verified *engine.VerifyResult
}

// Write renders the report of one session as a self-contained HTML page.
func Write(w io.Writer, s Session) error {
	p, err := buildPage(s)
	if err != nil {
		return err
	}
	if err := pageTemplate().ExecuteTemplate(w, "report", p); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

// page is what the report template shows of one session.
type page struct {
	Header     header
	Gantt      []ganttRow
	Axis       []axisTick
	Migrations []migration
	Decisions  []decision
	Learnings  []note
	Notes      []note
	Steps      []stepRow
}

// header is the report's summary of a session.
type header struct {
	Title, Runbook, ID, Env, Mode, Operator, Outcome, Error string
	Started, Ended                                          string
	Duration, Paused                                        string
	Pauses, Resumes                                         int
	Verified                                                string // "hash chain of N events intact", "NOT verified: …", "not checked"
	VerifiedOK                                              bool
}

// ganttRow is a phase or a step on the timeline, its bars placed in
// percent of the session's span.
type ganttRow struct {
	Label, Kind, Status string
	Phase               bool
	Bars                []ganttBar
}

// ganttBar is an attempt (or a phase, or a pause) on the timeline.
type ganttBar struct {
	Style  template.CSS // left and width, in percent
	Class  string       // the status, or "pause"
	Title  string
	Marker bool // too short to draw: a tick
}

// axisTick is a time label under the timeline.
type axisTick struct {
	Style template.CSS
	Label string
}

// migration is a migrate step's chart and figures.
type migration struct {
	ID, Status     string
	Chart          template.HTML
	Migrated       int64
	Throttles      int64
	Conflicts      int64
	Actual         string // duration
	ActualRate     string // items/s
	Estimate       string // duration, "" without an estimate
	EstimateRate   string
	EstimateSource string // the estimate step
	Delta          string // actual against estimate, "+12%"
	Markers        []markerRow
}

// markerRow is a marker with its time from the step's start.
type markerRow struct {
	Offset, Kind, Text string
}

// decision is an operator choice, approval, skip, retry or mark-done.
type decision struct {
	Time, Step, Kind, Choice, Role, Operator, Reason string
}

// note is a session-level note or event worth reading.
type note struct {
	Time, Step, Kind, Operator, Text string
}

// stepRow is a step in the summary table.
type stepRow struct {
	ID, Phase, Kind, Status, Duration, Reason, Error string
	Attempts, Failed                                 int
}

// learningPrefix marks a note as a learning (as `lockstep learnings` reads them).
const learningPrefix = "learning:"

func buildPage(s Session) (page, error) {
	tl := timeline.Build(s.Info, s.Events)
	p := page{Header: headerOf(tl, s.Verified)}
	start, end := span(tl)
	p.Gantt, p.Axis = gantt(tl, start, end)
	series := seriesOf(s.Events)
	for _, st := range tl.Steps {
		if st.Kind != "migrate" {
			continue
		}
		m, err := migrationOf(tl, st, series[st.ID])
		if err != nil {
			return p, err
		}
		p.Migrations = append(p.Migrations, m)
	}
	for _, st := range tl.Steps {
		for _, d := range st.Decisions {
			p.Decisions = append(p.Decisions, decision{Time: clock(d.Time), Step: st.ID, Kind: d.Kind,
				Choice: d.Choice, Role: d.Role, Operator: d.Operator, Reason: d.Reason})
		}
		p.Steps = append(p.Steps, stepRow{ID: st.ID, Phase: st.Phase, Kind: st.Kind, Status: string(st.Status),
			Duration: engine.FormatDuration(st.Duration), Reason: st.Reason, Error: st.Error,
			Attempts: st.Attempts, Failed: st.Failed()})
	}
	for _, n := range tl.Notes {
		row := note{Time: clock(n.Time), Step: n.Step, Kind: string(n.Kind), Operator: n.Operator, Text: noteText(n)}
		if text, ok := learning(n); ok {
			row.Text = text
			p.Learnings = append(p.Learnings, row)
			continue
		}
		p.Notes = append(p.Notes, row)
	}
	return p, nil
}

// noteText is what a note says; a rate change, which the timeline keeps
// as its raw data, is said in words.
func noteText(n timeline.Note) string {
	var r engine.RateChanged
	if n.Kind == engine.EvRate && json.Unmarshal([]byte(n.Text), &r) == nil {
		return fmt.Sprintf("max write rate set to %d items/s", r.Rate)
	}
	return n.Text
}

// learning reports whether n is a learning, and its text without the mark.
func learning(n timeline.Note) (string, bool) {
	if n.Kind != engine.EvNote {
		return "", false
	}
	t := strings.TrimSpace(n.Text)
	if len(t) < len(learningPrefix) || !strings.EqualFold(t[:len(learningPrefix)], learningPrefix) {
		return "", false
	}
	return strings.TrimSpace(t[len(learningPrefix):]), true
}

func headerOf(tl timeline.Timeline, v *engine.VerifyResult) header {
	in := tl.Info
	h := header{Title: first(in.Title, in.Runbook, in.ID), Runbook: in.Runbook, ID: in.ID, Env: in.Env, Mode: string(in.Mode),
		Operator: in.Operator, Outcome: first(string(tl.Outcome), "running"), Error: tl.Error,
		Started: stamp(in.Started), Ended: stamp(in.Ended), Duration: engine.FormatDuration(tl.Duration),
		Paused: engine.FormatDuration(tl.Paused), Pauses: tl.Pauses, Resumes: tl.Resumes, Verified: "not checked"}
	switch {
	case v == nil:
	case v.OK:
		h.Verified, h.VerifiedOK = fmt.Sprintf("hash chain of %d events intact", v.Events), true
	case v.NeedsKey:
		h.Verified = "not verified: the session is keyed and LOCKSTEP_JOURNAL_KEY was not given"
	case v.BadSeq > 0:
		h.Verified = strings.TrimSuffix(fmt.Sprintf("NOT verified: event %d: %s", v.BadSeq, v.Reason), ": ")
	default:
		h.Verified = strings.TrimSuffix("NOT verified: "+v.Reason, ": ")
	}
	return h
}

// span is the time the timeline covers: the session's start to its end
// (or its last step's end while it runs).
func span(tl timeline.Timeline) (time.Time, time.Time) {
	start := tl.Info.Started
	end := start.Add(tl.Duration)
	for _, st := range tl.Steps {
		if !st.Started.IsZero() && (start.IsZero() || st.Started.Before(start)) {
			start = st.Started
		}
		if st.Ended.After(end) {
			end = st.Ended
		}
	}
	return start, end
}

// migrationOf gathers a migrate step's chart and figures, with the
// estimate of the last estimate step before it.
func migrationOf(tl timeline.Timeline, st timeline.Step, s *stepSeries) (migration, error) {
	m := migration{ID: st.ID, Status: string(st.Status), Actual: engine.FormatDuration(st.Duration)}
	if s == nil {
		s = &stepSeries{}
	}
	if n := len(s.Samples); n > 0 {
		last := s.Samples[n-1]
		m.Migrated, m.Throttles, m.Conflicts = last.Migrated, last.Throttles, last.Conflicts
	}
	if secs := st.Duration.Seconds(); secs > 0 {
		m.ActualRate = fmt.Sprintf("%.0f", float64(m.Migrated)/secs)
	}
	end := st.Ended
	if end.IsZero() && len(s.Samples) > 0 {
		end = s.Samples[len(s.Samples)-1].At
	}
	chart, err := throughputChart(st.ID+": throughput", s.buckets(st.Started, end))
	if err != nil {
		return m, err
	}
	m.Chart = chart
	for _, mk := range s.Markers {
		m.Markers = append(m.Markers, markerRow{Offset: "+" + engine.FormatDuration(mk.At.Sub(st.Started)), Kind: mk.Kind, Text: mk.Text})
	}
	if est, id, ok := estimateBefore(tl, st.ID); ok {
		m.EstimateSource = id
		m.Estimate = engine.FormatDuration(time.Duration(est.DurationMS) * time.Millisecond)
		if est.Rate > 0 {
			m.EstimateRate = fmt.Sprintf("%.0f", est.Rate)
		}
		if est.DurationMS > 0 && st.Duration > 0 {
			pct := (float64(st.Duration.Milliseconds())/float64(est.DurationMS) - 1) * 100
			m.Delta = fmt.Sprintf("%+.0f%%", pct)
		}
	}
	return m, nil
}

// estimateFigures is what the report reads of an estimate step's result.
type estimateFigures struct {
	DurationMS int64   `json:"duration_ms"`
	Rate       float64 `json:"rate"`
}

// estimateBefore finds the result of the last estimate step that started
// before the step id.
func estimateBefore(tl timeline.Timeline, id string) (estimateFigures, string, bool) {
	var est estimateFigures
	var from string
	found := false
	for _, st := range tl.Steps {
		if st.ID == id {
			break
		}
		if st.Kind != "estimate" {
			continue
		}
		for _, r := range st.Results {
			var e estimateFigures
			if json.Unmarshal(r, &e) == nil && e.DurationMS > 0 {
				est, from, found = e, st.ID, true
			}
		}
	}
	return est, from, found
}

// stamp renders a time in UTC to the second ("" for the zero time).
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// clock renders a time of day in UTC.
func clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("15:04:05")
}
