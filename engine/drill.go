package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
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
func runDrill(ctx context.Context, sc *StepContext) (any, error) {
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
	st, err := openStore(ctx, sc)
	if err != nil {
		return nil, err
	}
	creator, ok := st.(ScratchCreator)
	if !ok {
		return nil, fmt.Errorf("restore-drill %s: the %s store cannot create scratch tables", sc.Step.ID, sc.Env.Store.Kind)
	}
	res := DrillResult{From: spec.From, Manifest: br.Manifest, Expected: man.ItemCount,
		Scratch: safeName(man.Table + "_drill_" + sessionSuffix(sc.Session.ID))}
	if err := emitOutput(sc, fmt.Sprintf("restoring %d items of %s into scratch table %s", man.ItemCount, man.Table, res.Scratch)); err != nil {
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
			_ = emitWarning(sc, Warning{Message: "could not drop scratch table " + res.Scratch, Error: derr.Error()})
		}
	}()
	err = drill(ctx, sc, scratch, br.Manifest, man, &res)
	res.Dropped = true // by the deferred drop
	res.ElapsedMS = time.Since(start).Milliseconds()
	if err != nil {
		return res, fmt.Errorf("restore-drill %s: %w", sc.Step.ID, err)
	}
	if sc.Emit != nil {
		_ = sc.Emit(NewEvent(sc.Step.ID, Result{res}))
	}
	return res, nil
}

// drill imports the export into scratch and checks it three ways: the
// file against the manifest, then the restored table against the manifest.
// Each of its two passes (import, scan back) reports its progress.
func drill(ctx context.Context, sc *StepContext, scratch Store, manPath string, man ExportManifest, res *DrillResult) error {
	imported := newItemProgress(sc, man.ItemCount)
	batch := make([]Item, 0, drillBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := putRetry(ctx, scratch, batch); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		res.Imported += int64(len(batch))
		imported.add(len(batch))
		batch = batch[:0]
		return nil
	}
	n, fileSum, err := readExport(manPath, man, func(_ int, it Item) error {
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
	imported.finish()
	if n != man.ItemCount {
		return fmt.Errorf("%w: count mismatch: export has %d items, manifest says %d", ErrDrillMismatch, n, man.ItemCount)
	}
	if fileSum != man.SHA256 {
		return fmt.Errorf("%w: checksum mismatch: export lines sum to %s, manifest says %s", ErrDrillMismatch, fileSum, man.SHA256)
	}
	var sum ItemChecksum
	scanned := newItemProgress(sc, man.ItemCount)
	err = scanAllConsistent(ctx, countingStore{scratch, scanned}, dataSegments, 0, func(items []Item) error {
		for _, it := range items {
			line, err := MarshalItem(it)
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
	scanned.finish()
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

// putRetry writes items, retrying throttles and transient errors.
func putRetry(ctx context.Context, st Store, items []Item) error {
	var err error
	for attempt := 0; attempt < maxThrottleRetries; attempt++ {
		if err = st.Put(ctx, items); err == nil || ctx.Err() != nil {
			return err
		}
		if !errors.Is(err, ErrThrottled) && attempt >= maxTransient {
			break
		}
		if serr := sleepCtx(ctx, backoff(attempt)); serr != nil {
			return serr
		}
	}
	return err
}

// sessionSuffix is the last 8 letters/digits of a session id, lowercased.
func sessionSuffix(id string) string {
	s := strings.ToLower(unsafeChars.ReplaceAllString(strings.ReplaceAll(id, "-", ""), ""))
	s = strings.NewReplacer("_", "", ".", "").Replace(s)
	if len(s) > 8 {
		s = s[len(s)-8:]
	}
	return s
}
