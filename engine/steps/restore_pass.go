package steps

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/throttle"
	"github.com/lockstep-run/lockstep/runbook"
)

// restoreMaxRetries is how often one item is read and classified again
// after its guarded write failed the condition.
const restoreMaxRetries = 3

// restorer runs one logical restore step.
type restorer struct {
	sc      *engine.StepContext
	spec    *runbook.RestoreSpec
	st      engine.Store
	key     []string
	vattr   string
	plan    *migrate.MigrationPlan
	man     ExportManifest
	lim     *throttle.WriteLimiter
	res     RestoreResult
	started time.Time
	// conflicts holds the key hashes of the conflicts the operator
	// decided on (pass 1): a "restore anyway" covers those alone.
	conflicts map[uint64]struct{}
	redo      map[uint64]struct{} // the interrupted batch's intent
}

// restoreCheckpoint is saved before each batch of the writing pass.
type restoreCheckpoint struct {
	Line      int64    `json:"line"` // first export line of the batch (1-based)
	Decision  string   `json:"decision,omitempty"`
	Reason    string   `json:"reason,omitempty"`
	Conflicts []byte   `json:"conflicts,omitempty"` // first checkpoint only: 8-byte key hashes
	Intent    []byte   `json:"intent,omitempty"`    // 8-byte key hashes of the batch's writes
	Counts    restoreN `json:"counts"`
}

// restoreN are the counts a checkpoint carries.
type restoreN struct {
	Restored, Unchanged, Conflicts, Deleted, Forced, Kept, Recovered int64
}

func newRestorer(ctx context.Context, sc *engine.StepContext, spec *runbook.RestoreSpec) (*restorer, error) {
	br, err := backupResult(sc, spec.From)
	if err != nil {
		return nil, err
	}
	man, err := ReadManifest(br.Manifest)
	if err != nil {
		return nil, err
	}
	st, err := sc.EnvStore(ctx)
	if err != nil {
		return nil, err
	}
	chain := migrateChain(sc)
	plan, err := migrate.NewMigrationPlan(sc, man.Key, chain)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(chain))
	for i, s := range chain {
		ids[i] = s.ID
	}
	guard := "live item equals the backup as migrated by " + strings.Join(ids, ", ")
	if len(ids) == 0 {
		guard = "no migrate step ran: every item that differs from the backup is a conflict"
	}
	r := &restorer{sc: sc, spec: spec, st: st, key: man.Key, vattr: plan.VersionAttr(), plan: plan, man: man,
		lim: throttle.NewWriteLimiter(sc.WriteCeiling()), started: time.Now()}
	r.res = RestoreResult{From: spec.From, Manifest: br.Manifest, Table: man.Table, Guard: guard,
		Backup: man.ItemCount, DryRun: sc.Mode == engine.ModeDryRun, Resumed: sc.Resumed}
	return r, nil
}

func (r *restorer) run(ctx context.Context) (RestoreResult, error) {
	cp, err := r.lastCheckpoint(ctx)
	if err != nil {
		return r.res, err
	}
	if err := r.sc.EmitOutput(fmt.Sprintf("restoring %d items of %s from backup %s; guard: %s", r.man.ItemCount, r.man.Table, r.spec.From, r.res.Guard)); err != nil {
		return r.res, err
	}
	if cp == nil {
		decision, err := r.classifyAll(ctx)
		if err != nil || r.res.DryRun || decision == "" {
			return r.res, err
		}
		cp = &restoreCheckpoint{Line: 1, Decision: decision, Reason: r.res.Reason}
		if decision == RestoreAnyway {
			cp.Conflicts = hashBytes(r.conflicts)
		}
		r.res.Restored, r.res.Unchanged, r.res.Conflicts, r.res.Deleted = 0, 0, 0, 0
	} else {
		if err := r.sc.EmitOutput(fmt.Sprintf("resuming at line %d of the export (decision on conflicts: %s)", cp.Line, cp.Decision)); err != nil {
			return r.res, err
		}
		r.restoreCounts(cp.Counts)
	}
	r.res.Decision = cp.Decision
	r.res.Samples = nil
	return r.res, r.write(ctx, cp)
}

