package engine

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/lockstep-run/lockstep/runbook"
)

// Payload is the data of one event kind: each kind has exactly one Go
// type, so a renamed field fails to compile instead of reaching a front
// end as a zero value. The JSON field names are the journal's wire form
// and never change: journals written by earlier versions decode into the
// same types. Fields are declared in the order the journal has always
// stored them (alphabetical where the payload used to be a map), so new
// events are byte for byte what they were.
type Payload interface {
	Kind() EventKind
}

// SessionStarted is the data of session.start.
type SessionStarted struct {
	Env string `json:"env"`
	// LintIgnored lists the lint warnings the runbook suppresses, with
	// their reasons: decisions a reviewer of the session must be able
	// to judge.
	LintIgnored []runbook.Suppressed `json:"lint_ignored,omitempty"`
	Mode        Mode                 `json:"mode"`
	Operator    string               `json:"operator"`
	Path        string               `json:"path"`
	Runbook     string               `json:"runbook"`
	SHA256      string               `json:"sha256"`
	Vars        map[string]string    `json:"vars"`
	Version     int                  `json:"version"`
}

// SessionEnded is the data of session.end.
type SessionEnded struct {
	Error   string  `json:"error,omitempty"`
	Outcome Outcome `json:"outcome"`
}

// SessionResumed is the data of session.resume.
type SessionResumed struct {
	Operator string `json:"operator"`
}

// PhaseStarted is the data of phase.start.
type PhaseStarted struct {
	Phase string `json:"phase"`
}

// PhaseEnded is the data of phase.end.
type PhaseEnded struct {
	Phase  string `json:"phase"`
	Status string `json:"status"`
}

// StepStarted is the data of step.start. Phase is "rollback" for a
// rollback step, whose RollbackOf names the step it undoes.
type StepStarted struct {
	Attempt    int    `json:"attempt"`
	StepKind   string `json:"kind"`
	Phase      string `json:"phase"`
	Resumed    bool   `json:"resumed,omitempty"`
	RollbackOf string `json:"rollback_of,omitempty"`
}

// StepEnded is the data of step.end: status done, failed, skipped or
// interrupted, and the executor's result.
type StepEnded struct {
	Status StepStatus `json:"status"`
	Error  string     `json:"error,omitempty"`
	Reason string     `json:"reason,omitempty"`
	// Unmet marks a step the runbook skipped because a requirement was
	// not met: it did not complete, so it does not satisfy `requires:`.
	Unmet bool `json:"unmet,omitempty"`
	// DurationMS is always journaled (0 for a step that did not run); nil
	// only in an old journal's step.end without it.
	DurationMS *int64          `json:"duration_ms"`
	Result     json.RawMessage `json:"result,omitempty"`
}

// StepSkip is the data of step.skip: the operator chose to skip.
type StepSkip struct {
	Reason string `json:"reason"`
}

// StepRetry is the data of step.retry.
type StepRetry struct {
	Reason string `json:"reason"`
}

// StepMarkDone is the data of step.mark_done: an interrupted step the
// operator marked done.
type StepMarkDone struct {
	Reason string `json:"reason"`
}

// StepInterruption is the data of step.interrupted: a step found started
// and never ended on resume.
type StepInterruption struct {
	StepKind string `json:"kind"`
}

// Output is the data of step.output (redacted): Stream is stdout or stderr.
type Output struct {
	Stream string `json:"stream"`
	Text   string `json:"text"`
}

// CheckTicked is the data of check.tick: item Index of the checklist.
type CheckTicked struct {
	Index int    `json:"index"`
	Item  string `json:"item"`
}

// Decided is the data of decision. A lock step taking over an expired
// lease names the previous holder and session.
type Decided struct {
	Choice          string `json:"choice"`
	PreviousHolder  string `json:"previous_holder,omitempty"`
	PreviousSession string `json:"previous_session,omitempty"`
	Reason          string `json:"reason"`
}

// Approved is the data of approval.
type Approved struct {
	Approver string `json:"approver"`
	Reason   string `json:"reason"`
	Role     string `json:"role"`
}

