package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// TimelineOutputLines is how many trailing output lines a TimelineStep keeps.
const TimelineOutputLines = 20

// Timeline is a session's history arranged for review: one entry per step
// in the order steps first started (rollback steps, "<id>.rollback", are
// entries of their own), the operator's decisions with their reasons, and
// the session-level notes, pauses and aborts. Build it with BuildTimeline;
// it is plain data, safe to render from any front end.
type Timeline struct {
	Info     SessionInfo     `json:"session"`
	Outcome  Outcome         `json:"outcome"`         // from session.end, else Info.Outcome
	Error    string          `json:"error,omitempty"` // session.end error
	Duration time.Duration   `json:"-"`               // end (or last event) minus start
	Paused   time.Duration   `json:"-"`               // total time between pause and resume
	Pauses   int             `json:"pauses"`
	Resumes  int             `json:"resumes"` // session.resume events (restarts after a stop)
	Phases   []TimelinePhase `json:"phases"`
	Steps    []TimelineStep  `json:"steps"`
	Notes    []TimelineNote  `json:"notes"`
}

// TimelinePhase is one phase as it ran, over every run of the session
// that entered it: first start, last end and status.
type TimelinePhase struct {
	Name    string    `json:"name"`
	Status  string    `json:"status,omitempty"`
	Started time.Time `json:"started,omitzero"`
	Ended   time.Time `json:"ended,omitzero"`
}

// TimelineStep is what happened to one step.
type TimelineStep struct {
	ID         string     `json:"id"`
	Phase      string     `json:"phase,omitempty"`
	Kind       string     `json:"kind,omitempty"`
	RollbackOf string     `json:"rollback_of,omitempty"` // set on "<id>.rollback" entries
	Status     StepStatus `json:"status"`
	Reason     string     `json:"reason,omitempty"` // skip / mark-done reason
	Error      string     `json:"error,omitempty"`  // last failure
	Attempts   int        `json:"attempts"`
	// History is every attempt in order, failed and interrupted ones
	// included; Status and Error above are those of the last.
	History   []TimelineAttempt  `json:"attempt_history"`
	Started   time.Time          `json:"started,omitzero"` // first start
	Ended     time.Time          `json:"ended,omitzero"`   // last end
	Duration  time.Duration      `json:"-"`                // summed over attempts
	Decisions []TimelineDecision `json:"decisions"`
	Checks    []TimelineCheck    `json:"checks"`
	// Output is the last TimelineOutputLines lines of step.output
	// ("stderr: " prefixed for stderr); OutputLines counts them all.
	Output      []string          `json:"output_excerpt"`
	OutputLines int               `json:"output_lines"`
	Results     []json.RawMessage `json:"results"`            // step.end result and result events, in order, each once
	Progress    json.RawMessage   `json:"progress,omitempty"` // last journaled progress
	Checkpoints int               `json:"checkpoints"`
	Notes       []TimelineNote    `json:"notes"` // warnings, notifications
}

// TimelineAttempt is one run of a step: from its step.start to its
// step.end. Status is running while it runs; an attempt a crash or a stop
// cut short without a step.end is interrupted, with no end time. An
// attempt that failed before it could start (a `when:` that does not
// evaluate) has no start time.
type TimelineAttempt struct {
	Attempt int        `json:"attempt"`
	Started time.Time  `json:"started,omitzero"`
	Ended   time.Time  `json:"ended,omitzero"`
	Status  StepStatus `json:"status"`
	Error   string     `json:"error,omitempty"`
	Reason  string     `json:"reason,omitempty"` // skip reason
}

// Failed counts the step's attempts that failed.
func (s TimelineStep) Failed() int {
	n := 0
	for _, a := range s.History {
		if a.Status == StepFailed {
			n++
		}
	}
	return n
}

// TimelineDecision is an operator choice about a step: kind is decision,
// approval, skip, retry, mark_done or confirm.
type TimelineDecision struct {
	Kind     string    `json:"kind"`
	Choice   string    `json:"choice,omitempty"` // decision choice, approver, confirmed value
	Reason   string    `json:"reason,omitempty"`
	Role     string    `json:"role,omitempty"` // approval
	Operator string    `json:"operator"`
	Time     time.Time `json:"time"`
}

// TimelineCheck is one checklist item ticked.
type TimelineCheck struct {
	Index    int       `json:"index"`
	Item     string    `json:"item"`
	Operator string    `json:"operator"`
	Time     time.Time `json:"time"`
}