// classifyAll is the first pass: it reads every backed-up item and its
// live version, counts the classes and keeps samples, writes nothing. It
// returns the decision on conflicts ("" for a dry run, RestoreKeep when
// there are none); RestoreAbort is an error.
func (r *restorer) classifyAll(ctx context.Context) (string, error) {
	r.conflicts = map[uint64]struct{}{}
	prog := engine.NewItemProgress(r.sc, r.man.ItemCount)
	err := r.scanExport(ctx, 1, func(batch []engine.Item, _ int64) error {
		for _, b := range batch {
			live, ok, err := r.st.Get(ctx, engine.KeyOf(b, r.key))
			if err != nil {
				return fmt.Errorf("read %s: %w", r.keyString(b), err)
			}
			class, migrated, err := r.classify(b, live, ok)
			if err != nil {
				return err
			}
			r.count(class, ok, b, live, migrated)
			if class == classConflict {
				r.conflicts[r.hash(b)] = struct{}{}
			}
		}
		prog.Add(len(batch))
		return nil
	})
	if err != nil {
		return "", err
	}
	prog.Finish()
	summary := fmt.Sprintf("%d items in the backup: %d to restore, %d already as in the backup, %d conflicts (%d deleted since)",
		r.man.ItemCount, r.res.Restored, r.res.Unchanged, r.res.Conflicts, r.res.Deleted)
	if err := r.sc.EmitOutput(summary); err != nil {
		return "", err
	}
	for _, s := range r.res.Samples {
		if err := r.sc.EmitOutput(s.String()); err != nil {
			return "", err
		}
	}
	if r.res.DryRun {
		return "", nil
	}
	if r.res.Conflicts == 0 {
		return RestoreKeep, nil
	}
	return r.decide(ctx, summary)
}

// count adds one classified item to the counts and, while there is room,
// to the samples.
func (r *restorer) count(class restoreClass, found bool, b, live, migrated engine.Item) {
	name := "restore"
	switch class {
	case classUnchanged:
		r.res.Unchanged++
		return
	case classRestorable:
		r.res.Restored++
	case classConflict:
		r.res.Conflicts++
		name = "conflict"
		if !found {
			r.res.Deleted++
			name = "deleted"
		}
	}
	n := 0
	for _, s := range r.res.Samples {
		if s.Class == name || name != "restore" && s.Class != "restore" {
			n++
		}
	}
	if n < restoreSamples {
		r.res.Samples = append(r.res.Samples, sampleOf(r.keyString(b), name, b, live, migrated))
	}
}

// decide asks the operator what to do with the conflicts and journals it.
func (r *restorer) decide(ctx context.Context, summary string) (string, error) {
	var text strings.Builder
	text.WriteString("Some items were updated since the migration. " + summary + ".\n\n")
	for _, s := range r.res.Samples {
		if s.Class != "restore" {
			text.WriteString("- " + s.String() + "\n")
		}
	}
	text.WriteString("\nrestore: put the backed-up values over them too; keep: leave them as they are now; abort: restore nothing.")
	choices := []string{RestoreAnyway, RestoreKeep, RestoreAbort}
	ans, err := askValid(ctx, r.sc, engine.Prompt{
		Kind: engine.PromptDecision, Title: fmt.Sprintf("%s: %d conflicts", r.sc.Step.ID, r.res.Conflicts),
		Text: text.String(), Choices: choices, Key: r.sc.Step.ID + ".choice",
	}, func(a engine.Answer) string {
		switch {
		case a.Choice != RestoreAnyway && a.Choice != RestoreKeep && a.Choice != RestoreAbort:
			return fmt.Sprintf("choose one of %v (got %q)", choices, a.Choice)
		case a.Reason == "":
			return "a decision needs a rationale (reason)"
		}
		return ""
	})
	if err != nil {
		return "", err
	}
	if r.sc.Emit != nil {
		if err := r.sc.Emit(engine.NewEvent("", engine.Decided{Choice: ans.Choice, Reason: ans.Reason})); err != nil {
			return "", err
		}
	}
	r.res.Decision, r.res.Reason = ans.Choice, ans.Reason
	if ans.Choice == RestoreAbort {
		r.res.Restored = 0 // counted as to restore by the first pass; none was
		return "", fmt.Errorf("%w: %d items changed since the migration; nothing was written", ErrRestoreAborted, r.res.Conflicts)
	}
	return ans.Choice, nil
}

