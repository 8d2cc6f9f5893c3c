package rig

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/steps"
	"github.com/lockstep-run/lockstep/runbook"
)

// PerRowStore hides a SQL store's pushdown: it keeps only the store and
// its batched updates, so a migrate step runs every page per row.
type PerRowStore struct {
	engine.Store
	engine.BatchUpdater
}

// RunPath runs rb's environment "test" live to its end, with its journal
// and work directory in dir, on the stores open gives, and returns the
// outcome and the line migrate step id printed that starts "path: ".
// With pages, the line ends with the step's counts of pages pushed down
// and run per row.
func RunPath(t testing.TB, dir string, rb *runbook.Runbook, open engine.StoreOpener, id string, pages bool) (engine.Outcome, string) {
	t.Helper()
	ctx := context.Background()
	j, err := journal.Open(filepath.Join(dir, "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var pathLine string
	s, err := engine.Start(ctx, engine.Config{Runbook: rb, Env: "test", Mode: engine.ModeLive, Operator: "t", Journal: j,
		Prompter: NoPrompts{}, Stores: open, WorkDir: filepath.Join(dir, "work"), Steps: steps.Default(),
		Observer: func(ev engine.Event) {
			if o, err := engine.DecodeAs[engine.Output](ev); err == nil && ev.Step == id && strings.HasPrefix(o.Text, "path: ") {
				pathLine = o.Text
			}
		}})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	out, _ := s.Run(ctx)
	state := s.State()
	if st := state.StepState(id); st != nil && pages {
		var res migrate.Result
		if json.Unmarshal(st.Result, &res) == nil {
			pathLine += fmt.Sprintf(" (%d pages pushed down, %d per row)", res.PushdownPages, res.PerRowPages)
		}
	}
	return out, pathLine
}

// ItemsByID reads every item of st by its integer attribute "id".
func ItemsByID(t testing.TB, st engine.Store) map[int64]engine.Item {
	t.Helper()
	got := map[int64]engine.Item{}
	for _, it := range ScanItems(t, st, "id") {
		var id int64
		fmt.Sscan(fmt.Sprint(it["id"]), &id)
		got[id] = it
	}
	return got
}
