package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/lockstep-run/lockstep/runbook"
)

// RegistryRecord is one session's entry in the registry an environment's
// store keeps (like flyway_schema_history): what ran there, how it ended,
// and the session's final journal head, which anchors the journal outside
// its file (see CheckRegistry). Dry runs touch nothing and are never
// recorded.
type RegistryRecord struct {
	Runbook   string    // runbook name
	Version   int       // runbook version:
	SHA256    string    // runbook file's SHA-256
	Env       string    // environment name
	Mode      Mode      // live or rehearsal
	Outcome   Outcome   // running until the session ends
	SessionID string    // the journal's session id
	Operator  string    // who started it
	Host      string    // where it ran
	Started   time.Time // when the session started
	Ended     time.Time // zero while running
	Migrated  int64     // items written by its forward migrate steps
	Head      string    // hash of the session's last journaled event at its end
	Events    int64     // seq of that event (0 while running)
	// Journal is where the session is journaled, "host:/absolute/path"
	// (see JournalID): `journal verify --env` reports a session missing
	// from the journal only when the registry says that journal held it.
	Journal string
	// ItemsPerSec and AvgItemB are the first forward migrate step's
	// measured throughput and mean item size: what an estimate in another
	// environment scales (see Session.RehearsalRecord).
	ItemsPerSec float64
	AvgItemB    int64
}

// Registrar is the optional store capability of keeping the registry, a
// small table or item collection next to the data. Every write is
// conditional, so two processes recording the same session agree or one
// of them fails.
type Registrar interface {
	// RecordStart records r as running when the registry holds no record
	// of r.SessionID in r.Env; a record that exists (a resumed session)
	// is marked running again, keeping its last head. Idempotent.
	RecordStart(ctx context.Context, r RegistryRecord) error
	// RecordEnd records how the session ended and its head: once per
	// end. The same end again is a no-op; an end with fewer events than
	// recorded is stale and ignored; the same events count with another
	// head fails with ErrAnchorConflict. A missing record is created.
	RecordEnd(ctx context.Context, r RegistryRecord) error
	// Registry returns every record of env, newest start first. A store
	// that never recorded one returns none, and writes nothing.
	Registry(ctx context.Context, env string) ([]RegistryRecord, error)
}

// ErrRegistryRefused: the registry of the environment forbids the run
// (a version that completed there with other content).
var ErrRegistryRefused = errors.New("refused by the environment's registry")

// SortRegistry orders records newest start first (session id breaks ties).
func SortRegistry(rs []RegistryRecord) {
	slices.SortStableFunc(rs, func(a, b RegistryRecord) int {
		if c := b.Started.Compare(a.Started); c != 0 {
			return c
		}
		switch {
		case a.SessionID > b.SessionID:
			return -1
		case a.SessionID < b.SessionID:
			return 1
		}
		return 0
	})
}

// registryStart is the record of s as it starts.
func (s *Session) registryRecord() RegistryRecord {
	host, _ := os.Hostname()
	return RegistryRecord{
		Runbook: s.rb.Name, Version: s.rb.Version, SHA256: s.rb.SHA256, Env: s.env.Name,
		Mode: s.cfg.Mode, Outcome: OutcomeRunning, SessionID: s.info.ID, Operator: s.info.Operator,
		Host: host, Started: s.info.Started, Journal: JournalID(host, s.cfg.Journal),
	}
}

// JournalID names a journal for the registry: "host:/absolute/path" of
// its file ("" for a journal without a path).
func JournalID(host string, j Journal) string {
	p, ok := j.(interface{ Path() string })
	if !ok || p.Path() == "" {
		return ""
	}
	abs, err := filepath.Abs(p.Path())
	if err != nil {
		abs = p.Path()
	}
	return host + ":" + abs
}

// recordStart writes the session's start to its environment's registry
// (st, opened at start), before the first step acts.
func (s *Session) recordStart(ctx context.Context, st Store) error {
	reg, ok := st.(Registrar)
	if !ok || s.cfg.Mode == ModeDryRun {
		return nil
	}
	if err := reg.RecordStart(ctx, s.registryRecord()); err != nil {
		return fmt.Errorf("record the session's start in the %s registry: %w", s.env.Name, err)
	}
	return nil
}