// TimelineNote is an event worth reading in order: a note, pause, resume,
// abort, session end a resume followed ("<outcome>: <error>"), session
// resume, confirmation, warning, rollback start/end, and
// any kind the timeline does not otherwise model. Step is the step in play.
type TimelineNote struct {
	Kind     EventKind `json:"kind"`
	Step     string    `json:"step,omitempty"`
	Text     string    `json:"text,omitempty"`
	Operator string    `json:"operator"`
	Time     time.Time `json:"time"`
}

// timelineData is what the timeline reads of an event's payload, taken
// from the typed payload by timelineDataOf: the fields several kinds
// share (a reason, a text) are read in one place.
type timelineData struct {
	Kind       string
	Attempt    int
	Phase      string
	RollbackOf string
	Status     string
	Error      string
	Reason     string
	DurationMS *int64
	Result     json.RawMessage
	Outcome    Outcome
	Choice     string
	Approver   string
	Role       string
	Stream     string
	Text       string
	Index      int
	Item       string
	What       string
	Value      any
	Message    string
	Key        string
	By         string
	Channel    string
	Operator   string
}

// timelineDataOf takes from p what the timeline reads of it.
func timelineDataOf(p Payload) timelineData {
	switch d := p.(type) {
	case SessionEnded:
		return timelineData{Outcome: d.Outcome, Error: d.Error}
	case SessionResumed:
		return timelineData{Operator: d.Operator}
	case PhaseStarted:
		return timelineData{Phase: d.Phase}
	case PhaseEnded:
		return timelineData{Phase: d.Phase, Status: d.Status}
	case StepStarted:
		return timelineData{Kind: d.StepKind, Attempt: d.Attempt, Phase: d.Phase, RollbackOf: d.RollbackOf}
	case StepEnded:
		return timelineData{Status: string(d.Status), Error: d.Error, Reason: d.Reason, DurationMS: d.DurationMS, Result: d.Result}
	case StepSkip:
		return timelineData{Reason: d.Reason}
	case StepRetry:
		return timelineData{Reason: d.Reason}
	case StepMarkDone:
		return timelineData{Reason: d.Reason}
	case Output:
		return timelineData{Stream: d.Stream, Text: d.Text}
	case CheckTicked:
		return timelineData{Index: d.Index, Item: d.Item}
	case Decided:
		return timelineData{Choice: d.Choice, Reason: d.Reason}
	case Approved:
		return timelineData{Approver: d.Approver, Reason: d.Reason, Role: d.Role}
	case Confirmed:
		return timelineData{What: d.What, Value: d.Value}
	case Notified:
		return timelineData{Channel: d.Channel, Message: d.Message}
	case Note:
		return timelineData{Text: d.Text, By: d.By}
	case Warning:
		return timelineData{Message: d.Message, Key: d.Key, Error: d.Error}
	}
	return timelineReason(p)
}

// timelineReason takes the reason of the kinds that only have one.
func timelineReason(p Payload) timelineData {
	switch d := p.(type) {
	case Aborted:
		return timelineData{Reason: d.Reason}
	case RollbackStarted:
		return timelineData{Reason: d.Reason}
	case RollbackRequested:
		return timelineData{Reason: d.Reason}
	case QuitRequested:
		return timelineData{Reason: d.Reason}
	}
	return timelineData{}
}

// clean makes the payload's text safe to show on a terminal (see
// CleanText): command output and errors are journaled as they came.
func (d *timelineData) clean() {
	for _, f := range []*string{&d.Error, &d.Reason, &d.Text, &d.Item, &d.Message, &d.Choice, &d.Approver, &d.Key} {
		*f = CleanText(*f)
	}
}

// BuildTimeline folds a session's events (in seq order) into a Timeline.
// A step still running when the session ended or was resumed is
// interrupted; one still running at the end of a running session stays
// running.
func BuildTimeline(info SessionInfo, events []Event) Timeline {
	b := timelineBuilder{t: Timeline{Info: info, Outcome: info.Outcome}, steps: map[string]int{}, starts: map[string]time.Time{}, endNote: -1}
	for _, ev := range events {
		b.apply(ev)
	}
	b.finish()
	return b.t
}

type timelineBuilder struct {
	t           Timeline
	steps       map[string]int       // step id → index in t.Steps
	starts      map[string]time.Time // step id → start of the attempt in progress
	phase       string
	pausedAt    time.Time
	last        time.Time
	sessionDone bool
	endNote     int // index in t.Notes of the last session.end's note, -1 if none
}

