package migrate

import (
	"context"
	"fmt"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
)

// CopyCheck is the outcome of a verify step's `copy:` check of a migrate
// step with into.
type CopyCheck struct {
	Step  string `json:"step"`  // the copy step
	Table string `json:"table"` // the table it copied into
	// Source counts the source items the copy selects (where), Target
	// the items the new table holds: they must be equal.
	Source int64 `json:"source"`
	Target int64 `json:"target"`
	// Checked source items were looked up under their new key: Missing
	// were not found, Different held other attributes, Newer held a
	// newer version (the application's: not compared).
	Checked   int64    `json:"checked"`
	Missing   int64    `json:"missing"`
	Different int64    `json:"different"`
	Newer     int64    `json:"newer,omitempty"`
	Keys      []string `json:"keys,omitempty"` // first defects, "source → target (why)"
}

// Passed reports whether the copy is complete and faithful.
func (c *CopyCheck) Passed() bool {
	return c.Missing == 0 && c.Different == 0 && c.Source == c.Target
}

// Failure says what did not hold.
func (c *CopyCheck) Failure() string {
	var parts []string
	if c.Source != c.Target {
		parts = append(parts, fmt.Sprintf("%s holds %d items, the copy selects %d source items", c.Table, c.Target, c.Source))
	}
	if c.Missing+c.Different > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d checked items missing and %d different under their new key (first: %s)",
			c.Missing, c.Checked, c.Different, strings.Join(c.Keys, "; ")))
	}
	return "copy " + c.Step + ": " + strings.Join(parts, "; ")
}

// VerifyCopy checks the copy made by the migrate step named step (with
// into): it counts the source items the copy selects and the items of
// the new table, and looks up each source item (the first sample of them
// when sample > 0) under its new key, which must hold it with equal
// attributes at the runbook's version (or a newer version, left
// uncompared).
func VerifyCopy(ctx context.Context, sc *engine.StepContext, step string, sample int) (*CopyCheck, error) {
	of := sc.Runbook.Step(step)
	if of == nil || !of.Migrate.Copy() {
		return nil, fmt.Errorf("copy %s: not a migrate step with into", step)
	}
	csc := *sc
	csc.Step, csc.Rollback, csc.Of = of, false, nil
	c, err := newCopier(ctx, &csc)
	if err != nil {
		return nil, err
	}
	out := &CopyCheck{Step: step, Table: c.table}
	env := c.env()
	err = ScanAllConsistent(ctx, sc.ClockOrSystem(), c.src, DataSegments, 0, func(items []engine.Item) error {
		for _, it := range items {
			p := planCopy(env, c.spec, c.vattr, c.version, it)
			if p.out == outNotMatched {
				continue
			}
			out.Source++
			if sample > 0 && out.Checked >= int64(sample) {
				continue
			}
			out.Checked++
			if err := c.checkOne(ctx, out, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("copy %s: scan %s: %w", step, c.srcTable, err)
	}
	err = ScanAllConsistent(ctx, sc.ClockOrSystem(), c.dst, DataSegments, 0, func(items []engine.Item) error {
		out.Target += int64(len(items))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("copy %s: scan %s: %w", step, c.table, err)
	}
	return out, nil
}

// checkOne looks p's item up under its new key.
func (c *copier) checkOne(ctx context.Context, out *CopyCheck, p copyPlan) error {
	from := KeyString(engine.KeyOf(p.src, c.srcKey), c.srcKey)
	defect := func(n *int64, why string) {
		*n++
		if len(out.Keys) < MaxListedKeys {
			out.Keys = append(out.Keys, why)
		}
	}
	if p.out == outFailed {
		defect(&out.Different, fmt.Sprintf("%s (%v)", from, p.err))
		return nil
	}
	to := KeyString(engine.KeyOf(p.item, c.dstKey), c.dstKey)
	got, ok, err := c.get(ctx, c.dst, engine.KeyOf(p.item, c.dstKey))
	switch {
	case err != nil:
		return fmt.Errorf("get %s: %w", to, err)
	case !ok:
		defect(&out.Missing, fmt.Sprintf("%s → %s (missing)", from, to))
	case itemVersion(got, c.vattr) > c.version:
		out.Newer++
	case !sameItem(got, p.item):
		defect(&out.Different, fmt.Sprintf("%s → %s (%s)", from, to, diffAttrs(got, p.item)))
	}
	return nil
}

// diffAttrs names the attributes in which got differs from want.
func diffAttrs(got, want engine.Item) string {
	var names []string
	for k, v := range want {
		if w, ok := got[k]; !ok || !engine.EqualValues(v, w) {
			names = append(names, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			names = append(names, k)
		}
	}
	return "differs in " + strings.Join(sortedKeys(setOf(names)), ", ")
}

func setOf(names []string) map[string]string {
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = n
	}
	return m
}
