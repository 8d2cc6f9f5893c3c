package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/migrate"
)

// drillBatch is how many items a drill imports per Put.
const drillBatch = 100

// DrillResult is the result of a restore-drill step.
type DrillResult struct {
	From      string `json:"from"`     // backup step id
	Manifest  string `json:"manifest"` // manifest path
	Scratch   string `json:"scratch"`  // scratch table (dropped)
	Expected  int64  `json:"expected"` // manifest item count
	Imported  int64  `json:"imported"`
	Restored  int64  `json:"restored"` // items scanned back from the scratch table
	SHA256    string `json:"sha256"`   // checksum of the restored items
	Match     bool   `json:"match"`
	Dropped   bool   `json:"dropped"`
	ElapsedMS int64  `json:"elapsed_ms"`
}

// ErrDrillMismatch marks a drill whose restored data differs from the backup.
var ErrDrillMismatch = errors.New("restore drill mismatch")

// runDrill restores the export of backup step `from` into a scratch table,
// compares count and checksum with the manifest, and drops the table.
func runDrill(ctx context.Context, sc *engine.StepContext) (any, error) {
	start := time.Now()
	spec := sc.Step.RestoreDrill
	if spec == nil {
		return nil, fmt.Errorf("restore-drill %s: no spec", sc.Step.ID)
	}
	br, err := backupResult(sc, spec.From)
	if err != nil {
		return nil, fmt.Errorf("restore-drill %s: %w", sc.Step.ID, err)
	}
	man, err := ReadManifest(br.Manifest)
	if err != nil {
		return nil, fmt.Errorf("restore-drill %s: %w", sc.Step.ID, err)
	}
	st, err := sc.EnvStore(ctx)
	if err != nil {
		return nil, err
	}
	creator, ok := st.(engine.ScratchCreator)
	if !ok {
		return nil, fmt.Errorf("restore-drill %s: the %s store cannot create scratch tables", sc.Step.ID, sc.Env.Store.Kind)
	}
	res := DrillResult{From: spec.From, Manifest: br.Manifest, Expected: man.ItemCount,
		Scratch: safeName(man.Table + "_drill_" + sessionSuffix(sc.Session.ID))}
	if err := sc.EmitOutput(fmt.Sprintf("restoring %d items of %s into scratch table %s", man.ItemCount, man.Table, res.Scratch)); err != nil {
		return nil, err
	}
	// A drill interrupted by a crash may have left its scratch table.
	_ = creator.DropScratch(ctx, res.Scratch)
	scratch, err := creator.CreateScratch(ctx, res.Scratch)
	if err != nil {
		return nil, fmt.Errorf("restore-drill %s: create scratch table %s: %w", sc.Step.ID, res.Scratch, err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		_ = scratch.Close()
		if derr := creator.DropScratch(dctx, res.Scratch); derr != nil {
			_ = sc.EmitWarning(engine.Warning{Message: "could not drop scratch table " + res.Scratch, Error: derr.Error()})
		}
	}()
	err = drill(ctx, sc, scratch, br.Manifest, man, &res)
	res.Dropped = true // by the deferred drop
	res.ElapsedMS = time.Since(start).Milliseconds()
	if err != nil {
		return res, fmt.Errorf("restore-drill %s: %w", sc.Step.ID, err)
	}
	if sc.Emit != nil {
		_ = sc.Emit(engine.NewEvent(sc.Step.ID, engine.Result{Value: res}))
	}
	return res, nil
}

// drill imports the export into scratch and checks it three ways: the
// file against the manifest, then the restored table against the manifest.
// Each of its two passes (import, scan back) reports its progress.
func drill(ctx context.Context, sc *engine.StepContext, scratch engine.Store, manPath string, man ExportManifest, res *DrillResult) error {
	imported := engine.NewItemProgress(sc, man.ItemCount)
	batch := make([]engine.Item, 0, drillBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := engine.PutRetry(ctx, sc.ClockOrSystem(), scratch, batch); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		res.Imported += int64(len(batch))
		imported.Add(len(batch))
		batch = batch[:0]
		return nil
	}
	n, fileSum, err := readExport(manPath, man, func(_ int, it engine.Item) error {
		batch = append(batch, it)
		if len(batch) == drillBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	imported.Finish()
	if n != man.ItemCount {
		return fmt.Errorf("%w: count mismatch: export has %d items, manifest says %d", ErrDrillMismatch, n, man.ItemCount)
	}
	if fileSum != man.SHA256 {
		return fmt.Errorf("%w: checksum mismatch: export lines sum to %s, manifest says %s", ErrDrillMismatch, fileSum, man.SHA256)
	}
	var sum ItemChecksum
	scanned := engine.NewItemProgress(sc, man.ItemCount)
	err = migrate.ScanAllConsistent(ctx, sc.ClockOrSystem(), scanned.Counting(scratch), migrate.DataSegments, 0, func(items []engine.Item) error {
		for _, it := range items {
			line, err := engine.MarshalItem(it)
			if err != nil {
				return err
			}
			sum.Add(line)
			res.Restored++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("scan scratch table: %w", err)
	}
	scanned.Finish()
	res.SHA256 = sum.Hex()
	if res.Restored != man.ItemCount {
		return fmt.Errorf("%w: count mismatch: restored %d items, manifest says %d", ErrDrillMismatch, res.Restored, man.ItemCount)
	}
	if res.SHA256 != man.SHA256 {
		return fmt.Errorf("%w: checksum mismatch: restored items sum to %s, manifest says %s", ErrDrillMismatch, res.SHA256, man.SHA256)
	}
	res.Match = true
	return nil
}

// sessionSuffix is the last 8 letters/digits of a session id, lowercased.
func sessionSuffix(id string) string {
	s := strings.ToLower(unsafeChars().ReplaceAllString(strings.ReplaceAll(id, "-", ""), ""))
	s = strings.NewReplacer("_", "", ".", "").Replace(s)
	if len(s) > 8 {
		s = s[len(s)-8:]
	}
	return s
}