func (b *timelineBuilder) step(id string) *TimelineStep {
	i, ok := b.steps[id]
	if !ok {
		i = len(b.t.Steps)
		b.steps[id] = i
		b.t.Steps = append(b.t.Steps, TimelineStep{ID: id, Status: StepPending, Phase: b.phase})
	}
	return &b.t.Steps[i]
}

func (b *timelineBuilder) apply(ev Event) {
	if ev.Time.After(b.last) {
		b.last = ev.Time
	}
	p, err := DecodePayload(ev)
	if err != nil && !errors.Is(err, ErrUnknownKind) {
		// Shown as what it is, never as a step with empty fields.
		b.addNote(ev, CleanText(UnreadableText(ev, err)))
		return
	}
	d := timelineDataOf(p) // an unknown kind (a newer lockstep's) is a note with its raw data
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
func (b *timelineBuilder) applySession(ev Event, d timelineData) bool {
	switch ev.Kind {
	case EvSessionStart:
	case EvSessionEnd:
		b.endPause(ev.Time)
		b.interruptRunning()
		b.t.Outcome, b.t.Error, b.sessionDone = d.Outcome, d.Error, true
		// Noted in case a resume follows: the final end is the summary's
		// outcome and error, and finish drops its note.
		b.addNote(ev, strings.TrimSuffix(fmt.Sprintf("%s: %s", timelineFirst(string(d.Outcome), "ended"), d.Error), ": "))
		b.endNote = len(b.t.Notes) - 1
	case EvSessionResume:
		b.endPause(ev.Time)
		b.interruptRunning()
		b.t.Resumes++
		b.sessionDone, b.endNote = false, -1
		b.addNote(ev, "resumed by "+timelineFirst(d.Operator, ev.Operator))
	case EvPhaseStart:
		// A phase entered again (a resume after a stop inside it) stays
		// one entry: its first start, its last end and status.
		b.phase = d.Phase
		if b.phaseIndex(d.Phase) < 0 {
			b.t.Phases = append(b.t.Phases, TimelinePhase{Name: d.Phase, Started: ev.Time})
		}
	case EvPhaseEnd:
		if i := b.phaseIndex(d.Phase); i >= 0 {
			b.t.Phases[i].Ended, b.t.Phases[i].Status = ev.Time, d.Status
		}
	case EvPause:
		b.t.Pauses++
		if b.pausedAt.IsZero() {
			b.pausedAt = ev.Time
		}
		b.addNote(ev, "")
	case EvResume:
		b.endPause(ev.Time)
		b.addNote(ev, "")
	case EvNote, EvAbort, EvRollbackStart, EvRollbackEnd:
		b.note(ev, d)
	default:
		return false
	}
	return true
}

// phaseIndex is the index of the phase named name in t.Phases, -1 if none.
func (b *timelineBuilder) phaseIndex(name string) int {
	for i, p := range b.t.Phases {
		if p.Name == name {
			return i
		}
	}
	return -1
}

func (b *timelineBuilder) endPause(at time.Time) {
	if !b.pausedAt.IsZero() {
		b.t.Paused += at.Sub(b.pausedAt)
		b.pausedAt = time.Time{}
	}
}

func (b *timelineBuilder) interruptRunning() {
	for i := range b.t.Steps {
		st := &b.t.Steps[i]
		if st.Status == StepRunning {
			st.Status = StepInterrupted
		}
		if a := st.openAttempt(); a != nil {
			a.Status = StepInterrupted
		}
	}
}

// note records ev as a session-level note with the best text its data has.
func (b *timelineBuilder) note(ev Event, d timelineData) {
	text := timelineFirst(d.Text, d.Reason, d.Message)
	switch {
	case ev.Kind == EvConfirm:
		text = fmt.Sprintf("%s: %v", d.What, d.Value)
	case text == "" && len(ev.Data) > 0 && string(ev.Data) != "{}":
		text = string(ev.Data)
	}
	if d.By != "" { // the engine's own note, not the operator's
		ev.Operator = d.By
	}
	b.addNote(ev, text)
}

func (b *timelineBuilder) addNote(ev Event, text string) {
	b.t.Notes = append(b.t.Notes, TimelineNote{Kind: ev.Kind, Step: ev.Step, Text: text, Operator: ev.Operator, Time: ev.Time})
}

func (b *timelineBuilder) finish() {
	if b.t.Outcome != OutcomeRunning || !b.t.Info.Ended.IsZero() {
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

func timelineFirst(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// timelineOutput splits output text into lines, dropping one trailing newline.
func timelineOutput(stream, text string) []string {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if stream == "stderr" {
		for i, l := range lines {
			lines[i] = "stderr: " + l
		}
	}
	return lines
}
