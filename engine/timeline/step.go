package timeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// applyStep folds a step-scoped event into st.
func (b *builder) applyStep(st *Step, ev engine.Event, d eventData) {
	decide := func(kind, choice, reason, role string) {
		st.Decisions = append(st.Decisions, Decision{Kind: kind, Choice: choice, Reason: reason,
			Role: role, Operator: ev.Operator, Time: ev.Time})
	}
	switch ev.Kind {
	case engine.EvStepStart:
		b.startStep(st, ev, d)
	case engine.EvStepEnd:
		b.endStep(st, ev, d)
	case engine.EvStepSkip:
		st.Status, st.Reason = engine.StepSkipped, d.Reason
		decide("skip", "", d.Reason, "")
	case engine.EvStepRetry:
		st.Status = engine.StepPending
		decide("retry", "", d.Reason, "")
	case engine.EvStepMarkDone:
		st.Status, st.Reason = engine.StepDone, d.Reason
		decide("mark_done", "", d.Reason, "")
	case engine.EvInterrupted:
		st.Status = engine.StepInterrupted
		if a := st.openAttempt(); a != nil {
			a.Status = engine.StepInterrupted
		}
	case engine.EvDecision:
		decide("decision", d.Choice, d.Reason, "")
	case engine.EvApproval:
		decide("approval", d.Approver, d.Reason, d.Role)
	case engine.EvConfirm:
		decide("confirm", fmt.Sprint(d.Value), d.What, "")
	case engine.EvCheck:
		st.Checks = append(st.Checks, Check{Index: d.Index, Item: d.Item, Operator: ev.Operator, Time: ev.Time})
	case engine.EvOutput:
		lines := splitOutput(d.Stream, d.Text)
		st.OutputLines += len(lines)
		st.Output = append(st.Output, lines...)
		if n := len(st.Output); n > excerptLines {
			st.Output = append([]string(nil), st.Output[n-excerptLines:]...)
		}
	case engine.EvResult:
		st.addResult(ev.Data)
	case engine.EvProgress:
		st.Progress = ev.Data
	case engine.EvCheckpoint:
		st.Checkpoints++
	case engine.EvNotify:
		st.Notes = append(st.Notes, Note{Kind: ev.Kind, Step: ev.Step, Operator: ev.Operator, Time: ev.Time,
			Text: strings.TrimSpace(fmt.Sprintf("%s %s", d.Channel, d.Message))})
	case engine.EvWarning:
		// Rendered from the cleaned fields, as engine.Warning renders itself.
		w := engine.Warning{Message: d.Message, Key: d.Key, Error: d.Error}
		st.Notes = append(st.Notes, Note{Kind: ev.Kind, Step: ev.Step, Text: w.Text(), Operator: ev.Operator, Time: ev.Time})
	default:
		b.note(ev, d)
	}
}

func (b *builder) startStep(st *Step, ev engine.Event, d eventData) {
	st.Status = engine.StepRunning
	st.Attempts = max(st.Attempts+1, d.Attempt)
	st.Kind = first(d.Kind, st.Kind)
	st.Phase = first(d.Phase, st.Phase, b.phase)
	st.RollbackOf = first(d.RollbackOf, st.RollbackOf)
	st.Error = ""
	if st.Started.IsZero() {
		st.Started = ev.Time
	}
	b.starts[st.ID] = ev.Time
	if a := st.openAttempt(); a != nil {
		a.Status = engine.StepInterrupted // started again without an end
	}
	st.History = append(st.History, Attempt{Attempt: max(st.Attempts, st.nextAttempt()), Started: ev.Time, Status: engine.StepRunning})
}

// openAttempt is the step's last attempt if it is still running, else nil.
func (st *Step) openAttempt() *Attempt {
	if n := len(st.History); n > 0 && st.History[n-1].Status == engine.StepRunning {
		return &st.History[n-1]
	}
	return nil
}

// nextAttempt is the number after the last attempt's, 1 for the first.
func (st *Step) nextAttempt() int {
	if n := len(st.History); n > 0 {
		return st.History[n-1].Attempt + 1
	}
	return 1
}

// endAttempt closes the attempt in progress with step.end's status, error
// and reason. A step.end without a start is an attempt of its own unless
// it is a skip (the runbook skipping a step runs nothing).
func (st *Step) endAttempt(ev engine.Event, d eventData) {
	a := st.openAttempt()
	if a == nil {
		if st.Status == engine.StepSkipped {
			return
		}
		st.History = append(st.History, Attempt{Attempt: st.nextAttempt()})
		a = &st.History[len(st.History)-1]
	}
	a.Ended, a.Status, a.Error, a.Reason = ev.Time, st.Status, d.Error, d.Reason
}

func (b *builder) endStep(st *Step, ev engine.Event, d eventData) {
	st.Status = engine.StepStatus(first(d.Status, string(engine.StepDone)))
	st.Ended = ev.Time
	if d.Error != "" {
		st.Error = d.Error
	}
	if d.Reason != "" {
		st.Reason = d.Reason
	}
	st.endAttempt(ev, d)
	if len(d.Result) > 0 && string(d.Result) != "null" {
		st.addResult(d.Result)
	}
	started, ok := b.starts[st.ID]
	delete(b.starts, st.ID)
	switch {
	case d.DurationMS != nil:
		st.Duration += time.Duration(*d.DurationMS) * time.Millisecond
	case ok:
		st.Duration += ev.Time.Sub(started)
	}
	if st.RollbackOf != "" && st.Status == engine.StepDone {
		b.step(st.RollbackOf).Status = engine.StepRolledBack
	}
}

// addResult appends r to the step's results unless an equal one is there
// already: an executor often journals its measurements as a result event
// and returns the same data as the step.end result.
func (st *Step) addResult(r json.RawMessage) {
	key := canonicalJSON(r)
	for _, have := range st.Results {
		if canonicalJSON(have) == key {
			return
		}
	}
	st.Results = append(st.Results, r)
}

// canonicalJSON re-encodes raw with sorted keys and no spacing, so equal
// values compare equal; invalid JSON is returned as is.
func canonicalJSON(raw json.RawMessage) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return string(raw)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return string(raw)
	}
	return string(b)
}
