package engine

import (
	"context"
	"fmt"
	"strings"
)

// drift is the result of comparing a live run's runbook with its rehearsals.
type drift struct {
	rehearsed   bool   // a completed rehearsal of the same SHA-256 exists
	rehearsal   string // SHA-256 of the latest completed rehearsal, when it differs
	acknowledge string // the operator's reason for running a different runbook
	unrehearsed string // the operator's reason for running with no rehearsal at all
}

// checkDrift compares a live run in a protected environment with the
// completed rehearsals of the same runbook: those the registries of the
// runbook's environments hold (regs, any environment, any machine) and
// those of the local journal. One of the same SHA-256 lets the run start.
// Otherwise, when the latest one ran a runbook with another SHA-256, the
// operator must give a reason (PromptReason, answers key
// "rehearsal_drift"); with no rehearsal at all, answers key
// "unrehearsed". Refusing or an empty reason is an error and nothing is
// journaled. unread names the registries that could not be read.
func checkDrift(ctx context.Context, cfg Config, protected bool, regs []RegistryRecord, unread []string) (drift, error) {
	if !protected || cfg.Mode != ModeLive {
		return drift{rehearsed: true}, nil
	}
	applied, err := cfg.Journal.AppliedMigrations(ctx, "", cfg.Runbook.Name)
	if err != nil {
		return drift{}, fmt.Errorf("read rehearsals: %w", err)
	}
	var d drift
	for _, r := range regs { // newest first
		if r.Runbook != cfg.Runbook.Name || r.Mode != ModeRehearsal || r.Outcome != OutcomeCompleted {
			continue
		}
		if r.SHA256 == cfg.Runbook.SHA256 {
			return drift{rehearsed: true}, nil
		}
		if d.rehearsal == "" {
			d.rehearsal = r.SHA256
		}
	}
	for _, a := range applied { // newest first
		if a.Mode != ModeRehearsal || a.Status != "completed" {
			continue
		}
		if a.RunbookSHA256 == cfg.Runbook.SHA256 {
			return drift{rehearsed: true}, nil
		}
		if d.rehearsal == "" {
			d.rehearsal = a.RunbookSHA256
		}
	}
	if d.rehearsal == "" {
		return askUnrehearsed(ctx, cfg, unread)
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

// askUnrehearsed asks why a protected live run goes ahead when no
// registry and no journal holds a completed rehearsal of the runbook.
func askUnrehearsed(ctx context.Context, cfg Config, unread []string) (drift, error) {
	held := fmt.Sprintf("no registry of the environments of **%s** (and not this journal) holds a completed rehearsal of it (SHA-256 %.12s)",
		cfg.Runbook.Name, cfg.Runbook.SHA256)
	if len(unread) > 0 {
		held += "; not read: " + strings.Join(unread, "; ")
	}
	ans, err := cfg.Prompter.Ask(ctx, Prompt{
		Kind:  PromptReason,
		Title: "this runbook was never rehearsed: why run it in a protected environment?",
		Text:  strings.ToUpper(held[:1]) + held[1:] + ".",
		Key:   "unrehearsed",
	})
	if err != nil {
		return drift{}, fmt.Errorf("start unrehearsed: %s: %w", stripMarkdown(held), err)
	}
	if ans.Reason == "" {
		return drift{}, fmt.Errorf("start unrehearsed: %s: %w", stripMarkdown(held), ErrReasonRequired)
	}
	return drift{unrehearsed: ans.Reason}, nil
}

func stripMarkdown(s string) string { return strings.ReplaceAll(s, "**", "") }

// journal records the drift acknowledgement or the reason to run
// unrehearsed.
func (d drift) journal(ctx context.Context, s *Session) error {
	switch {
	case d.acknowledge != "":
		return s.emit(ctx, NewEvent("", Confirmed{
			What: "rehearsal_drift", Value: d.acknowledge, RehearsalSHA256: d.rehearsal,
		}))
	case d.unrehearsed != "":
		return s.emit(ctx, NewEvent("", Confirmed{What: "unrehearsed", Value: d.unrehearsed}))
	}
	return nil
}
