package steps

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// A restore step is plan B: it puts the items of a backup's logical export
// back into the live table, but only those still exactly as the migration
// left them. The guard is recomputed, not assumed: for each backed-up item
// B the step runs the session's migrate steps (their own where and set,
// rename, remove; migrate.MigrationPlan) to get E, what the migration made
// of B, and reads the live item L:
//
//   - L equals B: nothing to do (never migrated, or restored already);
//   - L equals E: restorable; written back to B with a guard on every
//     attribute of L and its version, so a write racing the restore fails
//     the condition and the item is classified again;
//   - anything else (an application wrote it since, or deleted it): a
//     conflict, for the operator to decide once, with counts and sample
//     diffs: restore anyway, keep current, or abort (answers-file key
//     "<step>.choice").
//
// The step works in two passes over the export: the first only reads and
// classifies (a dry run stops there), the second writes, rate-limited, with
// a write-ahead checkpoint before each batch (its first line, the counts so
// far and the key hashes of the batch's planned writes). A resumed step
// skips to the checkpoint and redoes the batch: an item the interrupted
// attempt restored now equals its backup and is counted as restored
// (recovered) if its key is in the intent, never written twice.

// Restore decisions on conflicts.
const (
	RestoreAnyway = "restore"
	RestoreKeep   = "keep"
	RestoreAbort  = "abort"
)

// ErrRestoreAborted marks a restore the operator aborted on its conflicts.
var ErrRestoreAborted = errors.New("restore aborted on conflicts")

// RestoreResult is the result of a restore step.
type RestoreResult struct {
	From      string        `json:"from"`
	Manifest  string        `json:"manifest"`
	Table     string        `json:"table"`
	Guard     string        `json:"guard"`     // how "as the migration left it" was decided
	Backup    int64         `json:"backup"`    // items in the backup
	Restored  int64         `json:"restored"`  // written back to their backed-up state
	Unchanged int64         `json:"unchanged"` // already as in the backup
	Conflicts int64         `json:"conflicts"` // changed (or deleted) since the migration
	Deleted   int64         `json:"deleted"`   // of the conflicts, items no longer in the table
	Forced    int64         `json:"forced"`    // conflicts restored anyway
	Kept      int64         `json:"kept"`      // conflicts left as they are
	Recovered int64         `json:"recovered,omitempty"`
	Decision  string        `json:"decision,omitempty"`
	Reason    string        `json:"reason,omitempty"`
	DryRun    bool          `json:"dry_run,omitempty"`
	Resumed   bool          `json:"resumed,omitempty"`
	Samples   []RestoreDiff `json:"samples,omitempty"`
	ElapsedMS int64         `json:"elapsed_ms"`
}

// restoreSamples is how many conflict and restore diffs a result keeps.
const restoreSamples = 5

// runRestore restores a backup into the live table (see above), or, with
// native: true, into a new table (restore_native.go).
func runRestore(ctx context.Context, sc *engine.StepContext) (any, error) {
	spec := sc.Step.Restore
	if spec == nil {
		return nil, fmt.Errorf("restore %s: no spec", sc.Step.ID)
	}
	if _, ran := sc.Results[spec.From]; !ran && spec.From != "" && sc.Mode == engine.ModeDryRun {
		// A dry run skips the backup step: there is nothing to compare.
		return nil, &engine.SkipError{Reason: "dry run: backup " + spec.From + " was not taken, so there is nothing to restore or compare"}
	}
	if spec.Native {
		return runNativeRestore(ctx, sc, spec)
	}
	r, err := newRestorer(ctx, sc, spec)
	if err != nil {
		return nil, fmt.Errorf("restore %s: %w", sc.Step.ID, err)
	}
	res, err := r.run(ctx)
	res.ElapsedMS = time.Since(r.started).Milliseconds()
	if err != nil {
		return res, fmt.Errorf("restore %s: %w", sc.Step.ID, err)
	}
	return res, nil
}

// migrateChain is the migrate steps whose writes the restore undoes, in
// run order: the step it is the rollback of and the forward migrate steps
// before it that ran, or, as a step of its own, every migrate step before
// it that completed.
func migrateChain(sc *engine.StepContext) []*runbook.Step {
	var chain []*runbook.Step
	for _, s := range sc.Runbook.Steps() {
		if sc.Of != nil && s.ID == sc.Of.ID {
			if s.Kind == runbook.KindMigrate {
				chain = append(chain, s)
			}
			break
		}
		if sc.Of == nil && s.ID == sc.Step.ID {
			break
		}
		if _, done := sc.Results[s.ID]; done && s.Kind == runbook.KindMigrate {
			chain = append(chain, s)
		}
	}
	return chain
}
