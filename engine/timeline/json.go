package timeline

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// WriteJSON writes the timeline as one indented JSON document. The field
// names are stable (docs/json.md documents them):
//
//	{"session": {id, runbook, runbook_path, runbook_sha256, title, env, mode,
//	             operator, started, ended?, outcome, events},
//	 "outcome", "error"?, "duration_ms", "paused_ms", "pauses", "resumes",
//	 "estimate"?: {"estimated_ms", "actual_ms", "delta_ms"},
//	 "phases": [{"name", "status"?, "started"?, "ended"?}],
//	 "steps": [{"id", "phase"?, "kind"?, "rollback_of"?, "status", "reason"?,
//	            "error"?, "attempts", "started"?, "ended"?, "duration_ms",
//	            "attempt_history": [{"attempt", "started"?, "ended"?, "status", "error"?, "reason"?}],
//	            "decisions": [{"kind", "choice"?, "reason"?, "role"?, "operator", "time"}],
//	            "checks": [{"index", "item", "operator", "time"}],
//	            "output_excerpt": ["line", …], "output_lines",
//	            "results": [{…}], "progress"?: {…}, "checkpoints",
//	            "notes": [{"kind", "step"?, "text"?, "operator", "time"}]}],
//	 "notes": [{"kind", "step"?, "text"?, "operator", "time"}]}
//
// Times are RFC 3339 in UTC; lists are [] rather than null when empty.
func (t Timeline) WriteJSON(w io.Writer) error {
	out := timelineJSON{Timeline: t, DurationMS: t.Duration.Milliseconds(), PausedMS: t.Paused.Milliseconds(),
		Phases: nonNil(t.Phases), Notes: nonNil(t.Notes), Steps: []timelineStepJSON{}}
	if est, act, ok := t.EstimateVsActual(); ok {
		out.Estimate = &estimateJSON{EstimatedMS: est.Milliseconds(), ActualMS: act.Milliseconds(),
			DeltaMS: (act - est).Milliseconds()}
	}
	for _, s := range t.Steps {
		s.Decisions, s.Checks, s.Output = nonNil(s.Decisions), nonNil(s.Checks), nonNil(s.Output)
		s.Results, s.Notes, s.History = nonNil(s.Results), nonNil(s.Notes), nonNil(s.History)
		out.Steps = append(out.Steps, timelineStepJSON{Step: s, DurationMS: s.Duration.Milliseconds()})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write timeline json: %w", err)
	}
	return nil
}

// timelineJSON is the wire form: durations in milliseconds, no nulls.
type timelineJSON struct {
	Timeline
	DurationMS int64              `json:"duration_ms"`
	PausedMS   int64              `json:"paused_ms"`
	Estimate   *estimateJSON      `json:"estimate,omitempty"`
	Phases     []Phase            `json:"phases"`
	Steps      []timelineStepJSON `json:"steps"`
	Notes      []Note             `json:"notes"`
}

type timelineStepJSON struct {
	Step
	DurationMS int64 `json:"duration_ms"`
}

type estimateJSON struct {
	EstimatedMS int64 `json:"estimated_ms"`
	ActualMS    int64 `json:"actual_ms"`
	DeltaMS     int64 `json:"delta_ms"`
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// EstimateVsActual compares the estimated duration with the actual one.
// The estimate is the `duration_ms` (or `estimated_ms`) number of the last
// result of the last estimate step; the actual is the summed duration of
// the migrate steps that are not rollbacks. ok is false when either is
// missing.
func (t Timeline) EstimateVsActual() (estimated, actual time.Duration, ok bool) {
	var haveEst, haveAct bool
	for _, s := range t.Steps {
		switch {
		case s.Kind == "estimate" && len(s.Results) > 0:
			var r struct {
				DurationMS  *float64 `json:"duration_ms"`
				EstimatedMS *float64 `json:"estimated_ms"`
			}
			if json.Unmarshal(s.Results[len(s.Results)-1], &r) != nil {
				continue
			}
			if ms := r.DurationMS; ms != nil || r.EstimatedMS != nil {
				if ms == nil {
					ms = r.EstimatedMS
				}
				estimated, haveEst = time.Duration(*ms*float64(time.Millisecond)), true
			}
		case s.Kind == "migrate" && s.RollbackOf == "" && s.Attempts > 0:
			actual += s.Duration
			haveAct = true
		}
	}
	return estimated, actual, haveEst && haveAct
}
