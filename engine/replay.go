package engine

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/lockstep-run/lockstep/runbook"
)

// RollbackSuffix ends the id of a rollback step in events: "<id>.rollback".
const RollbackSuffix = runbook.RollbackSuffix

// Replay rebuilds a session's state from its events. The running session
// keeps its State up to date by applying each event it journals the same
// way, so a replayed state equals the live one. A step that started and
// has no step.end (a crash), or whose step.end says "interrupted" (a clean
// quit), is StepInterrupted.
func Replay(rb *runbook.Runbook, info SessionInfo, events []Event) *State {
	st := newState(rb, info)
	for _, ev := range events {
		st.apply(ev)
	}
	for _, ss := range st.Steps {
		if ss.Status == StepRunning {
			ss.Status = StepInterrupted
		}
	}
	st.Current = ""
	return st
}

func newState(rb *runbook.Runbook, info SessionInfo) *State {
	st := &State{Info: info, Outcome: info.Outcome}
	for _, s := range rb.Steps() {
		st.Steps = append(st.Steps, &StepState{Step: s, Status: StepPending})
	}
	return st
}

// clone returns a deep copy (Step pointers are shared: runbooks are immutable).
func (s *State) clone() State {
	out := *s
	out.Steps = make([]*StepState, len(s.Steps))
	for i, ss := range s.Steps {
		c := *ss
		c.Checked = slices.Clone(ss.Checked)
		out.Steps[i] = &c
	}
	return out
}

// stepEnd is the data of a step.end event.
type stepEnd struct {
	Status StepStatus `json:"status"`
	Error  string     `json:"error,omitempty"`
	Reason string     `json:"reason,omitempty"`
	// Unmet marks a step the runbook skipped because a requirement was
	// not met: it did not complete, so it does not satisfy `requires:`.
	Unmet      bool            `json:"unmet,omitempty"`
	DurationMS int64           `json:"duration_ms"`
	Result     json.RawMessage `json:"result,omitempty"`
}

// apply folds one event into the state.
func (s *State) apply(ev Event) {
	var d struct {
		Attempt int     `json:"attempt"`
		Reason  string  `json:"reason"`
		Outcome Outcome `json:"outcome"`
		Index   int     `json:"index"`
	}
	_ = ev.Decode(&d)
	switch ev.Kind {
	case EvSessionResume:
		s.Outcome, s.Paused = OutcomeRunning, false
	case EvSessionEnd:
		s.Outcome, s.Current = d.Outcome, ""
	case EvPause:
		s.Paused = true
	case EvResume:
		s.Paused = false
	case EvRollbackStart:
		s.RollingBack = true
	case EvRollbackEnd:
		s.RollingBack = false
	}
	base, isRollback := strings.CutSuffix(ev.Step, RollbackSuffix)
	ss := s.StepState(ev.Step)
	if ss == nil && isRollback {
		s.applyRollback(ev, s.StepState(base))
		return
	}
	if ss == nil {
		return
	}
	ms := ev.Time.UnixMilli()
	switch ev.Kind {
	case EvStepStart:
		ss.Status, ss.Attempts, ss.Started, ss.Ended = StepRunning, d.Attempt, ms, 0
		ss.Error, ss.Reason, ss.Result = "", "", nil
		s.Current = ss.Step.ID
	case EvStepEnd:
		var e stepEnd
		_ = ev.Decode(&e)
		ss.Status, ss.Ended, ss.Error, ss.Result = e.Status, ms, e.Error, e.Result
		ss.Unmet = e.Unmet
		if e.Reason != "" {
			ss.Reason = e.Reason
		}
		if s.Current == ss.Step.ID {
			s.Current = ""
		}
	case EvStepSkip:
		ss.Status, ss.Reason, ss.OperatorSkip = StepSkipped, d.Reason, true
	case EvStepMarkDone:
		ss.Status, ss.Reason = StepDone, d.Reason
	case EvInterrupted:
		ss.Status = StepInterrupted
	case EvStepRetry:
		ss.Status = StepPending
	case EvCheck:
		if d.Index >= 0 && d.Index < len(ss.Step.Checklist) && !slices.Contains(ss.Checked, d.Index) {
			ss.Checked = append(ss.Checked, d.Index)
		}
	}
}

// applyRollback folds the events of "<id>.rollback" into the state of id.
func (s *State) applyRollback(ev Event, ss *StepState) {
	if ss == nil {
		return
	}
	switch ev.Kind {
	case EvStepStart:
		s.Current = ev.Step
	case EvStepEnd:
		var e stepEnd
		_ = ev.Decode(&e)
		if e.Status == StepDone {
			ss.Status = StepRolledBack
		}
		if e.Error != "" {
			ss.Error = e.Error
		}
		s.Current = ""
	case EvStepSkip:
		// The operator chose not to undo it: it is not undone again on resume.
		var r struct {
			Reason string `json:"reason"`
		}
		_ = ev.Decode(&r)
		ss.Status, ss.Reason = StepRolledBack, "rollback skipped: "+r.Reason
	}
}
