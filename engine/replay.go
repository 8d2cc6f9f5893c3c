package engine

import (
	"fmt"
	"maps"
	"regexp"
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
type stepEnd = StepEnded

// apply folds one event into the state.
// A payload that does not decode folds as its zero value (what decoded
// of it, for a field of the wrong type): replay never stops on one event.
func (s *State) apply(ev Event) {
	switch ev.Kind {
	case EvSessionResume:
		s.Outcome, s.Paused = OutcomeRunning, false
	case EvSessionEnd:
		e, _ := DecodeAs[SessionEnded](ev)
		s.Outcome, s.Current = e.Outcome, ""
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
		e, _ := DecodeAs[StepStarted](ev)
		ss.Status, ss.Attempts, ss.Started, ss.Ended = StepRunning, e.Attempt, ms, 0
		ss.Error, ss.Reason, ss.Result = "", "", nil
		s.Current = ss.Step.ID
	case EvStepEnd:
		e, _ := DecodeAs[StepEnded](ev)
		ss.Status, ss.Ended, ss.Error, ss.Result = e.Status, ms, e.Error, e.Result
		ss.Unmet = e.Unmet
		if e.Reason != "" {
			ss.Reason = e.Reason
		}
		if s.Current == ss.Step.ID {
			s.Current = ""
		}
	case EvStepSkip:
		e, _ := DecodeAs[StepSkip](ev)
		ss.Status, ss.Reason, ss.OperatorSkip = StepSkipped, e.Reason, true
	case EvStepMarkDone:
		e, _ := DecodeAs[StepMarkDone](ev)
		ss.Status, ss.Reason = StepDone, e.Reason
	case EvInterrupted:
		ss.Status = StepInterrupted
	case EvStepRetry:
		ss.Status = StepPending
	case EvCheck:
		d, _ := DecodeAs[CheckTicked](ev)
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
		e, _ := DecodeAs[StepEnded](ev)
		if e.Status == StepDone {
			ss.Status = StepRolledBack
		}
		if e.Error != "" {
			ss.Error = e.Error
		}
		s.Current = ""
	case EvStepSkip:
		// The operator chose not to undo it: it is not undone again on resume.
		r, _ := DecodeAs[StepSkip](ev)
		ss.Status, ss.Reason = StepRolledBack, "rollback skipped: "+r.Reason
	}
}

// resumeVars returns the vars a resumed session runs with: those journaled
// with session.start. The journal holds them redacted, and a redacted value
// is never fed back: each var whose journaled value holds [REDACTED] must
// be given again (Config.Vars, the CLI's --var), with the shape of the
// journaled value (its unredacted parts); any other var given must equal
// the journaled value, since a session runs with the values it started
// with. Errors are ErrConfig and never print a value given: it may be a
// secret.
func resumeVars(events []Event, rb *runbook.Runbook, given map[string]string) (map[string]string, error) {
	names := slices.Sorted(maps.Keys(given))
	if err := rb.CheckVars(names); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	journaled, started := journaledVars(events, rb)
	if !started {
		// No session.start: the session never ran anything.
		return mergeVars(rb.Vars, given), nil
	}
	out := make(map[string]string, len(journaled))
	var missing []string
	for _, k := range slices.Sorted(maps.Keys(journaled)) {
		jv := journaled[k]
		v, ok := given[k]
		switch {
		case !strings.Contains(jv, Redacted):
			if ok && v != jv {
				return nil, fmt.Errorf("%w: --var %s differs from the value the session started with (%q): a session resumes with the values it started with; resume without --var %s",
					ErrConfig, k, jv, k)
			}
			out[k] = jv
		case !ok:
			missing = append(missing, k)
		case !matchesRedacted(jv, v):
			return nil, fmt.Errorf("%w: --var %s does not match the value the session started with (journaled as %q): give the value it was started with",
				ErrConfig, k, jv)
		default:
			out[k] = v
		}
	}
	for _, k := range names {
		if _, ok := journaled[k]; !ok {
			return nil, fmt.Errorf("%w: --var %s: the session started without var %s; resume without it", ErrConfig, k, k)
		}
	}
	if len(missing) > 0 {
		flags := make([]string, len(missing))
		for i, k := range missing {
			flags[i] = "--var " + k + "=VALUE"
		}
		return nil, fmt.Errorf("%w: var %s held a secret when the session started and the journal keeps it redacted: "+
			"give the value the session started with again: %s", ErrConfig, strings.Join(missing, ", "), strings.Join(flags, " "))
	}
	return out, nil
}

// journaledVars reads the vars journaled with session.start; started is
// false without that event. When its vars cannot be read (the redactor
// replaced the whole event), every declared var reads as redacted.
func journaledVars(events []Event, rb *runbook.Runbook) (vars map[string]string, started bool) {
	for _, ev := range events {
		if ev.Kind != EvSessionStart {
			continue
		}
		if d, err := DecodeAs[SessionStarted](ev); err == nil && d.Vars != nil {
			return d.Vars, true
		}
		vars = make(map[string]string, len(rb.Vars))
		for k := range rb.Vars {
			vars[k] = Redacted
		}
		return vars, true
	}
	return nil, false
}

// matchesRedacted reports whether v has the shape of the redacted value
// journaled: the same text around each [REDACTED], which stands for at
// least one character.
func matchesRedacted(journaled, v string) bool {
	parts := strings.Split(journaled, Redacted)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	re, err := regexp.Compile(`(?s)\A` + strings.Join(parts, ".+") + `\z`)
	return err == nil && re.MatchString(v)
}
