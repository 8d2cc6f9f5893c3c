package engine

import (
	"encoding/json"
	"time"
)

// EventKind names what an event records.
type EventKind string

// Event kinds. Data payloads are documented next to each kind; they are
// JSON objects so the journal stays readable with the sqlite3 CLI.
const (
	EvSessionStart  EventKind = "session.start"  // {runbook, sha256, env, mode, operator, vars, lint_ignored?: [{code, reason, step, count}]}
	EvSessionEnd    EventKind = "session.end"    // {outcome, error?}
	EvSessionResume EventKind = "session.resume" // {operator}
	EvPhaseStart    EventKind = "phase.start"    // {phase}
	EvPhaseEnd      EventKind = "phase.end"      // {phase, status}
	EvStepStart     EventKind = "step.start"     // {kind, attempt}
	EvStepEnd       EventKind = "step.end"       // {status: done|failed|skipped, error?, duration_ms, result?}
	EvStepSkip      EventKind = "step.skip"      // {reason} — operator chose to skip
	EvStepRetry     EventKind = "step.retry"     // {reason?}
	EvStepMarkDone  EventKind = "step.mark_done" // {reason} — interrupted step marked done by the operator
	EvInterrupted   EventKind = "step.interrupted"
	EvOutput        EventKind = "step.output" // {stream: stdout|stderr, text} (redacted)
	EvCheck         EventKind = "check.tick"  // {index, item}
	EvDecision      EventKind = "decision"    // {choice, reason}
	EvApproval      EventKind = "approval"    // {approver, role, reason}
	EvConfirm       EventKind = "confirm"     // {what: env|destructive, value}
	EvNotify        EventKind = "notify"      // {channel, to, message, sent}
	EvNote          EventKind = "note"        // {text, by?}: by is NoteByLockstep for the engine's own notes
	EvPause         EventKind = "pause"       // {}
	EvResume        EventKind = "resume"      // {}
	EvAbort         EventKind = "abort"       // {reason?}
	EvRollbackStart EventKind = "rollback.start"
	EvRollbackEnd   EventKind = "rollback.end"
	EvCheckpoint    EventKind = "checkpoint" // {segment, cursor, counts}
	EvProgress      EventKind = "progress"   // {done, total, rate, conflicts, throttles} — journaled sparsely
	EvWarning       EventKind = "warning"    // {message}
	EvResult        EventKind = "result"     // {…} step-specific measurements (estimate, verify, backup manifest)
)

// Event kinds journaled by Session.Control (added after the first set).
const (
	EvRollbackRequest EventKind = "rollback.request" // {reason} — operator asked for a rollback
	EvRate            EventKind = "rate"             // {rate} — operator changed the max write rate
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

// NewEvent builds an event whose Data is the JSON encoding of data.
func NewEvent(kind EventKind, step string, data any) Event {
	ev := Event{Kind: kind, Step: step}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			b, _ = json.Marshal(map[string]string{"marshal_error": err.Error()})
		}
		ev.Data = b
	}
	return ev
}

// WarningText renders a warning event as one line: its message, then the
// item's key and the error when it has them ("item failed: id=7: index
// out of range"), so an operator sees which item and why without reading
// the raw journal.
func WarningText(ev Event) string {
	var d struct{ Message, Key, Error string }
	_ = ev.Decode(&d)
	return warningText(d.Message, d.Key, d.Error)
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
