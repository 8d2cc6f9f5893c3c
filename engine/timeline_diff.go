package engine

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// TimelineDiff compares two sessions step by step (lockstep journal diff
// A B), typically a rehearsal and the live run.
type TimelineDiff struct {
	A         SessionInfo
	B         SessionInfo
	DurationA time.Duration
	DurationB time.Duration
	Steps     []StepDiff
}

// StepDiff is one step in both sessions. A status is "" when the step does
// not appear in that session; Delta is B − A.
type StepDiff struct {
	ID        string
	StatusA   StepStatus
	StatusB   StepStatus
	DurationA time.Duration
	DurationB time.Duration
	Delta     time.Duration
}

// DiffTimelines pairs the steps of a and b by id: a's steps in a's order,
// then those only b has, in b's order.
func DiffTimelines(a, b Timeline) TimelineDiff {
	d := TimelineDiff{A: a.Info, B: b.Info, DurationA: a.Duration, DurationB: b.Duration}
	inB := map[string]TimelineStep{}
	for _, s := range b.Steps {
		inB[s.ID] = s
	}
	seen := map[string]bool{}
	for _, s := range a.Steps {
		seen[s.ID] = true
		sd := StepDiff{ID: s.ID, StatusA: s.Status, DurationA: s.Duration}
		if o, ok := inB[s.ID]; ok {
			sd.StatusB, sd.DurationB = o.Status, o.Duration
		}
		sd.Delta = sd.DurationB - sd.DurationA
		d.Steps = append(d.Steps, sd)
	}
	for _, s := range b.Steps {
		if !seen[s.ID] {
			d.Steps = append(d.Steps, StepDiff{ID: s.ID, StatusB: s.Status, DurationB: s.Duration, Delta: s.Duration})
		}
	}
	return d
}

// WriteText writes the diff as an aligned table: a header line per
// session, then per step each side's status and duration and the delta
// (with its percentage of A's duration), then the session totals.
func (d TimelineDiff) WriteText(w io.Writer) error {
	hw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, side := range []struct {
		name string
		info SessionInfo
		dur  time.Duration
	}{{"A", d.A, d.DurationA}, {"B", d.B, d.DurationB}} {
		fmt.Fprintf(hw, "%s\t%s\t%s\t%s\t%s\t%s\n", side.name, side.info.ID, side.info.Env, side.info.Mode,
			timelineFirst(string(side.info.Outcome), "running"), FormatDuration(side.dur))
	}
	if err := hw.Flush(); err != nil {
		return fmt.Errorf("write timeline diff: %w", err)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tA STATUS\tA TIME\tB STATUS\tB TIME\tDELTA")
	for _, s := range d.Steps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID,
			diffStatus(s.StatusA), diffDuration(s.StatusA, s.DurationA),
			diffStatus(s.StatusB), diffDuration(s.StatusB, s.DurationB), diffDelta(s))
	}
	a, b := d.DurationA, d.DurationB
	fmt.Fprintf(tw, "TOTAL\t\t%s\t\t%s\t%s\n", FormatDuration(a), FormatDuration(b), FormatDelta(b-a, a))
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write timeline diff: %w", err)
	}
	return nil
}

func diffStatus(s StepStatus) string { return timelineFirst(string(s), "—") }

func diffDuration(s StepStatus, d time.Duration) string {
	if s == "" {
		return "—"
	}
	return FormatDuration(d)
}

func diffDelta(s StepDiff) string {
	if s.StatusA == "" || s.StatusB == "" {
		return "—"
	}
	return FormatDelta(s.Delta, s.DurationA)
}

// WriteJSON writes the diff as indented JSON with stable field names:
//
//	{"a": {session}, "b": {session}, "duration_a_ms", "duration_b_ms",
//	 "steps": [{"id", "status_a", "status_b", "duration_a_ms", "duration_b_ms", "delta_ms"}]}
//
// A status is "" for a step absent from that session.
func (d TimelineDiff) WriteJSON(w io.Writer) error {
	type step struct {
		ID        string     `json:"id"`
		StatusA   StepStatus `json:"status_a"`
		StatusB   StepStatus `json:"status_b"`
		DurationA int64      `json:"duration_a_ms"`
		DurationB int64      `json:"duration_b_ms"`
		Delta     int64      `json:"delta_ms"`
	}
	out := struct {
		A         SessionInfo `json:"a"`
		B         SessionInfo `json:"b"`
		DurationA int64       `json:"duration_a_ms"`
		DurationB int64       `json:"duration_b_ms"`
		Steps     []step      `json:"steps"`
	}{A: d.A, B: d.B, DurationA: d.DurationA.Milliseconds(), DurationB: d.DurationB.Milliseconds(), Steps: []step{}}
	for _, s := range d.Steps {
		out.Steps = append(out.Steps, step{s.ID, s.StatusA, s.StatusB, s.DurationA.Milliseconds(),
			s.DurationB.Milliseconds(), s.Delta.Milliseconds()})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write timeline diff json: %w", err)
	}
	return nil
}
