package engine_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/lockstep-run/lockstep/engine/steps"
	"github.com/lockstep-run/lockstep/runbook"
)

// TestLintKnowsNotifyData: lint (LS106) checks templates against the
// fields of NotifyData; a field added or renamed here must reach it.
func TestLintKnowsNotifyData(t *testing.T) {
	t.Parallel()
	names := func(v any) []string {
		var out []string
		for f := range reflect.TypeOf(v).Fields() {
			out = append(out, f.Name)
		}
		return out
	}
	data, window := runbook.NotifyTemplateFields()
	if got := names(steps.NotifyData{}); !slices.Equal(got, data) {
		t.Errorf("NotifyData fields = %v, lint knows %v", got, data)
	}
	if got := names(steps.NotifyWindow{}); !slices.Equal(got, window) {
		t.Errorf("NotifyWindow fields = %v, lint knows %v", got, window)
	}
}
