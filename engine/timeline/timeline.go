package timeline

import (
	"encoding/json"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// excerptLines is how many trailing output lines a Step keeps.
const excerptLines = 20

// Timeline is a session's history arranged for review: one entry per step
// in the order steps first started (rollback steps, "<id>.rollback", are
// entries of their own), the operator's decisions with their reasons, and
// the session-level notes, pauses and aborts. Build makes one from events;
// it is plain data, safe to render from any front end.
type Timeline struct {
	Info     engine.SessionInfo `json:"session"`
	Outcome  engine.Outcome     `json:"outcome"`         // from session.end, else Info.Outcome
	Error    string             `json:"error,omitempty"` // session.end error
	Duration time.Duration      `json:"-"`               // end (or last event) minus start
	Paused   time.Duration      `json:"-"`               // total time between pause and resume
	Pauses   int                `json:"pauses"`
	Resumes  int                `json:"resumes"` // session.resume events (restarts after a stop)
	Phases   []Phase            `json:"phases"`
	Steps    []Step             `json:"steps"`
	Notes    []Note             `json:"notes"`
}

// Phase is one phase as it ran, over every run of the session
// that entered it: first start, last end and status.
type Phase struct {
	Name    string    `json:"name"`
	Status  string    `json:"status,omitempty"`
	Started time.Time `json:"started,omitzero"`
	Ended   time.Time `json:"ended,omitzero"`
}

// Step is what happened to one step.
type Step struct {
	ID         string            `json:"id"`
	Phase      string            `json:"phase,omitempty"`
	Kind       string            `json:"kind,omitempty"`
	RollbackOf string            `json:"rollback_of,omitempty"` // set on "<id>.rollback" entries
	Status     engine.StepStatus `json:"status"`
	Reason     string            `json:"reason,omitempty"` // skip / mark-done reason
	Error      string            `json:"error,omitempty"`  // last failure
	Attempts   int               `json:"attempts"`
	// History is every attempt in order, failed and interrupted ones
	// included; Status and Error above are those of the last.
	History   []Attempt     `json:"attempt_history"`
	Started   time.Time     `json:"started,omitzero"` // first start
	Ended     time.Time     `json:"ended,omitzero"`   // last end
	Duration  time.Duration `json:"-"`                // summed over attempts
	Decisions []Decision    `json:"decisions"`
	Checks    []Check       `json:"checks"`
	// Output is the last excerptLines lines of step.output
	// ("stderr: " prefixed for stderr); OutputLines counts them all.
	Output      []string          `json:"output_excerpt"`
	OutputLines int               `json:"output_lines"`
	Results     []json.RawMessage `json:"results"`            // step.end result and result events, in order, each once
	Progress    json.RawMessage   `json:"progress,omitempty"` // last journaled progress
	Checkpoints int               `json:"checkpoints"`
	Notes       []Note            `json:"notes"` // warnings, notifications
}

// Attempt is one run of a step: from its step.start to its
// step.end. Status is running while it runs; an attempt a crash or a stop
// cut short without a step.end is interrupted, with no end time. An
// attempt that failed before it could start (a `when:` that does not
// evaluate) has no start time.
type Attempt struct {
	Attempt int               `json:"attempt"`
	Started time.Time         `json:"started,omitzero"`
	Ended   time.Time         `json:"ended,omitzero"`
	Status  engine.StepStatus `json:"status"`
	Error   string            `json:"error,omitempty"`
	Reason  string            `json:"reason,omitempty"` // skip reason
}

// Failed counts the step's attempts that failed.
func (s Step) Failed() int {
	n := 0
	for _, a := range s.History {
		if a.Status == engine.StepFailed {
			n++
		}
	}
	return n
}

// Decision is an operator choice about a step: kind is decision,
// approval, skip, retry, mark_done or confirm.
type Decision struct {
	Kind     string    `json:"kind"`
	Choice   string    `json:"choice,omitempty"` // decision choice, approver, confirmed value
	Reason   string    `json:"reason,omitempty"`
	Role     string    `json:"role,omitempty"` // approval
	Operator string    `json:"operator"`
	Time     time.Time `json:"time"`
}

// Check is one checklist item ticked.
type Check struct {
	Index    int       `json:"index"`
	Item     string    `json:"item"`
	Operator string    `json:"operator"`
	Time     time.Time `json:"time"`
}

// Note is an event worth reading in order: a note, pause, resume,
// abort, session end a resume followed ("<outcome>: <error>"), session
// resume, confirmation, warning, rollback start/end, and
// any kind the timeline does not otherwise model. Step is the step in play.
type Note struct {
	Kind     engine.EventKind `json:"kind"`
	Step     string           `json:"step,omitempty"`
	Text     string           `json:"text,omitempty"`
	Operator string           `json:"operator"`
	Time     time.Time        `json:"time"`
}
