package main

import (
	"sync"
	"sync/atomic"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/tui/plain"
)

// answerNotes sends the answers file's `note:` of a step to the session
// as the operator's note when the step starts (once per process), so a
// plain run can record notes and learnings too. Set the session with
// set once it exists; observe is the front end's observer.
type answerNotes struct {
	answers *plain.Answers
	observe func(engine.Event)
	session atomic.Pointer[engine.Session]

	mu   sync.Mutex
	sent map[string]bool
}

// observer returns the observer to give the engine.
func (n *answerNotes) observer() func(engine.Event) {
	return func(ev engine.Event) {
		n.observe(ev)
		if ev.Kind != engine.EvStepStart || n.answers == nil {
			return
		}
		a := n.answers.Steps[ev.Step]
		s := n.session.Load()
		if a == nil || a.Note == "" || s == nil {
			return
		}
		n.mu.Lock()
		first := !n.sent[ev.Step]
		if n.sent == nil {
			n.sent = map[string]bool{}
		}
		n.sent[ev.Step] = true
		n.mu.Unlock()
		if first {
			s.Control(engine.Command{Kind: engine.CmdNote, Text: a.Note})
		}
	}
}
