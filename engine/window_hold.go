package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// ErrWindowClosed: a protected environment's change window closed while a
// data step ran, and the operator did not extend it. The step stopped at
// a page boundary and the session stops resumably (it wraps ErrPaused).
var ErrWindowClosed = fmt.Errorf("change window closed: %w", ErrPaused)

// windowHold keeps a running session inside its protected environment's
// change window. Start refuses to begin outside it, but a migration may
// outlast it: each page boundary (Control.Checkpoint) checks the window
// again with the session's Clock.
type windowHold struct {
	// mu is held while the window is checked and the operator asked, so
	// that concurrent segments ask once and all see the answer.
	mu sync.Mutex
	// end is when the window last seen open closes (zero: not seen open).
	end time.Time
	// extended is the operator's reason to keep working past the window
	// (answers key "extend_window", or "outside_window" at resume).
	extended string
	// closed is the error every later page boundary returns once the
	// window closed and was not extended.
	closed error
}

// watchWindow starts the hold: the window's current end, when it is open
// now, and the reason given to resume outside it ("" when none).
func (s *Session) watchWindow(outside string) {
	s.win.extended = outside
	if !s.windowGuarded() {
		return
	}
	if st, err := CheckWindow(s.env.Window, s.cfg.Clock.Now()); err == nil && st.Open {
		s.win.end = st.End
	}
}

// windowGuarded reports whether the session's runs are held to a window:
// a protected environment with one, in live or rehearsal mode.
func (s *Session) windowGuarded() bool {
	return s.env != nil && s.env.Protected && s.env.Window != nil && s.cfg.Mode != ModeDryRun
}

// holdWindow is the window check of a page boundary. Inside the window,
// or past it with the operator's reason, it returns nil. When the window
// has closed it journals a warning saying when, then asks the operator
// for a reason to keep going (PromptReason, key "extend_window"), which
// is journaled as a confirm; without one it returns ErrWindowClosed.
func (s *Session) holdWindow(ctx context.Context) error {
	if !s.windowGuarded() {
		return nil
	}
	w := &s.win
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.extended != "" || w.closed != nil {
		return w.closed
	}
	now := s.cfg.Clock.Now()
	st, err := CheckWindow(s.env.Window, now)
	if err != nil {
		return fmt.Errorf("check window of %s: %w", s.env.Name, err)
	}
	if st.Open {
		w.end = st.End
		return nil
	}
	s.mu.Lock()
	step := s.state.Current
	s.mu.Unlock()
	closedAt := w.end
	if closedAt.IsZero() {
		closedAt = now
	}
	at := closedAt.Format("Mon 2006-01-02 15:04 MST")
	next := "never (no allowed day)"
	if !st.NextOpen.IsZero() {
		next = st.NextOpen.Format("Mon 2006-01-02 15:04 MST")
	}
	msg := fmt.Sprintf("the change window of %s closed at %s: %s stops at this page boundary unless the window is extended",
		s.env.Name, at, orStep(step))
	if err := s.emit(ctx, NewEvent(step, Warning{
		Message: msg, WindowClosedAt: closedAt, Env: s.env.Name,
	})); err != nil {
		return err
	}
	reason, err := s.askExtend(ctx, step, at, next)
	if err != nil {
		return err
	}
	if reason != "" {
		// Extended only once journaled: a refused write leaves the window
		// closed, and the next boundary asks again.
		if err := s.emit(ctx, NewEvent(step, Confirmed{
			What: "extend_window", Value: reason, WindowClosedAt: closedAt,
		})); err != nil {
			return err
		}
		w.extended = reason
		return nil
	}
	w.closed = fmt.Errorf("%w: %s's window closed at %s; stopped at a page boundary: resume in the next window (opens %s), "+
		"or resume and give a reason to work past it (extend_window: \"…\" in an answers file)", ErrWindowClosed, s.env.Name, at, next)
	return w.closed
}

// askExtend asks the operator for a reason to keep working past the
// window: "" when none is given (no answer, an empty one, or the
// operator quit). An abort while asking is ErrAborted.
func (s *Session) askExtend(ctx context.Context, step, closedAt, next string) (string, error) {
	w := s.env.Window
	ans, err := s.ask(ctx, Prompt{
		Kind:  PromptReason,
		Title: fmt.Sprintf("%s's change window closed at %s: keep going?", s.env.Name, closedAt),
		Text: fmt.Sprintf("%s may be changed %s %s–%s %s. %s is paused at a page boundary.\n\n"+
			"Give a reason to keep going past the window (it is journaled), or quit to stop here "+
			"and resume in the next window (opens %s).",
			s.env.Name, daysText(w.Days), w.From, w.To, w.TZ, orStep(step), next),
		Key: "extend_window",
	})
	switch {
	case errors.Is(err, ErrAborted):
		return "", ErrAborted
	case err != nil:
		return "", nil
	}
	return strings.TrimSpace(ans.Reason), nil
}

// orStep names the step in a sentence ("the session" when none runs).
func orStep(step string) string {
	if step == "" {
		return "the session"
	}
	return "step " + step
}