// Confirmed is the data of confirm. What is env, destructive,
// outside_window, extend_window or rehearsal_drift; Value is what was
// confirmed: a name, a reason, or true/false for destructive.
type Confirmed struct {
	RehearsalSHA256 string    `json:"rehearsal_sha256,omitempty"`
	Value           any       `json:"value"`
	What            string    `json:"what"`
	WindowClosedAt  time.Time `json:"window_closed_at,omitzero"`
}

// Notified is the data of notify, journaled before the message goes out:
// Sent is false in a dry run.
type Notified struct {
	Channel string   `json:"channel"`
	Message string   `json:"message"`
	Sent    bool     `json:"sent"`
	To      []string `json:"to"`
}

// Note is the data of note: By is NoteByLockstep for the engine's own
// notes, empty for the operator's.
type Note struct {
	By   string `json:"by,omitempty"`
	Text string `json:"text"`
}

// Paused is the data of pause.
type Paused struct{}

// Resumed is the data of resume.
type Resumed struct{}

// Aborted is the data of abort.
type Aborted struct {
	Reason string `json:"reason"`
}

// RollbackStarted is the data of rollback.start.
type RollbackStarted struct {
	Reason string `json:"reason"`
}

// RollbackEnded is the data of rollback.end.
type RollbackEnded struct{}

// RollbackRequested is the data of rollback.request: the operator asked
// for a rollback.
type RollbackRequested struct {
	Reason string `json:"reason"`
}

// RateChanged is the data of rate: the operator changed the max write
// rate (items/s).
type RateChanged struct {
	Rate int `json:"rate"`
}

// QuitRequested is the data of quit.
type QuitRequested struct {
	Reason string `json:"reason"`
}

