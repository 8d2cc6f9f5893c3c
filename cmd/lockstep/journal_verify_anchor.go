package main

import (
	"context"
	"fmt"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/runbook"
)

// anchorTarget is a runbook's name and the store of the environment
// checked.
type anchorTarget struct {
	runbook string
	store   *runbook.StoreSpec
}

// checkAnchors compares the journal with the anchors recorded in the
// store of opts.Env, for --runbook's runbook or for each runbook the
// journal's sessions in that environment ran, and notes on stderr the
// sessions without an anchor.
func checkAnchors(ctx context.Context, opts *journalVerifyOptions, j *journal.Journal) ([]engine.AnchorCheck, error) {
	targets, err := anchorTargets(ctx, opts, j)
	if err != nil {
		return nil, err
	}
	var out []engine.AnchorCheck
	for _, t := range targets {
		checks, err := checkTarget(ctx, opts, j, t)
		if err != nil {
			return nil, err
		}
		out = append(out, checks...)
	}
	return out, nil
}

func checkTarget(ctx context.Context, opts *journalVerifyOptions, j *journal.Journal, t anchorTarget) ([]engine.AnchorCheck, error) {
	st, err := openStore(opts.f.Getenv)(ctx, t.store)
	if err != nil {
		return nil, fmt.Errorf("open the %s store of %s: %w", opts.Env, t.runbook, err)
	}
	defer st.Close()
	a, ok := st.(engine.Anchorer)
	if !ok {
		return nil, fmt.Errorf("the %s store of %s (%s) keeps no anchors", opts.Env, t.runbook, t.store.Kind)
	}
	anchors, err := a.Anchors(ctx, t.runbook, opts.Env)
	if err != nil {
		return nil, err
	}
	checks, err := engine.CheckAnchors(ctx, j, anchors)
	if err != nil {
		return nil, err
	}
	anchored := map[string]bool{}
	for _, an := range anchors {
		anchored[an.SessionID] = true
	}
	sessions, err := j.ListSessions(ctx, engine.SessionFilter{Env: opts.Env, Runbook: t.runbook})
	if err != nil {
		return nil, err
	}
	missing := 0
	for _, s := range sessions {
		if s.Mode != engine.ModeDryRun && !anchored[s.ID] {
			missing++
		}
	}
	if missing > 0 {
		fmt.Fprintf(opts.f.ErrOut, "note: %d session(s) of %s in %s have no anchor (they ran before anchors, never used the store, or could not write it): only their chain vouches for them\n",
			missing, t.runbook, opts.Env)
	}
	return checks, nil
}

// anchorTargets is --runbook's environment, or the environment of each
// runbook (as saved in its latest session) that ran in opts.Env.
func anchorTargets(ctx context.Context, opts *journalVerifyOptions, j *journal.Journal) ([]anchorTarget, error) {
	if opts.Runbook != "" {
		rb, err := loadRunbook(opts.f, opts.Runbook)
		if err != nil {
			return nil, err
		}
		env := rb.Env(opts.Env)
		if env == nil || env.Store == nil {
			return nil, usageError(fmt.Errorf("runbook %s has no environment %s with a store", opts.Runbook, opts.Env))
		}
		return []anchorTarget{{rb.Name, env.Store}}, nil
	}
	sessions, err := j.ListSessions(ctx, engine.SessionFilter{Env: opts.Env})
	if err != nil {
		return nil, err
	}
	var out []anchorTarget
	seen := map[string]bool{}
	for _, s := range sessions { // newest first: each runbook as it last ran
		if seen[s.Runbook] {
			continue
		}
		seen[s.Runbook] = true
		full, err := j.Session(ctx, s.ID)
		if err != nil {
			return nil, err
		}
		if len(full.RunbookSource) == 0 {
			continue // no saved runbook to find the store in
		}
		rb, err := runbook.Parse(full.RunbookPath, full.RunbookSource)
		if err != nil {
			return nil, fmt.Errorf("runbook of session %s: %w", s.ID, err)
		}
		if env := rb.Env(opts.Env); env != nil && env.Store != nil {
			out = append(out, anchorTarget{rb.Name, env.Store})
		}
	}
	if len(out) == 0 {
		return nil, usageError(fmt.Errorf("no session in %s names a store to check: pass --runbook FILE", opts.Env))
	}
	return out, nil
}
