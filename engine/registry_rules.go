package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/lockstep-run/lockstep/runbook"
)

// registryStart is what the registry rules found before a session starts:
// the environment's store (opened, kept by the session), the registries
// of the runbook's environments, and the overrides to journal.
type registryStart struct {
	store      Store            // the environment's store, nil when not opened
	records    []RegistryRecord // every registry read, newest first
	unread     []string         // registries that could not be read, and why
	regression string           // the operator's reason to run a lower version
	highest    RegistryRecord   // the completed live record of the highest version, with regression
}

// readRegistries opens the environment's store (live and rehearsal runs
// only: a dry run touches nothing) and reads its registry; for a live run
// in a protected environment, also the registry of every other
// environment the runbook declares, read-only (an unprotected run never
// reaches another environment's store). A protected
// environment whose own store or registry cannot be read is refused (its
// rules cannot be checked); any other unreadable registry is noted (a
// journaled warning) and the session goes on.
func readRegistries(ctx context.Context, cfg Config, env *runbook.Environment) (registryStart, error) {
	var rs registryStart
	if cfg.Mode == ModeDryRun || cfg.Stores == nil {
		return rs, nil
	}
	others := env.Protected && cfg.Mode == ModeLive // the rehearsal rules need the other registries
	for _, e := range cfg.Runbook.Environments {
		if e.Store == nil || (e.Name != env.Name && !others) {
			continue
		}
		st, err := openSpec(ctx, cfg, e.Store)
		if err != nil {
			if e.Name == env.Name && env.Protected {
				return rs, fmt.Errorf("read the registry of %s: %w", e.Name, err)
			}
			rs.unread = append(rs.unread, fmt.Sprintf("%s (%v)", e.Name, err))
			continue
		}
		recs, err := readRegistry(ctx, st, e.Name)
		if e.Name == env.Name {
			rs.store = st
		} else {
			_ = st.Close()
		}
		if err != nil {
			if e.Name == env.Name && env.Protected {
				_ = st.Close()
				return registryStart{}, fmt.Errorf("read the registry of %s: %w", e.Name, err)
			}
			rs.unread = append(rs.unread, fmt.Sprintf("%s (%v)", e.Name, err))
			continue
		}
		rs.records = append(rs.records, recs...)
	}
	SortRegistry(rs.records)
	return rs, nil
}

func openSpec(ctx context.Context, cfg Config, spec *runbook.StoreSpec) (Store, error) {
	exp, err := spec.Expanded(cfg.Getenv)
	if err != nil {
		return nil, err
	}
	return cfg.Stores(ctx, exp)
}

func readRegistry(ctx context.Context, st Store, env string) ([]RegistryRecord, error) {
	reg, ok := st.(Registrar)
	if !ok {
		return nil, nil
	}
	return reg.Registry(ctx, env)
}

// checkVersions applies the environment's registry to a run of the
// runbook there: a version that completed there with another SHA-256 is
// refused (ErrRegistryRefused, no override: a completed version is
// frozen, as flyway's checksums are — give the edit a new version); a
// live run of a version lower than the highest completed live one needs
// the operator's reason (answers key "version_regression").
func (rs *registryStart) checkVersions(ctx context.Context, cfg Config, env *runbook.Environment) error {
	rb := cfg.Runbook
	var highest *RegistryRecord
	for i, r := range rs.records {
		if r.Env != env.Name || r.Runbook != rb.Name || r.Outcome != OutcomeCompleted {
			continue
		}
		if r.Version == rb.Version && r.SHA256 != rb.SHA256 {
			return fmt.Errorf("%w: version %d of %s completed in %s in session %s (%s, %s) with SHA-256 %.12s; this runbook is %.12s: "+
				"a completed version is never changed: give the edited runbook a new version:",
				ErrRegistryRefused, r.Version, rb.Name, env.Name, r.SessionID, r.Mode, r.Ended.UTC().Format(time.RFC3339), r.SHA256, rb.SHA256)
		}
		if r.Mode == ModeLive && (highest == nil || r.Version > highest.Version) {
			highest = &rs.records[i]
		}
	}
	if cfg.Mode != ModeLive || highest == nil || rb.Version >= highest.Version {
		return nil
	}
	held := fmt.Sprintf("the %s registry holds version %d of %s completed live in session %s; this runbook is version %d",
		env.Name, highest.Version, rb.Name, highest.SessionID, rb.Version)
	ans, err := cfg.Prompter.Ask(ctx, Prompt{
		Kind:  PromptReason,
		Title: "version regression: why run an older version?",
		Text:  fmt.Sprintf("The %s registry holds version **%d** of **%s** completed live (session %s); this runbook is version **%d**.", env.Name, highest.Version, rb.Name, highest.SessionID, rb.Version),
		Key:   "version_regression",
	})
	if err != nil {
		return fmt.Errorf("version regression: %s: %w", held, err)
	}
	if ans.Reason == "" {
		return fmt.Errorf("version regression: %s: %w", held, ErrReasonRequired)
	}
	rs.regression, rs.highest = ans.Reason, *highest
	return nil
}

// rehearsalFor returns the newest completed rehearsal of rb's SHA-256 the
// registries hold, if any.
func (rs *registryStart) rehearsalFor(rb *runbook.Runbook) (RegistryRecord, bool) {
	for _, r := range rs.records {
		if r.Runbook == rb.Name && r.SHA256 == rb.SHA256 && r.Mode == ModeRehearsal && r.Outcome == OutcomeCompleted && r.ItemsPerSec > 0 {
			return r, true
		}
	}
	return RegistryRecord{}, false
}

// journal records the overrides and notes, then the session's start in
// its environment's registry: all before the first step acts. A start
// that cannot be recorded refuses a protected environment's session and
// is a journaled warning otherwise.
func (rs *registryStart) journal(ctx context.Context, s *Session) error {
	if rs.regression != "" {
		if err := s.emit(ctx, NewEvent("", Confirmed{What: "version_regression", Value: rs.regression})); err != nil {
			return err
		}
	}
	for _, u := range rs.unread {
		if err := s.emit(ctx, NewEvent("", Warning{Message: "registry not read: " + u})); err != nil {
			return err
		}
	}
	if rs.store == nil {
		return nil
	}
	err := s.recordStart(ctx, rs.store)
	if err != nil && !s.env.Protected { // noted; a protected environment is refused
		return s.emit(ctx, NewEvent("", Warning{Message: "registry: " + err.Error()}))
	}
	return err
}