// Checkpointed is the data of checkpoint, which the journal writes in the
// same transaction as the checkpoint row (Journal.Checkpoint): the
// segment, its cursor, and beside them the executor's counts (in Data).
type Checkpointed struct {
	Segment int             `json:"segment"`
	Cursor  []byte          `json:"cursor"`
	Data    json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the whole payload in Data besides the segment and cursor.
func (c *Checkpointed) UnmarshalJSON(b []byte) error {
	var v struct {
		Segment int    `json:"segment"`
		Cursor  []byte `json:"cursor"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	c.Segment, c.Cursor, c.Data = v.Segment, v.Cursor, slices.Clone(b)
	return nil
}

// Progress is the data of progress (journaled sparsely, sent to front
// ends about 4×/s): done of total items, rate (settled/s since the step
// started), items_per_sec (written/s), write_rate (writes getting through
// per second lately) and write_limit (the limiter's rate, 0 = unlimited).
// A fleet step (engine/fleet) also says how many of its segments are
// done (or failed), claimed and left (open), and how many workers are
// alive; these are absent (0) for any other step, and a front end shows
// them only when Segments > 0. Fields keep the wire form's sorted order.
type Progress struct {
	Conflicts       int64   `json:"conflicts"`
	Done            int64   `json:"done"`
	ETAms           int64   `json:"eta_ms"`
	Failures        int64   `json:"failures"`
	ItemsPerSec     float64 `json:"items_per_sec"`
	Migrated        int64   `json:"migrated"`
	Rate            float64 `json:"rate"`
	Scanned         int64   `json:"scanned"`
	Segments        int     `json:"segments,omitempty"`
	SegmentsClaimed int     `json:"segments_claimed,omitempty"`
	SegmentsDone    int     `json:"segments_done,omitempty"`
	SegmentsLeft    int     `json:"segments_left,omitempty"`
	Skipped         int64   `json:"skipped"`
	Throttles       int64   `json:"throttles"`
	Total           int64   `json:"total"`
	Unchanged       int64   `json:"unchanged"`
	WorkersAlive    int     `json:"workers_alive,omitempty"`
	WriteLimit      float64 `json:"write_limit"`
	WriteRate       float64 `json:"write_rate"`
}

// Warning is the data of warning: a Message, and what the warning is
// about when it has it. Numbers that may be 0 are pointers, so a field is
// present exactly when the warning has it.
type Warning struct {
	Env            string    `json:"env,omitempty"`
	Error          string    `json:"error,omitempty"`
	Errors         *int64    `json:"errors,omitempty"` // sampled items the estimate could not evaluate
	Key            string    `json:"key,omitempty"`    // the item's key
	Keys           []string  `json:"keys,omitempty"`
	Message        string    `json:"message"`
	Sample         *int64    `json:"sample,omitempty"`
	Segment        *int      `json:"segment,omitempty"`
	StaleCount     *int64    `json:"stale_count,omitempty"`
	Throttles      *int64    `json:"throttles,omitempty"`
	WindowClosedAt time.Time `json:"window_closed_at,omitzero"`
	WriteLimit     *float64  `json:"write_limit,omitempty"`
	WriteRate      *float64  `json:"write_rate,omitempty"`
}

// Text renders the warning as one line: its message, then the item's key
// and the error when it has them ("item failed: id=7: index out of
// range"), so an operator sees which item and why.
func (w Warning) Text() string { return warningText(w.Message, w.Key, w.Error) }

// Result is the data of result: step-specific measurements (estimate,
// verify, backup manifest, drill, migrate). Value is encoded as it is;
// a decoded Result holds the payload as a json.RawMessage.
type Result struct {
	Value any
}

// MarshalJSON encodes the measurements themselves.
func (r Result) MarshalJSON() ([]byte, error) { return json.Marshal(r.Value) }

// UnmarshalJSON keeps the payload raw: its shape depends on the step kind.
func (r *Result) UnmarshalJSON(b []byte) error {
	r.Value = json.RawMessage(slices.Clone(b))
	return nil
}

// The Kind methods below are the one place a payload type is tied to its
// event kind.

// Kind is EvSessionStart.
func (SessionStarted) Kind() EventKind { return EvSessionStart }

// Kind is EvSessionEnd.
func (SessionEnded) Kind() EventKind { return EvSessionEnd }

// Kind is EvSessionResume.
func (SessionResumed) Kind() EventKind { return EvSessionResume }

// Kind is EvPhaseStart.
func (PhaseStarted) Kind() EventKind { return EvPhaseStart }

// Kind is EvPhaseEnd.
func (PhaseEnded) Kind() EventKind { return EvPhaseEnd }

// Kind is EvStepStart.
func (StepStarted) Kind() EventKind { return EvStepStart }

// Kind is EvStepEnd.
func (StepEnded) Kind() EventKind { return EvStepEnd }

// Kind is EvStepSkip.
func (StepSkip) Kind() EventKind { return EvStepSkip }

// Kind is EvStepRetry.
func (StepRetry) Kind() EventKind { return EvStepRetry }

// Kind is EvStepMarkDone.
func (StepMarkDone) Kind() EventKind { return EvStepMarkDone }

// Kind is EvInterrupted.
func (StepInterruption) Kind() EventKind { return EvInterrupted }

// Kind is EvOutput.
func (Output) Kind() EventKind { return EvOutput }

// Kind is EvCheck.
func (CheckTicked) Kind() EventKind { return EvCheck }

// Kind is EvDecision.
func (Decided) Kind() EventKind { return EvDecision }

// Kind is EvApproval.
func (Approved) Kind() EventKind { return EvApproval }

// Kind is EvConfirm.
func (Confirmed) Kind() EventKind { return EvConfirm }

// Kind is EvNotify.
func (Notified) Kind() EventKind { return EvNotify }

// Kind is EvNote.
func (Note) Kind() EventKind { return EvNote }

// Kind is EvPause.
func (Paused) Kind() EventKind { return EvPause }

// Kind is EvResume.
func (Resumed) Kind() EventKind { return EvResume }

// Kind is EvAbort.
func (Aborted) Kind() EventKind { return EvAbort }

// Kind is EvRollbackStart.
func (RollbackStarted) Kind() EventKind { return EvRollbackStart }

// Kind is EvRollbackEnd.
func (RollbackEnded) Kind() EventKind { return EvRollbackEnd }

// Kind is EvRollbackRequest.
func (RollbackRequested) Kind() EventKind { return EvRollbackRequest }

// Kind is EvRate.
func (RateChanged) Kind() EventKind { return EvRate }

// Kind is EvQuit.
func (QuitRequested) Kind() EventKind { return EvQuit }

// Kind is EvCheckpoint.
func (Checkpointed) Kind() EventKind { return EvCheckpoint }

// Kind is EvProgress.
func (Progress) Kind() EventKind { return EvProgress }

// Kind is EvWarning.
func (Warning) Kind() EventKind { return EvWarning }

// Kind is EvResult.
func (Result) Kind() EventKind { return EvResult }
