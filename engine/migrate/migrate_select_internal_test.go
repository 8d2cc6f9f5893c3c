package migrate

import (
	"errors"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// TestSelectForMigrate pins the one selection rule migrate and estimate
// share: the version check first (below the target, or at it for a
// rollback or contract run), then where; an item whose version or where
// cannot be evaluated fails (migrate records it, estimate counts it).
func TestSelectForMigrate(t *testing.T) {
	t.Parallel()
	const target = 3
	tests := []struct {
		name      string
		where     string // "" = no where
		item      engine.Item
		atVersion bool
		want      outcome
		wantErr   string
	}{
		{"below, no where", "", engine.Item{"v": engine.Number("2")}, false, outWrite, ""},
		{"absent version is 0", "", engine.Item{"id": engine.Number("1")}, false, outWrite, ""},
		{"at target", "", engine.Item{"v": engine.Number("3")}, false, outAlready, ""},
		{"above target", "", engine.Item{"v": engine.Number("4")}, false, outAlready, ""},
		{"below, where holds", "item.address != nil", engine.Item{"address": "1 Main"}, false, outWrite, ""},
		{"below, where false", "item.address != nil", engine.Item{"name": "a"}, false, outNotMatched, ""},
		{"version checked before where", "item.address != nil", engine.Item{"v": engine.Number("3")}, false, outAlready, ""},
		{"where fails", "item.v < 3", engine.Item{"id": engine.Number("1")}, false, outFailed, "where: "},
		{"version not a number", "", engine.Item{"v": "2"}, false, outFailed, "not a number"},
		{"at version: at target", "", engine.Item{"v": engine.Number("3")}, true, outWrite, ""},
		{"at version: below target", "", engine.Item{"v": engine.Number("2")}, true, outAlready, ""},
		{"at version: where false", "item.address != nil", engine.Item{"v": engine.Number("3")}, true, outNotMatched, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var where *runbook.Expr
			if tt.where != "" {
				var err error
				if where, err = runbook.CompileExpr(tt.where, true); err != nil {
					t.Fatalf("CompileExpr(%q): %v", tt.where, err)
				}
			}
			env := newItemEnvFrom(nil, where)
			got, err := selectForMigrate(env, where, tt.item, "v", target, tt.atVersion)
			if got != tt.want {
				t.Errorf("selectForMigrate(%v)=%v (err %v), want %v", tt.item, got, err, tt.want)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("selectForMigrate(%v) error %v, want none", tt.item, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("selectForMigrate(%v) error %v, want one containing %q", tt.item, err, tt.wantErr)
			}
			if tt.wantErr == "not a number" && !errors.Is(err, ErrVersionNotNumber) {
				t.Errorf("selectForMigrate(%v) error %v, want ErrVersionNotNumber", tt.item, err)
			}
		})
	}
}
