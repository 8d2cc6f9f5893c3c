package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// applyStep folds a step-scoped event into st.
func (b *timelineBuilder) applyStep(st *TimelineStep, ev Event, d timelineData) {
	decide := func(kind, choice, reason, role string) {
		st.Decisions = append(st.Decisions, TimelineDecision{Kind: kind, Choice: choice, Reason: reason,
			Role: role, Operator: ev.Operator, Time: ev.Time})
	}
	switch ev.Kind {
	case EvStepStart:
		b.startStep(st, ev, d)
	case EvStepEnd:
		b.endStep(st, ev, d)
	case EvStepSkip:
		st.Status, st.Reason = StepSkipped, d.Reason
		decide("skip", "", d.Reason, "")
	case EvStepRetry:
		st.Status = StepPending
		decide("retry", "", d.Reason, "")
	case EvStepMarkDone:
		st.Status, st.Reason = StepDone, d.Reason
		decide("mark_done", "", d.Reason, "")
	case EvInterrupted:
		st.Status = StepInterrupted
		if a := st.openAttempt(); a != nil {
			a.Status = StepInterrupted
		}
	case EvDecision:
		decide("decision", d.Choice, d.Reason, "")
	case EvApproval:
		decide("approval", d.Approver, d.Reason, d.Role)
	case EvConfirm:
		decide("confirm", fmt.Sprint(d.Value), d.What, "")
	case EvCheck:
		st.Checks = append(st.Checks, TimelineCheck{Index: d.Index, Item: d.Item, Operator: ev.Operator, Time: ev.Time})
	case EvOutput:
		lines := timelineOutput(d.Stream, d.Text)
		st.OutputLines += len(lines)
		st.Output = append(st.Output, lines...)
		if n := len(st.Output); n > TimelineOutputLines {
			st.Output = append([]string(nil), st.Output[n-TimelineOutputLines:]...)
		}
	case EvResult:
		st.addResult(ev.Data)
	case EvProgress:
		st.Progress = ev.Data
	case EvCheckpoint:
		st.Checkpoints++
	case EvNotify:
		st.Notes = append(st.Notes, TimelineNote{Kind: ev.Kind, Step: ev.Step, Operator: ev.Operator, Time: ev.Time,
			Text: strings.TrimSpace(fmt.Sprintf("%s %s", d.Channel, d.Message))})
	case EvWarning:
		st.Notes = append(st.Notes, TimelineNote{Kind: ev.Kind, Step: ev.Step, Text: warningText(d.Message, d.Key, d.Error), Operator: ev.Operator, Time: ev.Time})
	default:
		b.note(ev, d)
	}
}

func (b *timelineBuilder) startStep(st *TimelineStep, ev Event, d timelineData) {
	st.Status = StepRunning
	st.Attempts = max(st.Attempts+1, d.Attempt)
	st.Kind = timelineFirst(d.Kind, st.Kind)
	st.Phase = timelineFirst(d.Phase, st.Phase, b.phase)
	st.RollbackOf = timelineFirst(d.RollbackOf, st.RollbackOf)
	st.Error = ""
	if st.Started.IsZero() {
		st.Started = ev.Time
	}
	b.starts[st.ID] = ev.Time
	if a := st.openAttempt(); a != nil {
		a.Status = StepInterrupted // started again without an end
	}
	st.History = append(st.History, TimelineAttempt{Attempt: max(st.Attempts, st.nextAttempt()), Started: ev.Time, Status: StepRunning})
}

// openAttempt is the step's last attempt if it is still running, else nil.
func (st *TimelineStep) openAttempt() *TimelineAttempt {
	if n := len(st.History); n > 0 && st.History[n-1].Status == StepRunning {
		return &st.History[n-1]
	}
	return nil
}

// nextAttempt is the number after the last attempt's, 1 for the first.
func (st *TimelineStep) nextAttempt() int {
	if n := len(st.History); n > 0 {
		return st.History[n-1].Attempt + 1
	}
	return 1
}

// endAttempt closes the attempt in progress with step.end's status, error
// and reason. A step.end without a start is an attempt of its own unless
// it is a skip (the runbook skipping a step runs nothing).
func (st *TimelineStep) endAttempt(ev Event, d timelineData) {
	a := st.openAttempt()
	if a == nil {
		if st.Status == StepSkipped {
			return
		}
		st.History = append(st.History, TimelineAttempt{Attempt: st.nextAttempt()})
		a = &st.History[len(st.History)-1]
	}
	a.Ended, a.Status, a.Error, a.Reason = ev.Time, st.Status, d.Error, d.Reason
}

func (b *timelineBuilder) endStep(st *TimelineStep, ev Event, d timelineData) {
	st.Status = StepStatus(timelineFirst(d.Status, string(StepDone)))
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
	if st.RollbackOf != "" && st.Status == StepDone {
		b.step(st.RollbackOf).Status = StepRolledBack
	}
}

// addResult appends r to the step's results unless an equal one is there
// already: an executor often journals its measurements as a result event
// and returns the same data as the step.end result.
func (st *TimelineStep) addResult(r json.RawMessage) {
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
