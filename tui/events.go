package tui

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// applyEvent folds one engine event into the model.
func (m *Model) applyEvent(ev engine.Event) {
	if m.applyStepEvent(ev) {
		m.pickCurrent()
		return
	}
	row := m.byID[ev.Step]
	payload, err := engine.DecodePayload(ev)
	if err != nil && !errors.Is(err, engine.ErrUnknownKind) {
		m.setNotice("⚠ " + engine.UnreadableText(ev, err))
		m.out.Append(engine.UnreadableText(ev, err)+"\n", "", &m.st)
		return
	}
	switch d := payload.(type) {
	case engine.SessionStarted:
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
	case engine.SessionResumed:
		m.resumedAt = ev.Time
	case engine.Output:
		if ev.Step != m.outStep && ev.Step != "" {
			m.out.Reset()
			m.outStep = ev.Step
		}
		m.out.Append(d.Text, d.Stream, &m.st)
	case engine.Progress:
		m.prog.Update(ev.Step, d)
		if row != nil && row.step.Kind == runbook.KindMigrate {
			row.migrate = &migrateFigures{Migrated: d.Migrated, Conflicts: d.Conflicts}
		}
	case engine.Paused:
		// The engine holds at its next safe point: between steps, or at a
		// migrate's next batch. Until then the running step goes on.
		m.paused, m.pausingAfter = true, m.stepToFinish()
		if strings.HasPrefix(m.notice, "pause requested") {
			m.setNotice("") // the header says it now; a rollback notice stays
		}
	case engine.Resumed:
		m.paused, m.pausingAfter = false, ""
		m.flashNotice("resumed")
	case engine.Note:
		m.flashNotice("note recorded")
	case engine.RollbackRequested:
		m.setNotice("rollback requested: it starts at the next safe point")
	case engine.RollbackStarted:
		if ev.Step == "" {
			m.setNotice("rolling back completed steps, newest first")
		}
	case engine.Aborted:
		m.setNotice("aborting: in-flight writes finish, progress is checkpointed")
	case engine.Warning:
		m.setNotice("⚠ " + d.Text())
	case engine.CheckTicked:
		if row == nil {
			row = m.byID[m.current]
		}
		if row != nil {
			row.tick(d.Index)
		}
		m.logRecord(ev.Kind, d)
	case engine.Decided, engine.Approved, engine.Confirmed, engine.Notified:
		m.logRecord(ev.Kind, d)
	case engine.SessionEnded:
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
	case engine.EvStepStart, engine.EvStepEnd, engine.EvStepSkip, engine.EvStepMarkDone, engine.EvInterrupted, engine.EvStepRetry:
	default:
		return false
	}
	payload, err := engine.DecodePayload(ev)
	if err != nil {
		m.setNotice("⚠ " + engine.UnreadableText(ev, err))
		m.out.Append(engine.UnreadableText(ev, err)+"\n", "", &m.st)
		return true
	}
	switch d := payload.(type) {
	case engine.StepStarted:
		if row == nil {
			return true
		}
		row.status, row.started, row.ended, row.err = engine.StepRunning, ev.Time, time.Time{}, ""
		row.attempts = max(d.Attempt, row.attempts+1)
		if m.outStep != ev.Step {
			m.out.Reset()
			m.outStep = ev.Step
		}
		m.current = ev.Step
		m.setNotice("") // a notice is about the step before
	case engine.StepEnded:
		if row == nil {
			return true
		}
		row.status, row.ended, row.err = d.Status, ev.Time, d.Error
		if row.status == "" {
			row.status = engine.StepDone
		}
		row.setResult(d.Result)
		m.stepFinished(ev.Step)
	case engine.StepSkip:
		if row == nil {
			return true
		}
		row.status, row.reason = engine.StepSkipped, d.Reason
		m.stepSkippedOrDone(row, ev)
	case engine.StepMarkDone:
		if row == nil {
			return true
		}
		row.status, row.reason = engine.StepDone, d.Reason
		m.stepSkippedOrDone(row, ev)
	case engine.StepInterruption:
		if row != nil {
			row.status = engine.StepInterrupted
		}
		m.stepFinished(ev.Step)
	case engine.StepRetry:
		if row != nil {
			row.status, row.err = engine.StepPending, ""
		}
	}
	return true
}

// stepSkippedOrDone ends row's step as the operator skipped it or marked it done.
func (m *Model) stepSkippedOrDone(row *stepRow, ev engine.Event) {
	if row.ended.IsZero() {
		row.ended = ev.Time
	}
	m.stepFinished(ev.Step)
}

// logRecord writes a journaled decision into the output pane in words
// (recordWords), then what a notify step sent (or, in dry-run, would
// send).
func (m *Model) logRecord(kind engine.EventKind, p engine.Payload) {
	m.out.Append(recordWords(kind, p)+"\n", "", &m.st)
	if d, ok := p.(engine.Notified); ok && d.Message != "" {
		m.out.Append(d.Message+"\n", "", &m.st)
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
	payload, err := engine.DecodePayload(ev)
	if err != nil {
		m.setNotice("⚠ " + engine.UnreadableText(ev, err))
		return true
	}
	switch d := payload.(type) {
	case engine.StepStarted:
		m.current, m.rollingBack = row.step.ID, row.step.ID
		m.setNotice("rolling back " + row.step.ID)
		if m.outStep != ev.Step {
			m.out.Reset()
			m.outStep = ev.Step
		}
	case engine.StepEnded:
		m.rollingBack = ""
		if d.Status == engine.StepDone {
			row.status = engine.StepRolledBack
		}
		if d.Error != "" {
			row.err = "rollback: " + d.Error
		}
	case engine.StepSkip:
		m.rollingBack = ""
		row.status, row.reason = engine.StepRolledBack, "rollback skipped: "+d.Reason
	}
	return true
}

// noticeFor is how long a passing notice ("resumed", "note recorded") stays.
const noticeFor = 5 * time.Second

// setNotice shows text under the step title until the next step starts.
func (m *Model) setNotice(text string) { m.notice, m.noticeUntil = text, time.Time{} }

// flashNotice shows text for noticeFor (or until the next step starts).
func (m *Model) flashNotice(text string) { m.notice, m.noticeUntil = text, m.now().Add(noticeFor) }

// stepToFinish is the step a pause waits for: the running step, unless it
// is a migrate (it holds at its next batch) or none runs ("").
func (m *Model) stepToFinish() string {
	for _, p := range m.phases {
		for _, r := range p.steps {
			if r.status == engine.StepRunning && r.step.Kind != runbook.KindMigrate {
				return r.step.ID
			}
		}
	}
	return ""
}

// stepFinished notes that step id ended: a pause waiting for it now holds.
func (m *Model) stepFinished(id string) {
	if m.pausingAfter == id {
		m.pausingAfter = ""
	}
}

// held reports whether the session is paused and holding still.
func (m *Model) held() bool { return m.paused && m.pausingAfter == "" }

// tick records checklist item i as journaled.
func (r *stepRow) tick(i int) {
	if r.checked == nil {
		r.checked = map[int]bool{}
	}
	r.checked[i] = true
}

// setResult keeps the figures of a migrate step's step.end result.
func (r *stepRow) setResult(raw json.RawMessage) {
	if r.step.Kind != runbook.KindMigrate || len(raw) == 0 || string(raw) == "null" {
		return
	}
	var f migrateFigures
	if json.Unmarshal(raw, &f) == nil {
		r.migrate = &f
	}
}
