package timeline

import (
	"encoding/json"

	"github.com/lockstep-run/lockstep/engine"
)

// eventData is what the timeline reads of an event's payload, taken
// from the typed payload by dataOf: the fields several kinds
// share (a reason, a text) are read in one place.
type eventData struct {
	Kind       string
	Attempt    int
	Phase      string
	RollbackOf string
	Status     string
	Error      string
	Reason     string
	DurationMS *int64
	Result     json.RawMessage
	Outcome    engine.Outcome
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

// dataOf takes from p what the timeline reads of it.
func dataOf(p engine.Payload) eventData {
	switch d := p.(type) {
	case engine.SessionEnded:
		return eventData{Outcome: d.Outcome, Error: d.Error}
	case engine.SessionResumed:
		return eventData{Operator: d.Operator}
	case engine.PhaseStarted:
		return eventData{Phase: d.Phase}
	case engine.PhaseEnded:
		return eventData{Phase: d.Phase, Status: d.Status}
	case engine.StepStarted:
		return eventData{Kind: d.StepKind, Attempt: d.Attempt, Phase: d.Phase, RollbackOf: d.RollbackOf}
	case engine.StepEnded:
		return eventData{Status: string(d.Status), Error: d.Error, Reason: d.Reason, DurationMS: d.DurationMS, Result: d.Result}
	case engine.StepSkip:
		return eventData{Reason: d.Reason}
	case engine.StepRetry:
		return eventData{Reason: d.Reason}
	case engine.StepMarkDone:
		return eventData{Reason: d.Reason}
	case engine.Output:
		return eventData{Stream: d.Stream, Text: d.Text}
	case engine.CheckTicked:
		return eventData{Index: d.Index, Item: d.Item}
	case engine.Decided:
		return eventData{Choice: d.Choice, Reason: d.Reason}
	case engine.Approved:
		return eventData{Approver: d.Approver, Reason: d.Reason, Role: d.Role}
	case engine.Confirmed:
		return eventData{What: d.What, Value: d.Value}
	case engine.Notified:
		return eventData{Channel: d.Channel, Message: d.Message}
	case engine.Note:
		return eventData{Text: d.Text, By: d.By}
	case engine.Warning:
		return eventData{Message: d.Message, Key: d.Key, Error: d.Error}
	}
	return reasonOf(p)
}

// reasonOf takes the reason of the kinds that only have one.
func reasonOf(p engine.Payload) eventData {
	switch d := p.(type) {
	case engine.Aborted:
		return eventData{Reason: d.Reason}
	case engine.RollbackStarted:
		return eventData{Reason: d.Reason}
	case engine.RollbackRequested:
		return eventData{Reason: d.Reason}
	case engine.QuitRequested:
		return eventData{Reason: d.Reason}
	}
	return eventData{}
}

// clean makes the payload's text safe to show on a terminal (see
// engine.CleanText): command output and errors are journaled as they came.
func (d *eventData) clean() {
	for _, f := range []*string{&d.Error, &d.Reason, &d.Text, &d.Item, &d.Message, &d.Choice, &d.Approver, &d.Key} {
		*f = engine.CleanText(*f)
	}
}
