package engine

import (
	"context"
	"fmt"
)

// drift is the result of comparing a live run's runbook with its rehearsals.
type drift struct {
	rehearsed   bool   // a completed rehearsal exists
	rehearsal   string // SHA-256 of the latest completed rehearsal, when it differs
	acknowledge string // the operator's reason for running a different runbook
}

// checkDrift compares a live run in a protected environment with the
// completed rehearsals of the same runbook (any environment). When the
// latest one ran a runbook with another SHA-256, the operator must give a
// reason (PromptReason, answers key "rehearsal_drift"); refusing or an
// empty reason is an error and nothing is journaled.
func checkDrift(ctx context.Context, cfg Config, protected bool) (drift, error) {
	if !protected || cfg.Mode != ModeLive {
		return drift{rehearsed: true}, nil
	}
	applied, err := cfg.Journal.AppliedMigrations(ctx, "", cfg.Runbook.Name)
	if err != nil {
		return drift{}, fmt.Errorf("read rehearsals: %w", err)
	}
	var d drift
	for _, a := range applied { // newest first
		if a.Mode != ModeRehearsal || a.Status != "completed" {
			continue
		}
		d.rehearsed = true
		if a.RunbookSHA256 == cfg.Runbook.SHA256 {
			return d, nil
		}
		d.rehearsal = a.RunbookSHA256
		break
	}
	if d.rehearsal == "" {
		return d, nil
	}
	ans, err := cfg.Prompter.Ask(ctx, Prompt{
		Kind:  PromptReason,
		Title: "this runbook differs from its last rehearsal: why run it anyway?",
		Text: fmt.Sprintf("The last completed rehearsal of **%s** ran SHA-256 %.12s; this runbook is %.12s.",
			cfg.Runbook.Name, d.rehearsal, cfg.Runbook.SHA256),
		Key: "rehearsal_drift",
	})
	if err != nil {
		return d, fmt.Errorf("acknowledge rehearsal drift: %w", err)
	}
	if ans.Reason == "" {
		return d, fmt.Errorf("acknowledge rehearsal drift: %w", ErrReasonRequired)
	}
	d.acknowledge = ans.Reason
	return d, nil
}

// journal records the drift acknowledgement or the absence of a rehearsal.
func (d drift) journal(ctx context.Context, s *Session) error {
	switch {
	case d.acknowledge != "":
		return s.emit(ctx, NewEvent("", Confirmed{
			What: "rehearsal_drift", Value: d.acknowledge, RehearsalSHA256: d.rehearsal,
		}))
	case !d.rehearsed:
		return s.emit(ctx, NewEvent("", Warning{
			Message: "no completed rehearsal of this runbook in the journal",
		}))
	}
	return nil
}
