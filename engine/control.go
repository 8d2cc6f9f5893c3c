package engine

import (
	"context"
	"strconv"
	"strings"
)

// controlState is the live effect of operator commands. It is guarded by
// Session.mu; changed is closed and replaced on every change so waiters
// can block on it.
type controlState struct {
	paused         bool
	aborted        bool
	rollback       bool
	rollbackReason string
	rate           int
	changed        chan struct{}
	// interrupt cancels what the run loop is blocked on (a prompt, a shell
	// process) when the operator aborts or rolls back. Data steps are not
	// cancelled: they poll Checkpoint and finish their in-flight writes.
	interrupt context.CancelCauseFunc
	// checklist is the checklist prompt in play, which CmdCheck ticks
	// (nil: none).
	checklist *liveChecklist

	queue []Command
	wake  chan struct{}
	done  chan struct{}
}

// CmdCheck ticks an item of the checklist prompt in play as the operator
// ticks it, so each tick is journaled (check.tick) when it happens, not
// only when the checklist is confirmed. Text is "<step id> <index>"; a tick
// for a step whose checklist is no longer asked is dropped (the answer to
// that prompt carried its ticks).
const CmdCheck CommandKind = "check"

// EvQuit records that the operator quit the front end before the session
// ended: {step?, reason}. It is journaled (Session.Quit) before the front
// end cancels the session, so the journal says who stopped a running step.
const EvQuit EventKind = "quit"

// liveChecklist journals the ticks of one checklist prompt.
type liveChecklist struct {
	step string
	tick func(i int) error
}

// Control delivers an operator command to the session. It never blocks and
// is safe from any goroutine: commands are queued, journaled in order as
// events (pause, resume, abort, note, rollback.request, rate) and only
// then acted on. Commands sent after the session ended are dropped.
func (s *Session) Control(c Command) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctl.done != nil {
		select {
		case <-s.ctl.done:
			return
		default:
		}
	}
	s.ctl.queue = append(s.ctl.queue, c)
	if s.ctl.wake != nil {
		select {
		case s.ctl.wake <- struct{}{}:
		default:
		}
	}
}

// startControl starts the goroutine that journals and applies commands;
// the returned function stops it.
func (s *Session) startControl(ctx context.Context) (stop func()) {
	s.mu.Lock()
	s.ctl.wake = make(chan struct{}, 1)
	s.ctl.done = make(chan struct{})
	wake, done := s.ctl.wake, s.ctl.done
	s.mu.Unlock()
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			s.drainCommands(ctx)
			select {
			case <-wake:
			case <-done:
				s.drainCommands(ctx)
				return
			}
		}
	}()
	wake <- struct{}{}
	return func() {
		close(done)
		<-finished
	}
}

func (s *Session) drainCommands(ctx context.Context) {
	for {
		s.mu.Lock()
		if len(s.ctl.queue) == 0 {
			s.mu.Unlock()
			return
		}
		c := s.ctl.queue[0]
		s.ctl.queue = s.ctl.queue[1:]
		current := s.state.Current
		s.mu.Unlock()
		s.apply(ctx, c, current)
	}
}

// apply journals c and then changes the control state.
func (s *Session) apply(ctx context.Context, c Command, step string) {
	var ev Event
	switch c.Kind {
	case CmdCheck:
		s.applyCheck(ctx, c, step)
		return
	case CmdPause:
		ev = NewEvent(step, Paused{})
	case CmdContinue:
		ev = NewEvent(step, Resumed{})
	case CmdAbort:
		ev = NewEvent(step, Aborted{Reason: c.Text})
	case CmdRollback:
		ev = NewEvent(step, RollbackRequested{Reason: c.Text})
	case CmdNote:
		ev = NewEvent(step, Note{Text: c.Text})
	case CmdRate:
		rate, err := strconv.Atoi(strings.TrimSpace(c.Text))
		if err != nil || rate < 0 {
			s.warn(ctx, step, "rate: want a non-negative number of items/s, got "+strconv.Quote(c.Text))
			return
		}
		ev = NewEvent(step, RateChanged{Rate: rate})
	default:
		s.warn(ctx, step, "unknown command "+strconv.Quote(string(c.Kind)))
		return
	}
	if err := s.emit(ctx, ev); err != nil {
		return // not journaled: not acted on
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch c.Kind {
	case CmdPause:
		s.ctl.paused = true
	case CmdContinue:
		s.ctl.paused = false
	case CmdAbort:
		s.ctl.aborted = true
	case CmdRollback:
		s.ctl.rollback, s.ctl.rollbackReason = true, c.Text
	case CmdRate:
		s.ctl.rate, _ = strconv.Atoi(strings.TrimSpace(c.Text))
	}
	if (c.Kind == CmdAbort || c.Kind == CmdRollback) && s.ctl.interrupt != nil {
		s.ctl.interrupt(ErrAborted)
	}
	close(s.ctl.changed)
	s.ctl.changed = make(chan struct{})
}

func (s *Session) warn(ctx context.Context, step, msg string) {
	_ = s.emit(ctx, NewEvent(step, Warning{Message: msg}))
}

// setInterrupt registers what an abort or rollback cancels (nil: nothing).
// A request that arrived after the step started but before its interrupt
// was registered cancels it at once: it must not wait for the step's end.
func (s *Session) setInterrupt(cancel context.CancelCauseFunc) {
	s.mu.Lock()
	s.ctl.interrupt = cancel
	pending := cancel != nil && (s.ctl.aborted || s.ctl.rollback)
	s.mu.Unlock()
	if pending {
		cancel(ErrAborted)
	}
}

// stopRequested reports an abort or rollback request.
func (s *Session) stopRequested() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctl.aborted || s.ctl.rollback
}

