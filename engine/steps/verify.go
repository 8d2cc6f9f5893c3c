package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/migrate"
)

// defaultVerifySample is how many items an assert checks without a sample.
const defaultVerifySample = 1000

// ErrVerifyFailed marks a verify step whose checks did not hold.
var ErrVerifyFailed = errors.New("verification failed")

// VerifyStepResult is the result of a verify step (VerifyResult is the journal's hash-chain check).
type VerifyStepResult struct {
	Passed     bool               `json:"passed"`
	ExpectNone *ExpectNoneOutcome `json:"expect_none,omitempty"`
	Assert     *AssertOutcome     `json:"assert,omitempty"`
	Backup     *CountOutcome      `json:"backup,omitempty"`
	Copy       *migrate.CopyCheck `json:"copy,omitempty"`
}

// ExpectNoneOutcome: items still matching expect_none over a full scan.
type ExpectNoneOutcome struct {
	Expr     string   `json:"expr"`
	Scanned  int64    `json:"scanned"`
	Matching int64    `json:"matching"`
	Errors   int64    `json:"errors,omitempty"` // of Matching: items the expression failed on
	Keys     []string `json:"keys,omitempty"`   // up to 10; "key (error)" for an error
}

// AssertOutcome: the assertion over a sample.
type AssertOutcome struct {
	Expr    string   `json:"expr"`
	Sampled int64    `json:"sampled"`
	Failed  int64    `json:"failed"`
	Errors  int64    `json:"errors,omitempty"` // of Failed: items the expression failed on
	Keys    []string `json:"keys,omitempty"`   // first failing keys, up to 10; "key (error)" for an error
}

// CountOutcome compares the count in a backup manifest (before) with the
// table now (after).
type CountOutcome struct {
	Step   string `json:"step"`
	Before int64  `json:"before"`
	After  int64  `json:"after"`
	Match  bool   `json:"match"`
}

// runVerify runs expect_none (full scan), assert (sample) and the backup
// count comparison; a count difference is a warning (the application may
// have written meanwhile), the two others fail the step.
func runVerify(ctx context.Context, sc *engine.StepContext) (any, error) {
	spec := sc.Step.Verify
	if spec == nil {
		return nil, fmt.Errorf("verify %s: no spec", sc.Step.ID)
	}
	st, err := sc.EnvStore(ctx)
	if err != nil {
		return nil, err
	}
	info, err := st.Describe(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify %s: describe table: %w", sc.Step.ID, err)
	}
	res := VerifyStepResult{Passed: true}
	var fails []string
	if spec.ExpectNone != nil || spec.Backup != "" {
		if fails, err = verifyScan(ctx, sc, st, info, &res); err != nil {
			return nil, fmt.Errorf("verify %s: %w", sc.Step.ID, err)
		}
	}
	if spec.Assert != nil {
		out, err := verifyAssert(ctx, sc, st, info.Key)
		if err != nil {
			return nil, fmt.Errorf("verify %s: %w", sc.Step.ID, err)
		}
		res.Assert = out
		if out.Failed > 0 {
			fails = append(fails, fmt.Sprintf("%d of %d sampled items fail %q%s (first: %s)",
				out.Failed, out.Sampled, out.Expr, erroredNote(out.Errors), strings.Join(out.Keys, "; ")))
		}
	}
	if spec.Copy != "" {
		out, err := migrate.VerifyCopy(ctx, sc, spec.Copy, spec.Sample)
		if err != nil {
			return nil, fmt.Errorf("verify %s: %w", sc.Step.ID, err)
		}
		res.Copy = out
		if !out.Passed() {
			fails = append(fails, out.Failure())
		}
	}
	res.Passed = len(fails) == 0
	if sc.Emit != nil {
		_ = sc.Emit(engine.NewEvent(sc.Step.ID, engine.Result{Value: res}))
	}
	if !res.Passed {
		if sc.Mode == engine.ModeDryRun {
			// A dry-run migrated nothing, so its verification reports what a
			// live run would have to fix instead of stopping the rehearsal.
			_ = sc.EmitWarning(engine.Warning{Message: "dry-run: verification would fail: " + strings.Join(fails, "; ")})
			return res, nil
		}
		return res, fmt.Errorf("verify %s: %w: %s", sc.Step.ID, ErrVerifyFailed, strings.Join(fails, "; "))
	}
	return res, nil
}

