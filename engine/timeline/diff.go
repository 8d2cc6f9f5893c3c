package timeline

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// Diff compares two sessions step by step (lockstep journal diff
// A B), typically a rehearsal and the live run.
type Diff struct {
	A         engine.SessionInfo
	B         engine.SessionInfo
	DurationA time.Duration
	DurationB time.Duration
	Steps     []StepDiff
}

// StepDiff is one step in both sessions. A status is "" when the step does
// not appear in that session; Delta is B − A. Attempts count each side's
// starts, Failed how many of its attempts failed; Decisions are each
// side's decisions and approvals, in order.
type StepDiff struct {
	ID         string
	StatusA    engine.StepStatus
	StatusB    engine.StepStatus
	DurationA  time.Duration
	DurationB  time.Duration
	Delta      time.Duration
	AttemptsA  int
	AttemptsB  int
	FailedA    int
	FailedB    int
	DecisionsA []DiffDecision
	DecisionsB []DiffDecision
}

// DiffDecision is what a decision or an approval chose: the choice, or
// the approver and the role approved as.
type DiffDecision struct {
	Kind   string `json:"kind"` // decision or approval
	Choice string `json:"choice"`
	Role   string `json:"role,omitempty"`
}

// DecisionsDiffer reports whether the two sides decided or approved
// differently (a different choice, approver or role, or a different
// number of them).
func (s StepDiff) DecisionsDiffer() bool {
	return !slices.Equal(s.DecisionsA, s.DecisionsB)
}

func (s *StepDiff) setA(t Step) {
	s.StatusA, s.DurationA, s.AttemptsA, s.FailedA, s.DecisionsA = t.Status, t.Duration, t.Attempts, t.Failed(), diffDecisions(t)
}

func (s *StepDiff) setB(t Step) {
	s.StatusB, s.DurationB, s.AttemptsB, s.FailedB, s.DecisionsB = t.Status, t.Duration, t.Attempts, t.Failed(), diffDecisions(t)
}

// diffDecisions are the step's decisions and approvals; skips, retries
// and mark-dones show in its status and attempts.
func diffDecisions(t Step) []DiffDecision {
	var out []DiffDecision
	for _, d := range t.Decisions {
		if d.Kind == "decision" || d.Kind == "approval" {
			out = append(out, DiffDecision{Kind: d.Kind, Choice: d.Choice, Role: d.Role})
		}
	}
	return out
}

// Compare pairs the steps of a and b by id: a's steps in a's order,
// then those only b has, in b's order.
func Compare(a, b Timeline) Diff {
	d := Diff{A: a.Info, B: b.Info, DurationA: a.Duration, DurationB: b.Duration}
	inB := map[string]Step{}
	for _, s := range b.Steps {
		inB[s.ID] = s
	}
	seen := map[string]bool{}
	for _, s := range a.Steps {
		seen[s.ID] = true
		sd := StepDiff{ID: s.ID}
		sd.setA(s)
		if o, ok := inB[s.ID]; ok {
			sd.setB(o)
		}
		sd.Delta = sd.DurationB - sd.DurationA
		d.Steps = append(d.Steps, sd)
	}
	for _, s := range b.Steps {
		if !seen[s.ID] {
			sd := StepDiff{ID: s.ID, Delta: s.Duration}
			sd.setB(s)
			d.Steps = append(d.Steps, sd)
		}
	}
	return d
}

// WriteText writes the diff as an aligned table: a header line per
// session, then per step each side's status, attempts (with how many
// failed) and duration and the delta (with its percentage of A's
// duration), then the session totals; then the steps whose decisions or
// approvals differ, each side's in order.
func (d Diff) WriteText(w io.Writer) error {
	hw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, side := range []struct {
		name string
		info engine.SessionInfo
		dur  time.Duration
	}{{"A", d.A, d.DurationA}, {"B", d.B, d.DurationB}} {
		fmt.Fprintf(hw, "%s\t%s\t%s\t%s\t%s\t%s\n", side.name, side.info.ID, side.info.Env, side.info.Mode,
			first(string(side.info.Outcome), "running"), engine.FormatDuration(side.dur))
	}
	if err := hw.Flush(); err != nil {
		return fmt.Errorf("write timeline diff: %w", err)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tA STATUS\tA ATTEMPTS\tA TIME\tB STATUS\tB ATTEMPTS\tB TIME\tDELTA")
	for _, s := range d.Steps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", diffText(s.ID),
			diffStatus(s.StatusA), diffAttempts(s.StatusA, s.AttemptsA, s.FailedA), diffDuration(s.StatusA, s.DurationA),
			diffStatus(s.StatusB), diffAttempts(s.StatusB, s.AttemptsB, s.FailedB), diffDuration(s.StatusB, s.DurationB),
			diffDelta(s))
	}
	a, b := d.DurationA, d.DurationB
	fmt.Fprintf(tw, "TOTAL\t\t\t%s\t\t\t%s\t%s\n", engine.FormatDuration(a), engine.FormatDuration(b), formatDelta(b-a, a))
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write timeline diff: %w", err)
	}
	return d.writeDecisions(w)
}

