package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/tui/plain"
)

// sessionRequest is a session to start (resumeID == "") or resume, with
// how to drive it.
type sessionRequest struct {
	cfg      engine.Config
	resumeID string
	plain    bool
	answers  *plain.Answers
	yes      bool
	// resumeArgs are extra flags the resume hint repeats (e.g. --journal).
	resumeArgs string
}

// runSession drives a session in the TUI when stdin and stdout are
// terminals (and --plain was not given), in plain line mode otherwise, and
// maps its outcome to the exit code, printing how to resume a stopped one.
func runSession(ctx context.Context, f *factory, req sessionRequest) error {
	var (
		outcome engine.Outcome
		id      = req.resumeID
		err     error
	)
	if !req.plain && f.IsTerminal() {
		run := f.RunTUI
		if run == nil {
			run = runTUI
		}
		// The hint below is printed once the full-screen UI is gone.
		outcome, id, err = run(ctx, req.cfg, req.resumeID)
	} else {
		outcome, id, err = runPlain(ctx, f, req)
	}
	return finishSession(f, req, outcome, id, err)
}

// runPlain runs the session in line mode: prompts are answered from the
// answers file and events are printed as lines. Nothing reads stdin.
func runPlain(ctx context.Context, f *factory, req sessionRequest) (engine.Outcome, string, error) {
	pr := plain.NewPrompter(req.answers, f.Out)
	pr.Yes = req.yes
	cfg := req.cfg
	cfg.Prompter = pr
	notes := &answerNotes{answers: req.answers, observe: plain.Observer(f.Out)}
	cfg.Observer = notes.observer()
	var (
		s   *engine.Session
		err error
	)
	if req.resumeID != "" {
		s, err = engine.Resume(ctx, cfg, req.resumeID)
	} else {
		s, err = engine.Start(ctx, cfg)
	}
	if err != nil {
		return engine.OutcomeRunning, "", err
	}
	pr.State = s.State // checklists show the ticks already journaled
	notes.session.Store(s)
	outcome, err := s.Run(ctx)
	return outcome, s.ID(), err
}

// finishSession maps the session's end to an exit code.
func finishSession(f *factory, req sessionRequest, outcome engine.Outcome, id string, err error) error {
	hint := func() {
		if id != "" {
			fmt.Fprintf(f.ErrOut, "Session %s stopped; resume it with:\n  %s resume %s%s\n", id, f.self(), id, req.resumeArgs)
		}
	}
	if ae, ok := err.(*engine.AnchorError); ok {
		// The session ended as journaled; only its anchor is missing.
		fmt.Fprintf(f.ErrOut, "lockstep: warning: %v — `journal verify --env` cannot vouch for session %s\n", ae, id)
		err = nil
	}
	if err != nil && isDiskFull(err) && !engine.IsJournalStop(err) {
		err = journalFull(req.cfg.Journal, id, err)
	}
	if err != nil {
		if exitCode(err) == exitBadInput {
			if id != "" && (errors.Is(err, engine.ErrNoAnswer) || errors.Is(err, engine.ErrInvalidAnswer)) {
				what := "Add the answer"
				if errors.Is(err, engine.ErrInvalidAnswer) {
					what = "Fix the answer"
				}
				fmt.Fprintln(f.ErrOut, "lockstep:", err)
				fmt.Fprintf(f.ErrOut, "%s, then resume the session with:\n  %s resume %s --plain --answers FILE%s\n", what, f.self(), id, req.resumeArgs)
				return silentExit(exitBadInput, err)
			}
			return err
		}
		if id != "" && errors.Is(err, plain.ErrStepFailed) {
			fmt.Fprintln(f.ErrOut, "lockstep:", err)
			fmt.Fprintf(f.ErrOut, "To retry or skip it, add {retry: true} or {skip: \"reason\"} for the step to the answers file, then resume the session with:\n  %s resume %s --plain --answers FILE%s\n", f.self(), id, req.resumeArgs)
			return silentExit(exitFailed, err)
		}
		if outcome == engine.OutcomeStopped || errors.Is(err, context.Canceled) || errors.Is(err, engine.ErrQuit) || errors.Is(err, engine.ErrPaused) {
			fmt.Fprintln(f.ErrOut, "lockstep:", err)
			hint()
			return silentExit(exitStopped, err)
		}
		return &exitError{code: exitFailed, err: err}
	}
	switch code := outcomeCode(outcome); code {
	case exitOK:
		return nil
	case exitStopped:
		hint()
		return silentExit(code, fmt.Errorf("session %s stopped", id))
	default:
		return silentExit(code, fmt.Errorf("session %s %s", id, outcome))
	}
}

// journalFull reports a journal that filled up outside a migrate step's
// write-ahead gate as the gate does: the session stops resumably, naming
// the journal, the cause and the resume command. Before the session
// started (id ""), there is nothing to resume: it is bad input, the
// journal's place.
func journalFull(j engine.Journal, id string, err error) error {
	if id != "" {
		return engine.NewJournalFailure(j, id, err)
	}
	if p, ok := j.(interface{ Path() string }); ok && p.Path() != "" {
		err = fmt.Errorf("journal %s: %w", p.Path(), err)
	}
	return journalError(err)
}

// latestSessionID returns the newest session's id, "" when unknown.
func latestSessionID(j engine.Journal) string {
	info, err := j.LatestSession(context.Background(), engine.SessionFilter{})
	if err != nil {
		return ""
	}
	return info.ID
}