// verifyScan does one full scan for expect_none and the current count.
func verifyScan(ctx context.Context, sc *engine.StepContext, st engine.Store, info engine.TableInfo, res *VerifyStepResult) ([]string, error) {
	spec := sc.Step.Verify
	env := migrate.NewItemEnv(sc, spec.ExpectNone)
	var count int64
	var en *ExpectNoneOutcome
	if spec.ExpectNone != nil {
		en = &ExpectNoneOutcome{Expr: spec.ExpectNone.Source}
	}
	prog := engine.NewItemProgress(sc, info.ItemCount)
	err := migrate.ScanAllConsistent(ctx, sc.ClockOrSystem(), prog.Counting(st), migrate.DataSegments, 0, func(items []engine.Item) error {
		count += int64(len(items))
		if en == nil {
			return nil
		}
		for _, it := range items {
			// An item the expression fails on counts as matching: verify
			// cannot tell that it is done, so it does not pass.
			ok, err := env.EvalBool(spec.ExpectNone, it)
			if err == nil && !ok {
				continue
			}
			en.Matching++
			if err != nil {
				en.Errors++
			}
			if len(en.Keys) < migrate.MaxListedKeys {
				en.Keys = append(en.Keys, listedKey(it, info.Key, err))
			}
		}
		en.Scanned += int64(len(items))
		return nil
	})
	if err != nil {
		return nil, err
	}
	prog.Finish()
	var fails []string
	if en != nil {
		res.ExpectNone = en
		if en.Matching > 0 {
			fails = append(fails, fmt.Sprintf("%d items still match %q%s (first: %s)",
				en.Matching, en.Expr, erroredNote(en.Errors), strings.Join(en.Keys, "; ")))
		}
	}
	if spec.Backup != "" {
		if _, ran := sc.Results[spec.Backup]; !ran && sc.Mode == engine.ModeDryRun {
			// Backups are skipped in dry-run: nothing to compare with.
			_ = sc.EmitOutput(fmt.Sprintf("items: %d now (backup %s not taken in dry-run: no comparison)", count, spec.Backup))
			return fails, nil
		}
		br, err := backupResult(sc, spec.Backup)
		if err != nil {
			return nil, err
		}
		res.Backup = &CountOutcome{Step: spec.Backup, Before: br.ItemCount, After: count, Match: br.ItemCount == count}
		msg := fmt.Sprintf("items: %d before (backup %s), %d now", br.ItemCount, spec.Backup, count)
		if res.Backup.Match {
			_ = sc.EmitOutput(msg)
		} else {
			_ = sc.EmitWarning(engine.Warning{Message: "item count changed since the backup: " + msg})
		}
	}
	return fails, nil
}

// verifyAssert checks the assertion over the first `sample` items.
func verifyAssert(ctx context.Context, sc *engine.StepContext, st engine.Store, key []string) (*AssertOutcome, error) {
	spec := sc.Step.Verify
	n := int64(spec.Sample)
	if n <= 0 {
		n = defaultVerifySample
	}
	env := migrate.NewItemEnv(sc, spec.Assert)
	out := &AssertOutcome{Expr: spec.Assert.Source}
	err := migrate.ScanAllConsistent(ctx, sc.ClockOrSystem(), st, 1, int(min(n, 1000)), func(items []engine.Item) error {
		for _, it := range items {
			if out.Sampled >= n {
				return migrate.ErrStopScan
			}
			out.Sampled++
			ok, err := env.EvalBool(spec.Assert, it)
			if err == nil && ok {
				continue
			}
			out.Failed++
			if err != nil {
				out.Errors++
			}
			if len(out.Keys) < migrate.MaxListedKeys {
				out.Keys = append(out.Keys, listedKey(it, key, err))
			}
		}
		return nil
	})
	return out, err
}

// listedKey names an item in a verify outcome: its key, and the error the
// expression got on it, if any.
func listedKey(it engine.Item, key []string, err error) string {
	k := migrate.KeyString(engine.KeyOf(it, key), key)
	if err != nil {
		k += " (" + firstLine(err) + ")"
	}
	return k
}

// erroredNote says how many of the counted items the expression failed on.
func erroredNote(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d of them because the expression failed on them", n)
}

// firstLine is err's message up to its first line break (expr-lang adds
// the expression and a caret on the following lines).
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
