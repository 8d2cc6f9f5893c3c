package migrate_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/engine/steps"
	"github.com/lockstep-run/lockstep/engine/store/sqlite"
	"github.com/lockstep-run/lockstep/runbook"
	_ "github.com/mattn/go-sqlite3"
)

// dataRig is a real journal, a real store and a runbook for data step tests.
type dataRig struct {
	t       testing.TB
	ctx     context.Context
	dir     string
	j       *journal.Journal
	st      engine.Store
	seed    engine.Store // the same table without injected faults
	rb      *runbook.Runbook
	session engine.SessionInfo
	leases  *engine.Leases // the session's held leases, as the session would keep them
	results map[string]json.RawMessage

	mu       sync.Mutex
	events   []engine.Event
	progress atomic.Int64
}

// dataRunbook renders a runbook for the sqlite table users in the
// environment "test" with the given phases YAML (indented as steps of one
// phase).
func dataRunbook(t testing.TB, version int, envExtra, steps string) *runbook.Runbook {
	t.Helper()
	return dataRunbookFor(t, "{kind: sqlite, path: data.db, table: users, key: [id]}", version, envExtra, steps)
}

// dataRunbookFor is dataRunbook with another store spec.
func dataRunbookFor(t testing.TB, store string, version int, envExtra, steps string) *runbook.Runbook {
	t.Helper()
	src := fmt.Sprintf(`lockstep: 1
name: users-migration
title: Test migration
version: %d
strategy: multi-step
roles: {responsible: [alice], accountable: bob}
environments:
  test:
    store: %s
%s
phases:
  - name: run
    steps:
%s`, version, store, envExtra, steps)
	rb, err := runbook.Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse() error: %v\n%s", err, src)
	}
	return rb
}