// controlView is the Control an executor polls.
type controlView struct{ s *Session }

// Checkpoint blocks while the session is paused. It returns ErrAborted
// after an abort or rollback request, and ErrPaused when ctx ends while
// paused (the operator paused, then quit). In a protected environment it
// then holds the run to its change window (see Session.holdWindow): past
// the window's end without the operator's reason it returns
// ErrWindowClosed, which wraps ErrPaused.
func (c controlView) Checkpoint(ctx context.Context) error {
	if err := c.waitPaused(ctx); err != nil {
		return err
	}
	return c.s.holdWindow(ctx)
}

// waitPaused blocks while the session is paused (see Checkpoint).
func (c controlView) waitPaused(ctx context.Context) error {
	for {
		c.s.mu.Lock()
		st := c.s.ctl
		c.s.mu.Unlock()
		if st.aborted || st.rollback {
			return ErrAborted
		}
		if !st.paused {
			return nil
		}
		select {
		case <-st.changed:
		case <-ctx.Done():
			return ErrPaused
		}
	}
}

// Rate returns the operator's write-rate override (0: none).
func (c controlView) Rate() int {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.s.ctl.rate
}

// applyCheck journals the tick c names, if its checklist is in play.
func (s *Session) applyCheck(ctx context.Context, c Command, current string) {
	i := strings.LastIndexByte(c.Text, ' ')
	idx, err := strconv.Atoi(c.Text[i+1:])
	if i < 0 || err != nil {
		s.warn(ctx, current, "check: want \"<step> <index>\", got "+strconv.Quote(c.Text))
		return
	}
	s.mu.Lock()
	cl := s.ctl.checklist
	s.mu.Unlock()
	if cl == nil || cl.step != c.Text[:i] {
		return
	}
	if err := cl.tick(idx); err != nil {
		s.warn(ctx, cl.step, "journal tick: "+err.Error())
	}
}

// Quit journals that the operator quit (EvQuit, naming the running step
// and reason) before the front end cancels the session. It does nothing
// once the session has ended.
func (s *Session) Quit(ctx context.Context, reason string) error {
	s.mu.Lock()
	ended := s.ctl.done == nil
	if !ended {
		select {
		case <-s.ctl.done:
			ended = true
		default:
		}
	}
	step := s.state.Current
	s.mu.Unlock()
	if ended {
		return nil
	}
	return s.emit(ctx, NewEvent(step, QuitRequested{Reason: reason}))
}

// ChecklistWatcher is what a session's Control offers a checklist step
// (an executor type-asserts StepContext.Control to it): while its prompt is
// in play, CmdCheck ticks go to tick, until stop is called.
type ChecklistWatcher interface {
	WatchChecklist(step string, tick func(i int) error) (stop func())
}

var _ ChecklistWatcher = controlView{}

// WatchChecklist implements ChecklistWatcher.
func (c controlView) WatchChecklist(step string, tick func(i int) error) func() {
	cl := &liveChecklist{step: step, tick: tick}
	c.s.mu.Lock()
	c.s.ctl.checklist = cl
	c.s.mu.Unlock()
	return func() {
		c.s.mu.Lock()
		if c.s.ctl.checklist == cl {
			c.s.ctl.checklist = nil
		}
		c.s.mu.Unlock()
	}
}