// writeDecisions lists the steps whose decisions or approvals differ.
func (d Diff) writeDecisions(w io.Writer) error {
	var differ []StepDiff
	for _, s := range d.Steps {
		if s.DecisionsDiffer() {
			differ = append(differ, s)
		}
	}
	if len(differ) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nDecisions and approvals that differ:\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tA\tB")
	for _, s := range differ {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", diffText(s.ID), diffDecisionsText(s.DecisionsA), diffDecisionsText(s.DecisionsB))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write timeline diff: %w", err)
	}
	return nil
}

// diffDecisionsText renders decisions as "decided X; approved by Y as R".
func diffDecisionsText(ds []DiffDecision) string {
	if len(ds) == 0 {
		return "—"
	}
	parts := make([]string, len(ds))
	for i, d := range ds {
		switch d.Kind {
		case "approval":
			parts[i] = "approved by " + diffText(d.Choice)
			if d.Role != "" {
				parts[i] += " as " + diffText(d.Role)
			}
		default:
			parts[i] = "decided " + diffText(d.Choice)
		}
	}
	return strings.Join(parts, "; ")
}

// diffText flattens s to one line without tabs, which would break the
// table's columns.
func diffText(s string) string { return strings.Join(strings.Fields(s), " ") }

// diffAttempts is a side's attempt count with how many failed: "2 (1 failed)".
func diffAttempts(s engine.StepStatus, attempts, failed int) string {
	switch {
	case s == "":
		return "—"
	case failed > 0:
		return fmt.Sprintf("%d (%d failed)", attempts, failed)
	}
	return fmt.Sprint(attempts)
}

func diffStatus(s engine.StepStatus) string { return first(string(s), "—") }

func diffDuration(s engine.StepStatus, d time.Duration) string {
	if s == "" {
		return "—"
	}
	return engine.FormatDuration(d)
}

func diffDelta(s StepDiff) string {
	if s.StatusA == "" || s.StatusB == "" {
		return "—"
	}
	return formatDelta(s.Delta, s.DurationA)
}

// WriteJSON writes the diff as indented JSON with stable field names:
//
//	{"a": {session}, "b": {session}, "duration_a_ms", "duration_b_ms",
//	 "steps": [{"id", "status_a", "status_b", "duration_a_ms", "duration_b_ms", "delta_ms",
//	            "attempts_a", "attempts_b", "failed_a", "failed_b",
//	            "decisions_a": [{"kind", "choice", "role"?}], "decisions_b": [...],
//	            "decisions_differ"}]}
//
// A status is "" for a step absent from that session. failed_a/_b count
// the attempts that failed; decisions are the decisions and approvals
// (choice, or approver and role), in order.
func (d Diff) WriteJSON(w io.Writer) error {
	type step struct {
		ID              string            `json:"id"`
		StatusA         engine.StepStatus `json:"status_a"`
		StatusB         engine.StepStatus `json:"status_b"`
		DurationA       int64             `json:"duration_a_ms"`
		DurationB       int64             `json:"duration_b_ms"`
		Delta           int64             `json:"delta_ms"`
		AttemptsA       int               `json:"attempts_a"`
		AttemptsB       int               `json:"attempts_b"`
		FailedA         int               `json:"failed_a"`
		FailedB         int               `json:"failed_b"`
		DecisionsA      []DiffDecision    `json:"decisions_a"`
		DecisionsB      []DiffDecision    `json:"decisions_b"`
		DecisionsDiffer bool              `json:"decisions_differ"`
	}
	out := struct {
		A         engine.SessionInfo `json:"a"`
		B         engine.SessionInfo `json:"b"`
		DurationA int64              `json:"duration_a_ms"`
		DurationB int64              `json:"duration_b_ms"`
		Steps     []step             `json:"steps"`
	}{A: d.A, B: d.B, DurationA: d.DurationA.Milliseconds(), DurationB: d.DurationB.Milliseconds(), Steps: []step{}}
	for _, s := range d.Steps {
		out.Steps = append(out.Steps, step{s.ID, s.StatusA, s.StatusB, s.DurationA.Milliseconds(),
			s.DurationB.Milliseconds(), s.Delta.Milliseconds(), s.AttemptsA, s.AttemptsB, s.FailedA, s.FailedB,
			nonNil(s.DecisionsA), nonNil(s.DecisionsB), s.DecisionsDiffer()})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write timeline diff json: %w", err)
	}
	return nil
}
