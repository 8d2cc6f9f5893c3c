package timeline

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// Build folds a session's events (in seq order) into a Timeline.
// A step still running when the session ended or was resumed is
// interrupted; one still running at the end of a running session stays
// running.
func Build(info engine.SessionInfo, events []engine.Event) Timeline {
	b := builder{t: Timeline{Info: info, Outcome: info.Outcome}, steps: map[string]int{}, starts: map[string]time.Time{}, endNote: -1}
	for _, ev := range events {
		b.apply(ev)
	}
	b.finish()
	return b.t
}

type builder struct {
	t           Timeline
	steps       map[string]int       // step id → index in t.Steps
	starts      map[string]time.Time // step id → start of the attempt in progress
	phase       string
	pausedAt    time.Time
	last        time.Time
	sessionDone bool
	endNote     int // index in t.Notes of the last session.end's note, -1 if none
}

func (b *builder) step(id string) *Step {
	i, ok := b.steps[id]
	if !ok {
		i = len(b.t.Steps)
		b.steps[id] = i
		b.t.Steps = append(b.t.Steps, Step{ID: id, Status: engine.StepPending, Phase: b.phase})
	}
	return &b.t.Steps[i]
}

func (b *builder) apply(ev engine.Event) {
	if ev.Time.After(b.last) {
		b.last = ev.Time
	}
	p, err := engine.DecodePayload(ev)
	if err != nil && !errors.Is(err, engine.ErrUnknownKind) {
		// Shown as what it is, never as a step with empty fields.
		b.addNote(ev, engine.CleanText(engine.UnreadableText(ev, err)))
		return
	}
	d := dataOf(p) // an unknown kind (a newer lockstep's) is a note with its raw data
	d.clean()
	if b.applySession(ev, d) {
		return
	}
	if ev.Step == "" {
		b.note(ev, d)
		return
	}
	b.applyStep(b.step(ev.Step), ev, d)
}

// applySession handles session- and phase-level kinds; it reports whether
// ev was one.
func (b *builder) applySession(ev engine.Event, d eventData) bool {
	switch ev.Kind {
	case engine.EvSessionStart:
	case engine.EvSessionEnd:
		b.endPause(ev.Time)
		b.interruptRunning()
		b.t.Outcome, b.t.Error, b.sessionDone = d.Outcome, d.Error, true
		// Noted in case a resume follows: the final end is the summary's
		// outcome and error, and finish drops its note.
		b.addNote(ev, strings.TrimSuffix(fmt.Sprintf("%s: %s", first(string(d.Outcome), "ended"), d.Error), ": "))
		b.endNote = len(b.t.Notes) - 1
	case engine.EvSessionResume:
		b.endPause(ev.Time)
		b.interruptRunning()
		b.t.Resumes++
		b.sessionDone, b.endNote = false, -1
		b.addNote(ev, "resumed by "+first(d.Operator, ev.Operator))
	case engine.EvPhaseStart:
		// A phase entered again (a resume after a stop inside it) stays
		// one entry: its first start, its last end and status.
		b.phase = d.Phase
		if b.phaseIndex(d.Phase) < 0 {
			b.t.Phases = append(b.t.Phases, Phase{Name: d.Phase, Started: ev.Time})
		}
	case engine.EvPhaseEnd:
		if i := b.phaseIndex(d.Phase); i >= 0 {
			b.t.Phases[i].Ended, b.t.Phases[i].Status = ev.Time, d.Status
		}
	case engine.EvPause:
		b.t.Pauses++
		if b.pausedAt.IsZero() {
			b.pausedAt = ev.Time
		}
		b.addNote(ev, "")
	case engine.EvResume:
		b.endPause(ev.Time)
		b.addNote(ev, "")
	case engine.EvNote, engine.EvAbort, engine.EvRollbackStart, engine.EvRollbackEnd:
		b.note(ev, d)
	default:
		return false
	}
	return true
}

// phaseIndex is the index of the phase named name in t.Phases, -1 if none.
func (b *builder) phaseIndex(name string) int {
	for i, p := range b.t.Phases {
		if p.Name == name {
			return i
		}
	}
	return -1
}

func (b *builder) endPause(at time.Time) {
	if !b.pausedAt.IsZero() {
		b.t.Paused += at.Sub(b.pausedAt)
		b.pausedAt = time.Time{}
	}
}

func (b *builder) interruptRunning() {
	for i := range b.t.Steps {
		st := &b.t.Steps[i]
		if st.Status == engine.StepRunning {
			st.Status = engine.StepInterrupted
		}
		if a := st.openAttempt(); a != nil {
			a.Status = engine.StepInterrupted
		}
	}
}

// note records ev as a session-level note with the best text its data has.
func (b *builder) note(ev engine.Event, d eventData) {
	text := first(d.Text, d.Reason, d.Message)
	switch {
	case ev.Kind == engine.EvConfirm:
		text = fmt.Sprintf("%s: %v", d.What, d.Value)
	case text == "" && len(ev.Data) > 0 && string(ev.Data) != "{}":
		text = string(ev.Data)
	}
	if d.By != "" { // the engine's own note, not the operator's
		ev.Operator = d.By
	}
	b.addNote(ev, text)
}

func (b *builder) addNote(ev engine.Event, text string) {
	b.t.Notes = append(b.t.Notes, Note{Kind: ev.Kind, Step: ev.Step, Text: text, Operator: ev.Operator, Time: ev.Time})
}

func (b *builder) finish() {
	if b.t.Outcome != engine.OutcomeRunning || !b.t.Info.Ended.IsZero() {
		b.interruptRunning()
	}
	if b.sessionDone && b.endNote >= 0 {
		b.t.Notes = append(b.t.Notes[:b.endNote], b.t.Notes[b.endNote+1:]...)
	}
	end := b.t.Info.Ended
	if end.IsZero() {
		end = b.last
	}
	b.endPause(end)
	if !b.t.Info.Started.IsZero() && end.After(b.t.Info.Started) {
		b.t.Duration = end.Sub(b.t.Info.Started)
	}
}

func first(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// splitOutput splits output text into lines, dropping one trailing newline.
func splitOutput(stream, text string) []string {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if stream == "stderr" {
		for i, l := range lines {
			lines[i] = "stderr: " + l
		}
	}
	return lines
}