// newSQLiteRig creates data.db with table users holding n rows:
// id, name, count = id, address "<id> Main St, City<id%7>, <10000+id>"
// for ids not divisible by 5 (others have no address), and empty columns
// street_name, city, postcode, flag, v.
func newSQLiteRig(t testing.TB, rb *runbook.Runbook, n int) *dataRig {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "data.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatalf("sql.Open() error: %v", err)
	}
	for _, q := range []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, count INTEGER, address TEXT,
			street_name TEXT, city TEXT, postcode TEXT, flag INTEGER, v INTEGER)`,
		fmt.Sprintf(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM seq WHERE i < %d)
			INSERT INTO users (id, name, count, address)
			SELECT i, 'user' || i, i, CASE WHEN i %% 5 = 0 THEN NULL
				ELSE i || ' Main St, City' || (i %% 7) || ', ' || (10000 + i) END FROM seq`, n),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("create table: %v", err)
		}
	}
	db.Close()
	st, err := sqlite.Open(&runbook.StoreSpec{Kind: "sqlite", Path: path, Table: "users", Key: []string{"id"}})
	if err != nil {
		t.Fatalf("sqlite.Open() error: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return newDataRig(t, rb, st, dir)
}

// newDataRig opens a journal with one session for rb's environment "test".
func newDataRig(t testing.TB, rb *runbook.Runbook, st engine.Store, dir string) *dataRig {
	t.Helper()
	j, err := journal.Open(filepath.Join(dir, "journal.db"))
	if err != nil {
		t.Fatalf("journal.Open() error: %v", err)
	}
	t.Cleanup(func() { j.Close() })
	info, err := j.CreateSession(context.Background(), engine.SessionInfo{Runbook: rb.Name, Title: rb.Title,
		Env: "test", Mode: engine.ModeLive, Operator: "alice", RunbookSource: rb.Source})
	if err != nil {
		t.Fatalf("CreateSession() error: %v", err)
	}
	return &dataRig{t: t, ctx: context.Background(), dir: dir, j: j, st: st, rb: rb, session: info,
		leases: engine.NewLeases(context.Background()), results: map[string]json.RawMessage{}}
}

// stepContext builds what the session would give the executor of step id.
func (r *dataRig) stepContext(id string) *engine.StepContext {
	r.t.Helper()
	step := r.rb.Step(id)
	if step == nil {
		r.t.Fatalf("no step %q", id)
	}
	return &engine.StepContext{
		Step: step, Runbook: r.rb, Env: r.rb.Env("test"), Session: r.session, Mode: r.session.Mode,
		Operator: "alice", Attempt: 1, Journal: r.j, Clock: engine.SystemClock{},
		Emit: func(ev engine.Event) error {
			ev.SessionID, ev.Operator = r.session.ID, "alice"
			if ev.Step == "" {
				ev.Step = id
			}
			stored, err := r.j.Append(context.Background(), ev)
			r.mu.Lock()
			r.events = append(r.events, stored)
			r.mu.Unlock()
			return err
		},
		Progress: func(engine.Event) { r.progress.Add(1) },
		Store:    func(context.Context) (engine.Store, error) { return r.st, nil },
		ExprEnv: func() map[string]any {
			return map[string]any{"vars": map[string]any{}, "env": map[string]any{"name": "test"}, "steps": map[string]any{}}
		},
		Results: r.results,
		Control: &dataControl{},
		WorkDir: filepath.Join(r.dir, "work"),
		Getenv:  func(string) string { return "" },
		Leases:  r.leases,
	}
}

// run executes step id and keeps its result for later steps.
func (r *dataRig) run(sc *engine.StepContext) (any, error) {
	res, err := executorFor(sc.Step.Kind).Execute(r.ctx, sc)
	if err == nil && res != nil {
		b, merr := json.Marshal(res)
		if merr != nil {
			r.t.Fatalf("marshal result: %v", merr)
		}
		r.results[sc.Step.ID] = b
	}
	return res, err
}

// eventsOf returns the journaled events of the given kind.
func (r *dataRig) eventsOf(kind engine.EventKind) []engine.Event {
	evs, err := r.j.Events(r.ctx, r.session.ID)
	if err != nil {
		r.t.Fatalf("Events() error: %v", err)
	}
	var out []engine.Event
	for _, ev := range evs {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// all reads every item of the rig's store by id.
func (r *dataRig) all() map[string]engine.Item {
	r.t.Helper()
	return scanItems(r.t, r.st, "id")
}

func scanItems(t testing.TB, st engine.Store, key string) map[string]engine.Item {
	t.Helper()
	out := map[string]engine.Item{}
	var cursor []byte
	for {
		p, err := st.Scan(context.Background(), engine.ScanRequest{TotalSegments: 1, Cursor: cursor, Limit: 500, Consistent: true})
		if err != nil {
			t.Fatalf("Scan() error: %v", err)
		}
		for _, it := range p.Items {
			out[fmt.Sprint(it[key])] = it
		}
		if p.Next == nil {
			return out
		}
		cursor = p.Next
	}
}

// dataControl is an operator who never pauses, unless told to after n
// safe points.
type dataControl struct {
	calls   atomic.Int64
	stopAt  int64 // return err at this call (0: never)
	err     error
	rate    atomic.Int64
	checked atomic.Int64
}

func (c *dataControl) Checkpoint(context.Context) error {
	n := c.calls.Add(1)
	if c.stopAt > 0 && n >= c.stopAt {
		return c.err
	}
	return nil
}

func (c *dataControl) Rate() int { return int(c.rate.Load()) }

// attrNum reads an integer attribute.
func attrNum(it engine.Item, attr string) int64 {
	var n int64
	if v, ok := it[attr].(engine.Number); ok {
		fmt.Sscan(string(v), &n)
	}
	return n
}

// attrStr reads a string attribute.
func attrStr(it engine.Item, attr string) string {
	s, _ := it[attr].(string)
	return s
}

// asJSONMap turns a result into a map for assertions on its JSON shape.
func asJSONMap(t testing.TB, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return m
}

// sqliteSessionConfig is the Config of a live session by alice on rb's
// environment "test" whose stores all open the SQLite file at dbPath,
// with a fresh journal (closed when the test ends) and no prompts.
func sqliteSessionConfig(t testing.TB, rb *runbook.Runbook, dbPath string) engine.Config {
	t.Helper()
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return engine.Config{Runbook: rb, Env: "test", Mode: engine.ModeLive, Operator: "alice", Journal: j,
		Prompter: noPrompts{}, WorkDir: t.TempDir(), Steps: steps.Default(), Getenv: func(string) string { return "" },
		Stores: func(_ context.Context, spec *runbook.StoreSpec) (engine.Store, error) {
			s := *spec
			s.Path = dbPath
			return sqlite.Open(&s)
		}}
}

// sqlDB opens the rig's SQLite file with the plain driver, for a test to
// look at or change rows behind the store; closed when the test ends.
func (r *dataRig) sqlDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", filepath.Join(r.dir, "data.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// executorFor is the built-in executor of kind, for tests that run one
// step outside a session.
func executorFor(kind runbook.Kind) engine.Executor { return steps.ExecutorFor(kind) }

// noPrompts fails any prompt: the data steps run without asking.
type noPrompts struct{}

func (noPrompts) Ask(_ context.Context, p engine.Prompt) (engine.Answer, error) {
	return engine.Answer{}, &engine.MissingAnswerError{Step: p.Step, Key: p.Key}
}

// splitSteps splits address into street_name and city, with a rollback.
const splitSteps = `      - id: backfill
        kind: migrate
        with:
          where: "item.address != nil"
          set:
            street_name: 'trim(split(item.address, ",")[0])'
            city: 'trim(split(item.address, ",")[1])'
          batch_size: 50
          segments: 3
        rollback: {kind: migrate, with: {remove: [street_name, city]}}
`

// counterSteps adds one to every item's count.
const counterSteps = `      - id: bump
        kind: migrate
        with:
          set: {count: "item.count + 1"}
          batch_size: 40
          segments: 4
`