// recordResume marks a resumed session running again in its
// environment's registry (live and rehearsal runs with a store). A store
// that cannot be opened or written does not stop the resume — the session
// may have to finish or roll back —: a journaled warning says so, and the
// end is recorded when Run returns if the store opens by then.
func (s *Session) recordResume(ctx context.Context) error {
	if s.cfg.Mode == ModeDryRun || s.env.Store == nil || s.cfg.Stores == nil {
		return nil
	}
	st, err := s.envStore(ctx)
	if err == nil {
		err = s.recordStart(ctx, st)
	}
	if err != nil {
		return s.emit(ctx, NewEvent("", Warning{Message: "registry: " + err.Error()}))
	}
	return nil
}

// recordEnd writes the session's end, its final journal head and counts
// to its environment's registry, when the session opened that store (it
// is still open) and the store keeps one. It runs whatever the outcome.
func (s *Session) recordEnd(ctx context.Context) error {
	s.storeMu.Lock()
	st := s.store
	s.storeMu.Unlock()
	reg, ok := st.(Registrar)
	if !ok || s.cfg.Mode == ModeDryRun {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	info, err := s.cfg.Journal.Session(ctx, s.info.ID)
	if err != nil {
		return fmt.Errorf("record the session's end in the registry: %w", err)
	}
	evs, err := s.cfg.Journal.Events(ctx, s.info.ID)
	if err != nil {
		return fmt.Errorf("record the session's end in the registry: %w", err)
	}
	r := s.registryRecord()
	r.Operator, r.Started = info.Operator, info.Started
	r.Outcome, r.Ended, r.Head, r.Events = EndedOutcome(evs), s.cfg.Clock.Now(), info.Head, info.Events
	r.Migrated, r.ItemsPerSec, r.AvgItemB = migratedIn(s.rb, evs)
	if err := reg.RecordEnd(ctx, r); err != nil {
		return fmt.Errorf("record the session's end in the %s registry: %w", s.env.Name, err)
	}
	return nil
}

// migrateFigures are the fields of a migrate step's result
// (engine/migrate.Result, journaled with step.end) the registry
// records.
type migrateFigures struct {
	Migrated    int64   `json:"migrated"`
	Rollback    bool    `json:"rollback,omitempty"`
	DryRun      bool    `json:"dry_run,omitempty"`
	ItemsPerSec float64 `json:"items_per_sec"`
	AvgItemB    int64   `json:"avg_item_bytes"`
}

// migratedIn sums the items the forward migrate steps of a session wrote,
// and returns the first one's measured throughput and item size.
func migratedIn(rb *runbook.Runbook, evs []Event) (migrated int64, perSec float64, avgB int64) {
	for _, ev := range evs {
		if ev.Kind != EvStepEnd {
			continue
		}
		if st := rb.Step(ev.Step); st == nil || st.Kind != runbook.KindMigrate {
			continue
		}
		end, err := DecodeAs[StepEnded](ev)
		if err != nil || len(end.Result) == 0 {
			continue
		}
		var res migrateFigures
		if json.Unmarshal(end.Result, &res) != nil || res.Rollback || res.DryRun {
			continue
		}
		migrated += res.Migrated
		if perSec == 0 && res.ItemsPerSec > 0 {
			perSec, avgB = res.ItemsPerSec, res.AvgItemB
		}
	}
	return migrated, perSec, avgB
}

// RegistryAnchors turns registry records into the anchors CheckAnchors
// compares with a journal: one per ended record.
func RegistryAnchors(rs []RegistryRecord) []Anchor {
	var out []Anchor
	for _, r := range rs {
		if r.Events == 0 {
			continue // running, or its end was never recorded
		}
		out = append(out, Anchor{SessionID: r.SessionID, Runbook: r.Runbook, Env: r.Env,
			Head: r.Head, Events: r.Events, Time: r.Ended})
	}
	return out
}
