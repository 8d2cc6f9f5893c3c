package engine

import (
	"encoding/json"
	"time"
)

// EventKind names what an event records.
type EventKind string

// Event kinds. Each kind's data is one Go type (see Payload and
// event_payloads.go), journaled as a JSON object so the journal stays
// readable with the sqlite3 CLI.
const (
	EvSessionStart  EventKind = "session.start"    // SessionStarted {env, lint_ignored?, mode, operator, path, runbook, sha256, vars, version}
	EvSessionEnd    EventKind = "session.end"      // SessionEnded {error?, outcome}
	EvSessionResume EventKind = "session.resume"   // SessionResumed {operator}
	EvPhaseStart    EventKind = "phase.start"      // PhaseStarted {phase}
	EvPhaseEnd      EventKind = "phase.end"        // PhaseEnded {phase, status}
	EvStepStart     EventKind = "step.start"       // StepStarted {attempt, kind, phase, resumed?, rollback_of?}
	EvStepEnd       EventKind = "step.end"         // StepEnded {status: done|failed|skipped|interrupted, error?, reason?, unmet?, duration_ms, result?}
	EvStepSkip      EventKind = "step.skip"        // StepSkip {reason}: the operator chose to skip
	EvStepRetry     EventKind = "step.retry"       // StepRetry {reason}
	EvStepMarkDone  EventKind = "step.mark_done"   // StepMarkDone {reason}: an interrupted step marked done by the operator
	EvInterrupted   EventKind = "step.interrupted" // StepInterruption {kind}
	EvOutput        EventKind = "step.output"      // Output {stream: stdout|stderr, text} (redacted)
	EvCheck         EventKind = "check.tick"       // CheckTicked {index, item}
	EvDecision      EventKind = "decision"         // Decided {choice, previous_holder?, previous_session?, reason}
	EvApproval      EventKind = "approval"         // Approved {approver, reason, role}
	EvConfirm       EventKind = "confirm"          // Confirmed {rehearsal_sha256?, value, what: env|destructive|step|outside_window|extend_window|rehearsal_drift, window_closed_at?}
	EvNotify        EventKind = "notify"           // Notified {channel, message, sent, to}
	EvNote          EventKind = "note"             // Note {by?, text}: by is NoteByLockstep for the engine's own notes
	EvPause         EventKind = "pause"            // Paused {}
	EvResume        EventKind = "resume"           // Resumed {}
	EvAbort         EventKind = "abort"            // Aborted {reason}
	EvRollbackStart EventKind = "rollback.start"   // RollbackStarted {reason}
	EvRollbackEnd   EventKind = "rollback.end"     // RollbackEnded {}
	EvCheckpoint    EventKind = "checkpoint"       // Checkpointed {segment, cursor, …the executor's counts}: written by the journal
	EvProgress      EventKind = "progress"         // Progress {conflicts, done, eta_ms, failures, items_per_sec, migrated, rate, scanned, skipped, throttles, total, unchanged, write_limit, write_rate}: journaled sparsely
	EvWarning       EventKind = "warning"          // Warning {message, key?, error?, …what it is about}
	EvResult        EventKind = "result"           // Result {…}: step-specific measurements (estimate, verify, backup manifest)
)

// Event kinds journaled by Session.Control (added after the first set).
const (
	EvRollbackRequest EventKind = "rollback.request" // RollbackRequested {reason}: the operator asked for a rollback
	EvRate            EventKind = "rate"             // RateChanged {rate}: the operator changed the max write rate
)

// Event is one entry of a session's journal. Seq, PrevHash and Hash are
// assigned by the journal on Append.
type Event struct {
	SessionID string          `json:"session"`
	Seq       int64           `json:"seq"`
	Time      time.Time       `json:"time"`
	Step      string          `json:"step,omitempty"`
	Kind      EventKind       `json:"kind"`
	Operator  string          `json:"operator"`
	Data      json.RawMessage `json:"data,omitempty"`
	PrevHash  string          `json:"prev_hash"`
	Hash      string          `json:"hash"`
}

// Decode unmarshals the event's data into v.
func (e Event) Decode(v any) error {
	if len(e.Data) == 0 {
		return nil
	}
	return json.Unmarshal(e.Data, v)
}

// NewEvent builds the event of p's kind whose Data is the JSON encoding
// of p.
func NewEvent(step string, p Payload) Event {
	ev := Event{Kind: p.Kind(), Step: step}
	b, err := json.Marshal(p)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"marshal_error": err.Error()})
	}
	ev.Data = b
	return ev
}

// WarningText renders a warning event as one line (see Warning.Text); an
// unreadable payload renders as UnreadableText.
func WarningText(ev Event) string {
	w, err := DecodeAs[Warning](ev)
	if err != nil {
		return UnreadableText(ev, err)
	}
	return w.Text()
}

func warningText(msg, key, err string) string {
	for _, s := range []string{key, err} {
		if s != "" {
			msg += ": " + s
		}
	}
	return msg
}

// NoteByLockstep marks a note the engine wrote itself (data "by"), so a
// timeline does not attribute it to the operator.
const NoteByLockstep = "lockstep"
