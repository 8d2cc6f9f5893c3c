package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// applyEvent folds one engine event into the model.
func (m *Model) applyEvent(ev engine.Event) {
	if m.applyStepEvent(ev) {
		m.pickCurrent()
		return
	}
	row := m.byID[ev.Step]
	switch ev.Kind {
	case engine.EvSessionStart:
		var d struct {
			Env, Operator string
			Mode          engine.Mode
		}
		_ = ev.Decode(&d)
		if m.info.Env == "" {
			m.info.Env = d.Env
		}
		if m.info.Mode == "" {
			m.info.Mode = d.Mode
		}
		if m.info.Operator == "" {
			m.info.Operator = d.Operator
		}
		if m.started.IsZero() {
			m.started = ev.Time
		}
		if m.info.ID == "" {
			m.info.ID = ev.SessionID
		}
	case engine.EvOutput:
		var d struct{ Stream, Text string }
		_ = ev.Decode(&d)
		if ev.Step != m.outStep && ev.Step != "" {
			m.out.Reset()
			m.outStep = ev.Step
		}
		m.out.Append(d.Text, d.Stream, &m.st)
	case engine.EvProgress:
		var d progressData
		_ = ev.Decode(&d)
		m.prog.Update(ev.Step, d)
	case engine.EvPause:
		m.paused, m.pauseSent, m.notice = true, false, "paused"
	case engine.EvResume:
		m.paused, m.pauseSent, m.notice = false, false, "resumed"
	case engine.EvNote:
		m.notice = "note recorded"
	case engine.EvRollbackRequest:
		m.notice = "rollback requested: it starts at the next safe point"
	case engine.EvRollbackStart:
		if ev.Step == "" {
			m.notice = "rolling back completed steps, newest first"
		}
	case engine.EvAbort:
		m.notice = "aborting: in-flight writes finish, progress is checkpointed"
	case engine.EvWarning:
		var d struct{ Message string }
		_ = ev.Decode(&d)
		m.notice = "⚠ " + d.Message
	case engine.EvCheck:
		var d struct{ Index int }
		_ = ev.Decode(&d)
		if row == nil {
			row = m.byID[m.current]
		}
		if row != nil {
			if row.checked == nil {
				row.checked = map[int]bool{}
			}
			row.checked[d.Index] = true
		}
		m.logRecord(ev)
	case engine.EvDecision, engine.EvApproval, engine.EvConfirm, engine.EvNotify:
		m.logRecord(ev)
	case engine.EvSessionEnd:
		var d struct {
			Outcome engine.Outcome
			Error   string
		}
		_ = ev.Decode(&d)
		var err error
		if d.Error != "" {
			err = fmt.Errorf("%s", d.Error)
		}
		m.endedAt = ev.Time
		m.endSession(d.Outcome, err)
	}
	if ev.Kind != engine.EvOutput && ev.Kind != engine.EvProgress {
		m.pickCurrent()
	}
}

// applyStepEvent folds a step's lifecycle event into its row; it reports
// whether ev was one.
func (m *Model) applyStepEvent(ev engine.Event) bool {
	row := m.byID[ev.Step]
	if base, ok := strings.CutSuffix(ev.Step, engine.RollbackSuffix); ok && row == nil {
		return m.applyRollbackEvent(ev, m.byID[base])
	}
	switch ev.Kind {
	case engine.EvStepStart:
		if row == nil {
			return true
		}
		var d struct{ Attempt int }
		_ = ev.Decode(&d)
		row.status, row.started, row.ended, row.err = engine.StepRunning, ev.Time, time.Time{}, ""
		row.attempts = max(d.Attempt, row.attempts+1)
		if m.outStep != ev.Step {
			m.out.Reset()
			m.outStep = ev.Step
		}
		m.current = ev.Step
	case engine.EvStepEnd:
		if row == nil {
			return true
		}
		var d struct {
			Status string
			Error  string
		}
		_ = ev.Decode(&d)
		row.status, row.ended, row.err = engine.StepStatus(d.Status), ev.Time, d.Error
		if row.status == "" {
			row.status = engine.StepDone
		}
		if ev.Step == m.outStep {
			m.out.Flush()
		}
	case engine.EvStepSkip, engine.EvStepMarkDone:
		if row == nil {
			return true
		}
		var d struct{ Reason string }
		_ = ev.Decode(&d)
		row.status, row.reason = engine.StepSkipped, d.Reason
		if ev.Kind == engine.EvStepMarkDone {
			row.status = engine.StepDone
		}
		if row.ended.IsZero() {
			row.ended = ev.Time
		}
	case engine.EvInterrupted:
		if row != nil {
			row.status = engine.StepInterrupted
		}
	case engine.EvStepRetry:
		if row != nil {
			row.status, row.err = engine.StepPending, ""
		}
	default:
		return false
	}
	return true
}

// logRecord writes a journaled decision into the output pane.
func (m *Model) logRecord(ev engine.Event) {
	var d map[string]any
	_ = ev.Decode(&d)
	var parts []string
	for _, k := range []string{"choice", "approver", "role", "what", "value", "item", "channel", "reason"} {
		if v, ok := d[k]; ok && fmt.Sprint(v) != "" {
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	if to, ok := d["to"].([]any); ok && len(to) > 0 {
		parts = append(parts, fmt.Sprintf("to=%v", to))
	}
	m.out.Append(fmt.Sprintf("» %s %s\n", ev.Kind, strings.Join(parts, " ")), "", &m.st)
	if msg, ok := d["message"].(string); ok && msg != "" {
		// What a notify step sent (or, in dry-run, would send).
		m.out.Append(msg+"\n", "", &m.st)
	}
}

// pickCurrent chooses the step the right pane shows: the prompt's, else a
// running one, else the one shown last, else the first pending one.
func (m *Model) pickCurrent() {
	if m.prompt != nil && m.byID[m.prompt.prompt.Step] != nil {
		m.current = m.prompt.prompt.Step
		return
	}
	firstPending := ""
	for _, p := range m.phases {
		for _, r := range p.steps {
			if r.status == engine.StepRunning {
				m.current = r.step.ID
				return
			}
			if r.status == engine.StepPending && firstPending == "" {
				firstPending = r.step.ID
			}
		}
	}
	if r := m.byID[m.current]; r != nil && r.status != engine.StepPending {
		return
	}
	m.current = firstPending
}

// applyRollbackEvent folds the events of "<id>.rollback" into the row of id,
// as engine.Replay does.
func (m *Model) applyRollbackEvent(ev engine.Event, row *stepRow) bool {
	switch ev.Kind {
	case engine.EvStepStart, engine.EvStepEnd, engine.EvStepSkip:
	default:
		return false
	}
	if row == nil {
		return true
	}
	var d struct{ Status, Error, Reason string }
	_ = ev.Decode(&d)
	switch ev.Kind {
	case engine.EvStepStart:
		m.current, m.notice = row.step.ID, "rolling back "+row.step.ID
		if m.outStep != ev.Step {
			m.out.Reset()
			m.outStep = ev.Step
		}
	case engine.EvStepEnd:
		if engine.StepStatus(d.Status) == engine.StepDone {
			row.status = engine.StepRolledBack
		}
		if d.Error != "" {
			row.err = "rollback: " + d.Error
		}
	case engine.EvStepSkip:
		row.status, row.reason = engine.StepRolledBack, "rollback skipped: "+d.Reason
	}
	return true
}
