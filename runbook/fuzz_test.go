package runbook_test

import (
	"errors"
	"io"
	"testing"

	"github.com/lockstep-run/lockstep/runbook"
)

// FuzzParse checks that no input panics, that failures are positioned
// Errors and that valid runbooks lint and serialise. Seeds live in
// testdata/fuzz/FuzzParse (good and bad runbooks).
func FuzzParse(f *testing.F) {
	f.Add([]byte("lockstep: 1\nname: x\ntitle: X\nversion: 1\nphases: [{name: p, steps: [{id: a, kind: manual}]}]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		rb, err := runbook.Parse("fuzz.yaml", src)
		if err != nil {
			var errs runbook.Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Parse() error %T %v, want non-empty Errors", err, err)
			}
			for _, e := range errs {
				if e.Pos.Line < 1 || e.Msg == "" {
					t.Fatalf("bad problem %#v", e)
				}
			}
			if err := runbook.WriteJSON(io.Discard, errs); err != nil {
				t.Fatal(err)
			}
			return
		}
		if rb == nil || rb.Lockstep != runbook.FormatVersion || len(rb.Steps()) == 0 {
			t.Fatalf("Parse() = %+v, nil: a valid runbook has format 1 and steps", rb)
		}
		_ = runbook.Lint(rb)
		_ = rb.EnvRefs()
		for _, s := range rb.Steps() {
			if s.Migrate != nil {
				_ = s.Migrate.Reads()
			}
		}
	})
}
