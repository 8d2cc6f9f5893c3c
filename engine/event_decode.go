package engine

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Errors of payload decoding.
var (
	// ErrUnknownKind: an event of a kind this version has no payload type
	// for (a newer lockstep wrote it).
	ErrUnknownKind = errors.New("unknown event kind")
	// ErrKindMismatch: DecodeAs asked for the payload of another kind.
	ErrKindMismatch = errors.New("payload type does not match the event kind")
)

// DecodePayload decodes ev's data into the payload type of its kind and
// returns it as a value (SessionStarted, StepEnded, Progress, …): front
// ends and the timeline switch on its type. An event without data decodes
// to the zero payload. The error wraps ErrUnknownKind for a kind with no
// payload type, and the JSON error for data that is not of the kind's
// shape: callers show such an event as unreadable, never as zero fields.
func DecodePayload(ev Event) (Payload, error) {
	switch ev.Kind {
	case EvSessionStart:
		return decodeInto[SessionStarted](ev)
	case EvSessionEnd:
		return decodeInto[SessionEnded](ev)
	case EvSessionResume:
		return decodeInto[SessionResumed](ev)
	case EvPhaseStart:
		return decodeInto[PhaseStarted](ev)
	case EvPhaseEnd:
		return decodeInto[PhaseEnded](ev)
	case EvStepStart:
		return decodeInto[StepStarted](ev)
	case EvStepEnd:
		return decodeInto[StepEnded](ev)
	case EvStepSkip:
		return decodeInto[StepSkip](ev)
	case EvStepRetry:
		return decodeInto[StepRetry](ev)
	case EvStepMarkDone:
		return decodeInto[StepMarkDone](ev)
	case EvInterrupted:
		return decodeInto[StepInterruption](ev)
	case EvOutput:
		return decodeInto[Output](ev)
	case EvCheck:
		return decodeInto[CheckTicked](ev)
	case EvDecision:
		return decodeInto[Decided](ev)
	case EvApproval:
		return decodeInto[Approved](ev)
	case EvConfirm:
		return decodeInto[Confirmed](ev)
	case EvNotify:
		return decodeInto[Notified](ev)
	case EvNote:
		return decodeInto[Note](ev)
	}
	return decodeControl(ev)
}

// decodeControl decodes the kinds of the second half: control, data steps.
func decodeControl(ev Event) (Payload, error) {
	switch ev.Kind {
	case EvPause:
		return decodeInto[Paused](ev)
	case EvResume:
		return decodeInto[Resumed](ev)
	case EvAbort:
		return decodeInto[Aborted](ev)
	case EvRollbackStart:
		return decodeInto[RollbackStarted](ev)
	case EvRollbackEnd:
		return decodeInto[RollbackEnded](ev)
	case EvRollbackRequest:
		return decodeInto[RollbackRequested](ev)
	case EvRate:
		return decodeInto[RateChanged](ev)
	case EvQuit:
		return decodeInto[QuitRequested](ev)
	case EvCheckpoint:
		return decodeInto[Checkpointed](ev)
	case EvProgress:
		return decodeInto[Progress](ev)
	case EvWarning:
		return decodeInto[Warning](ev)
	case EvResult:
		return decodeInto[Result](ev)
	case EvFleetSegment:
		return decodeInto[FleetSegment](ev)
	}
	return nil, fmt.Errorf("decode %s event %d: %w", ev.Kind, ev.Seq, ErrUnknownKind)
}

// DecodeAs decodes ev's data as the payload P, for a caller that already
// knows ev's kind; the error wraps ErrKindMismatch when ev is of another
// kind than P's.
func DecodeAs[P Payload](ev Event) (P, error) {
	var p P
	if ev.Kind != p.Kind() {
		return p, fmt.Errorf("decode %s event %d as %T: %w", ev.Kind, ev.Seq, p, ErrKindMismatch)
	}
	return decodeInto[P](ev)
}

func decodeInto[P Payload](ev Event) (P, error) {
	var p P
	if len(ev.Data) == 0 {
		return p, nil
	}
	if err := json.Unmarshal(ev.Data, &p); err != nil {
		return p, fmt.Errorf("decode %s event %d: %w", ev.Kind, ev.Seq, err)
	}
	return p, nil
}

// UnreadableText is how front ends show an event whose payload did not
// decode: explicitly, with the kind and the reason, never as empty fields.
func UnreadableText(ev Event, err error) string {
	return fmt.Sprintf("unreadable event %s (seq %d): %v", ev.Kind, ev.Seq, err)
}