// classify decides what to do with backed-up item b whose live item is
// live (found false: deleted).
func (r *restorer) classify(b, live engine.Item, found bool) (restoreClass, engine.Item, error) {
	if !found {
		return classConflict, nil, nil
	}
	if sameItem(b, live) {
		return classUnchanged, nil, nil
	}
	migrated, wrote, err := r.plan.Apply(b)
	if err != nil {
		// The migration failed this item, so did not write it: live
		// differs from the backup for another reason.
		return classConflict, nil, nil
	}
	if wrote && sameItem(migrated, live) {
		return classRestorable, migrated, nil
	}
	return classConflict, migrated, nil
}

func (r *restorer) keyString(it engine.Item) string {
	return migrate.KeyString(engine.KeyOf(it, r.key), r.key)
}

// hash is the 64-bit hash checkpoints keep of an item's key.
func (r *restorer) hash(it engine.Item) uint64 {
	h := fnv.New64a()
	h.Write([]byte(r.keyString(it)))
	return h.Sum64()
}

func hashBytes(set map[uint64]struct{}) []byte {
	b := make([]byte, 0, 8*len(set))
	for h := range set {
		b = binary.BigEndian.AppendUint64(b, h)
	}
	return b
}

func hashSet(b []byte) map[uint64]struct{} {
	set := make(map[uint64]struct{}, len(b)/8)
	for ; len(b) >= 8; b = b[8:] {
		set[binary.BigEndian.Uint64(b)] = struct{}{}
	}
	return set
}

// scanExport calls fn with batches of the export's items from line from
// on, and the line number of each batch's first item.
func (r *restorer) scanExport(ctx context.Context, from int64, fn func(batch []engine.Item, first int64) error) error {
	size := r.spec.RestoreBatch()
	batch := make([]engine.Item, 0, size)
	var first int64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if r.sc.Control != nil {
			if err := r.sc.Control.Checkpoint(ctx); err != nil {
				return err
			}
		}
		err := fn(batch, first)
		batch = batch[:0]
		return err
	}
	_, _, err := readExport(r.res.Manifest, r.man, func(line int, it engine.Item) error {
		if int64(line) < from {
			return nil
		}
		if len(batch) == 0 {
			first = int64(line)
		}
		batch = append(batch, it)
		if len(batch) == size {
			return flush()
		}
		return ctx.Err()
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("read backup %s: %w", r.spec.From, err)
	}
	return nil
}

// lastCheckpoint reads the decision (from the first checkpoint) and the
// cursor, counts and intent (from the latest) of a resumed step.
func (r *restorer) lastCheckpoint(ctx context.Context) (*restoreCheckpoint, error) {
	if !r.sc.Resumed || r.sc.Journal == nil {
		return nil, nil
	}
	evs, err := r.sc.Journal.Events(ctx, r.sc.Session.ID)
	if err != nil {
		return nil, fmt.Errorf("load checkpoints: %w", err)
	}
	var last *restoreCheckpoint
	for _, ev := range evs {
		if ev.Kind != engine.EvCheckpoint || ev.Step != r.sc.Step.ID {
			continue
		}
		c, err := engine.DecodeAs[engine.Checkpointed](ev)
		var cp restoreCheckpoint
		if err != nil || json.Unmarshal(c.Data, &cp) != nil {
			continue
		}
		if cp.Decision == "" && last != nil {
			cp.Decision, cp.Reason = last.Decision, last.Reason
		}
		if cp.Conflicts == nil && last != nil {
			cp.Conflicts = last.Conflicts
		}
		last = &cp
	}
	if last != nil {
		r.conflicts, r.redo = hashSet(last.Conflicts), hashSet(last.Intent)
		r.res.Reason = last.Reason
	}
	return last, nil
}

func (r *restorer) restoreCounts(n restoreN) {
	r.res.Restored, r.res.Unchanged, r.res.Conflicts, r.res.Deleted = n.Restored, n.Unchanged, n.Conflicts, n.Deleted
	r.res.Forced, r.res.Kept, r.res.Recovered = n.Forced, n.Kept, n.Recovered
}

func (r *restorer) counts() restoreN {
	return restoreN{r.res.Restored, r.res.Unchanged, r.res.Conflicts, r.res.Deleted, r.res.Forced, r.res.Kept, r.res.Recovered}
}

// cursor is a checkpoint's line as bytes.
func cursor(line int64) []byte { return []byte(strconv.FormatInt(line, 10)) }

var errGuardLost = errors.New("item changed while being restored")
