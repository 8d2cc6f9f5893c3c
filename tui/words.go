package tui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
)

// eventNames says every engine event kind in words: the operator never
// reads an internal name such as "check.tick".
var eventNames = map[engine.EventKind]string{
	engine.EvSessionStart:    "session started",
	engine.EvSessionEnd:      "session ended",
	engine.EvSessionResume:   "session resumed",
	engine.EvPhaseStart:      "phase started",
	engine.EvPhaseEnd:        "phase ended",
	engine.EvStepStart:       "step started",
	engine.EvStepEnd:         "step ended",
	engine.EvStepSkip:        "step skipped",
	engine.EvStepRetry:       "step retried",
	engine.EvStepMarkDone:    "step marked done",
	engine.EvInterrupted:     "step interrupted",
	engine.EvOutput:          "output",
	engine.EvCheck:           "ticked",
	engine.EvDecision:        "decided",
	engine.EvApproval:        "approved",
	engine.EvConfirm:         "confirmed",
	engine.EvNotify:          "notified",
	engine.EvNote:            "note",
	engine.EvPause:           "paused",
	engine.EvResume:          "resumed",
	engine.EvAbort:           "abort requested",
	engine.EvRollbackStart:   "rollback started",
	engine.EvRollbackEnd:     "rollback ended",
	engine.EvCheckpoint:      "checkpoint saved",
	engine.EvProgress:        "progress",
	engine.EvWarning:         "warning",
	engine.EvResult:          "result",
	engine.EvRollbackRequest: "rollback requested",
	engine.EvRate:            "write rate changed",
	engine.EvFleetSegment:    "fleet segment finished",
}

// eventWords is kind in words; an unknown kind is spelt out from its
// name ("lease.taken" → "lease taken").
func eventWords(kind engine.EventKind) string {
	if w, ok := eventNames[kind]; ok {
		return w
	}
	return strings.NewReplacer(".", " ", "_", " ").Replace(string(kind))
}

// recordLine is the output pane's line for a journaled decision, in
// words: `» ticked "Plan read"`, `» decided multi-step: no downtime`,
// `» approved by bob as accountable`. Internal names never show; an
// event whose payload cannot be read says so.
func recordLine(ev engine.Event) string {
	p, err := engine.DecodePayload(ev)
	if err != nil && !errors.Is(err, engine.ErrUnknownKind) {
		return "» " + engine.UnreadableText(ev, err)
	}
	return recordWords(ev.Kind, p)
}

// recordWords is recordLine for a decoded payload (nil for a kind this
// build does not know).
func recordWords(kind engine.EventKind, p engine.Payload) string {
	var b strings.Builder
	b.WriteString("» ")
	reason := ""
	switch d := p.(type) {
	case engine.CheckTicked:
		fmt.Fprintf(&b, "ticked %q", d.Item)
	case engine.Decided:
		fmt.Fprintf(&b, "decided %s", d.Choice)
		reason = d.Reason
	case engine.Approved:
		fmt.Fprintf(&b, "approved by %s", d.Approver)
		if d.Role != "" {
			fmt.Fprintf(&b, " as %s", d.Role)
		}
		reason = d.Reason
	case engine.Confirmed:
		what := d.What
		if what == "env" {
			what = "environment"
		}
		fmt.Fprintf(&b, "confirmed %s %v", what, d.Value)
	case engine.Notified:
		b.WriteString("notified")
		if d.Channel != "" {
			fmt.Fprintf(&b, " via %s", d.Channel)
		}
		if len(d.To) > 0 {
			fmt.Fprintf(&b, " to %s", strings.Join(d.To, ", "))
		}
	default:
		b.WriteString(eventWords(kind))
	}
	if reason != "" {
		fmt.Fprintf(&b, ": %s", reason)
	}
	return strings.TrimRight(b.String(), " ")
}
