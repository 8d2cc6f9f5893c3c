package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

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

// checkAnchors compares the journal with the registry of opts.Env's store
// (that of --runbook's environment, or of each runbook the journal's
// sessions in that environment ran): each session of the journal the
// registry holds must have the head recorded at its end, and a session
// the registry says this journal held must be in it. Sessions recorded by
// another journal, and the journal's sessions without a record, are noted
// on stderr.
func checkAnchors(ctx context.Context, opts *journalVerifyOptions, j *journal.Journal) ([]engine.AnchorCheck, error) {
	targets, err := registryTargets(ctx, opts.f, j, opts.Env, opts.Runbook)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	abs, err := filepath.Abs(opts.f.journalPath(opts.jf.JournalPath))
	if err != nil {
		return nil, err
	}
	self := host + ":" + abs
	var (
		anchors   []engine.RegistryRecord
		started   []engine.AnchorCheck // started, never ended, and missing
		recorded  = map[string]bool{}
		elsewhere = map[string]int{}
		runbooks  = map[string]bool{}
	)
	for _, t := range targets {
		runbooks[t.runbook] = true
		recs, err := readTarget(ctx, opts, t)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if recorded[r.SessionID] {
				continue // two runbooks sharing a store
			}
			recorded[r.SessionID] = true
			_, err := j.Session(ctx, r.SessionID)
			switch {
			case err != nil && r.Journal == self && r.Events == 0:
				started = append(started, engine.AnchorCheck{SessionID: r.SessionID, Reason: "started in the registry (never ended there) but missing from the journal (session deleted)"})
			case err == nil, r.Journal == self:
				anchors = append(anchors, r)
			case errors.Is(err, engine.ErrNotFound):
				elsewhere[r.Journal]++
			default:
				return nil, err
			}
		}
	}
	checks, err := engine.CheckAnchors(ctx, j, engine.RegistryAnchors(anchors))
	if err != nil {
		return nil, err
	}
	checks = append(checks, started...)
	for jid, n := range elsewhere {
		fmt.Fprintf(opts.f.ErrOut, "note: %d session(s) in the %s registry were journaled elsewhere (%s): not checked here\n",
			n, opts.Env, cmpOr(jid, "unknown journal"))
	}
	sessions, err := j.ListSessions(ctx, engine.SessionFilter{Env: opts.Env})
	if err != nil {
		return nil, err
	}
	missing := 0
	for _, s := range sessions {
		if s.Mode != engine.ModeDryRun && runbooks[s.Runbook] && !recorded[s.ID] {
			missing++
		}
	}
	if missing > 0 {
		fmt.Fprintf(opts.f.ErrOut, "note: %d session(s) in %s have no registry record (they ran before the registry, never opened the store, or could not write it): only their chain vouches for them\n",
			missing, opts.Env)
	}
	return checks, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// readTarget reads the registry records of opts.Env in t's store.
func readTarget(ctx context.Context, opts *journalVerifyOptions, t anchorTarget) ([]engine.RegistryRecord, error) {
	st, err := openStore(opts.f.Getenv)(ctx, t.store)
	if err != nil {
		return nil, fmt.Errorf("open the %s store of %s: %w", opts.Env, t.runbook, err)
	}
	defer st.Close()
	reg, ok := st.(engine.Registrar)
	if !ok {
		return nil, fmt.Errorf("the %s store of %s (%s) keeps no registry", opts.Env, t.runbook, t.store.Kind)
	}
	return reg.Registry(ctx, opts.Env)
}

// registryTargets is the store of envName in the runbook file rbPath, or
// (rbPath "") the store of envName of each runbook (as saved in its
// latest session) that ran there according to j.
func registryTargets(ctx context.Context, f *factory, j *journal.Journal, envName, rbPath string) ([]anchorTarget, error) {
	if rbPath != "" {
		rb, err := loadRunbook(f, rbPath)
		if err != nil {
			return nil, err
		}
		env := rb.Env(envName)
		if env == nil || env.Store == nil {
			return nil, usageError(fmt.Errorf("runbook %s has no environment %q with a store (it has %s)", rbPath, envName, envNames(rb)))
		}
		return []anchorTarget{{rb.Name, env.Store}}, nil
	}
	if j == nil {
		return nil, usageError(fmt.Errorf("no journal to find the store of %s in: pass a runbook file", envName))
	}
	sessions, err := j.ListSessions(ctx, engine.SessionFilter{Env: envName})
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
		if env := rb.Env(envName); env != nil && env.Store != nil {
			out = append(out, anchorTarget{rb.Name, env.Store})
		}
	}
	if len(out) == 0 {
		return nil, usageError(fmt.Errorf("no session in %s names a store to read: pass a runbook file", envName))
	}
	return out, nil
}
