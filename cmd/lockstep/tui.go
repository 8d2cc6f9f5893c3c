package main

import (
	"context"
	"io"
	"path/filepath"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/tui"
)

// runTUI runs (or resumes) a session in the Bubble Tea front end, which
// installs its own Prompter and Observer, and returns the outcome and the
// session id once the full-screen UI is gone.
func runTUI(ctx context.Context, cfg engine.Config, resumeID string) (engine.Outcome, string, error) {
	cfg.Stdout = io.Discard // notify's stdout channel would tear the full-screen UI; the event shows it
	return tui.Run(ctx, tui.Options{Config: cfg, ResumeID: resumeID})
}

// runJournalBrowser opens the TUI journal browser on the journal, read-only
// like the other journal commands.
func runJournalBrowser(ctx context.Context, f *factory, jf *journalFlags) error {
	j, err := f.openJournalRO(jf.JournalPath)
	if err != nil {
		return err
	}
	defer j.Close()
	// x offers exports beside the journal, never silently in the working directory.
	return tui.Browse(ctx, j, tui.BrowseOptions{Dir: filepath.Dir(f.journalPath(jf.JournalPath))})
}
