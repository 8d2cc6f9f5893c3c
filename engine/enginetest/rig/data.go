// Package rig holds the data-step test rig shared by the tests of engine,
// engine/migrate and engine/integration: a real journal with one session,
// a real SQLite store seeded with users, and a StepContext for one step
// at a time, plus the runbooks and small fakes those tests share. It
// imports engine, engine/steps, the journal and the SQLite store, so
// engine's internal tests cannot use it (they use engine/enginetest,
// which imports the standard library only).
package rig

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
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

// Data is a real journal, a real store and a runbook for data step tests.
type Data struct {
	T       testing.TB
	Ctx     context.Context
	Dir     string
	J       *journal.Journal
	St      engine.Store
	Seed    engine.Store // the same table without injected faults
	RB      *runbook.Runbook
	Session engine.SessionInfo
	Leases  *engine.Leases // the session's held leases, as the session would keep them
	Results map[string]json.RawMessage

	mu       sync.Mutex
	events   []engine.Event
	progress atomic.Int64
}

// DataRunbook renders a runbook for the sqlite table users in the
// environment "test" with the given phases YAML (indented as steps of one
// phase).
func DataRunbook(t testing.TB, version int, envExtra, steps string) *runbook.Runbook {
	t.Helper()
	return DataRunbookFor(t, "{kind: sqlite, path: data.db, table: users, key: [id]}", version, envExtra, steps)
}

// DataRunbookFor is DataRunbook with another store spec.
func DataRunbookFor(t testing.TB, store string, version int, envExtra, steps string) *runbook.Runbook {
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

// NewSQLite creates data.db with table users holding n rows:
// id, name, count = id, address "<id> Main St, City<id%7>, <10000+id>"
// for ids not divisible by 5 (others have no address), and empty columns
// street_name, city, postcode, flag, v.
func NewSQLite(t testing.TB, rb *runbook.Runbook, n int) *Data {
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
	return NewData(t, rb, st, dir)
}

// NewData opens a journal with one session for rb's environment "test".
func NewData(t testing.TB, rb *runbook.Runbook, st engine.Store, dir string) *Data {
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
	return &Data{T: t, Ctx: context.Background(), Dir: dir, J: j, St: st, RB: rb, Session: info,
		Leases: engine.NewLeases(context.Background()), Results: map[string]json.RawMessage{}}
}

// StepContext builds what the session would give the executor of step id.
func (r *Data) StepContext(id string) *engine.StepContext {
	r.T.Helper()
	step := r.RB.Step(id)
	if step == nil {
		r.T.Fatalf("no step %q", id)
	}
	return &engine.StepContext{
		Step: step, Runbook: r.RB, Env: r.RB.Env("test"), Session: r.Session, Mode: r.Session.Mode,
		Operator: "alice", Attempt: 1, Journal: r.J, Clock: engine.SystemClock{},
		Emit: func(ev engine.Event) error {
			ev.SessionID, ev.Operator = r.Session.ID, "alice"
			if ev.Step == "" {
				ev.Step = id
			}
			stored, err := r.J.Append(context.Background(), ev)
			r.mu.Lock()
			r.events = append(r.events, stored)
			r.mu.Unlock()
			return err
		},
		Progress: func(engine.Event) { r.progress.Add(1) },
		Store:    func(context.Context) (engine.Store, error) { return r.St, nil },
		ExprEnv: func() map[string]any {
			return map[string]any{"vars": map[string]any{}, "env": map[string]any{"name": "test"}, "steps": map[string]any{}}
		},
		Results: r.Results,
		Control: &Control{},
		WorkDir: filepath.Join(r.Dir, "work"),
		Getenv:  func(string) string { return "" },
		Leases:  r.Leases,
	}
}

// Run executes the step of sc and keeps its result for later steps.
func (r *Data) Run(sc *engine.StepContext) (any, error) {
	res, err := ExecutorFor(sc.Step.Kind).Execute(r.Ctx, sc)
	if err == nil && res != nil {
		b, merr := json.Marshal(res)
		if merr != nil {
			r.T.Fatalf("marshal result: %v", merr)
		}
		r.Results[sc.Step.ID] = b
	}
	return res, err
}

// EventsOf returns the journaled events of the given kind.
func (r *Data) EventsOf(kind engine.EventKind) []engine.Event {
	evs, err := r.J.Events(r.Ctx, r.Session.ID)
	if err != nil {
		r.T.Fatalf("Events() error: %v", err)
	}
	var out []engine.Event
	for _, ev := range evs {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// Emitted returns the events the steps emitted, in order.
func (r *Data) Emitted() []engine.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Progressed returns how many progress events the steps showed.
func (r *Data) Progressed() int64 { return r.progress.Load() }

// All reads every item of the rig's store by id.
func (r *Data) All() map[string]engine.Item {
	r.T.Helper()
	return ScanItems(r.T, r.St, "id")
}

// ScanItems reads every item of st, by the value of its attribute key.
func ScanItems(t testing.TB, st engine.Store, key string) map[string]engine.Item {
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

// Control is an operator who never pauses, unless told to after n
// safe points.
type Control struct {
	calls   atomic.Int64
	StopAt  int64 // return Err at this call (0: never)
	Err     error
	RateSet atomic.Int64 // the operator's rate override (0: none)
}

// Checkpoint counts a safe point and returns Err from the StopAt-th on.
func (c *Control) Checkpoint(context.Context) error {
	n := c.calls.Add(1)
	if c.StopAt > 0 && n >= c.StopAt {
		return c.Err
	}
	return nil
}

// Rate returns the rate override.
func (c *Control) Rate() int { return int(c.RateSet.Load()) }

// AttrNum reads an integer attribute.
func AttrNum(it engine.Item, attr string) int64 {
	var n int64
	if v, ok := it[attr].(engine.Number); ok {
		fmt.Sscan(string(v), &n)
	}
	return n
}

// AttrStr reads a string attribute.
func AttrStr(it engine.Item, attr string) string {
	s, _ := it[attr].(string)
	return s
}

// AsJSONMap turns a result into a map for assertions on its JSON shape.
func AsJSONMap(t testing.TB, v any) map[string]any {
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

// SQLiteSessionConfig is the Config of a live session by alice on rb's
// environment "test" whose stores all open the SQLite file at dbPath,
// with a fresh journal (closed when the test ends) and no prompts.
func SQLiteSessionConfig(t testing.TB, rb *runbook.Runbook, dbPath string) engine.Config {
	t.Helper()
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return engine.Config{Runbook: rb, Env: "test", Mode: engine.ModeLive, Operator: "alice", Journal: j,
		Prompter: NoPrompts{}, WorkDir: t.TempDir(), Steps: steps.Default(), Getenv: func(string) string { return "" },
		Stores: func(_ context.Context, spec *runbook.StoreSpec) (engine.Store, error) {
			s := *spec
			s.Path = dbPath
			return sqlite.Open(&s)
		}}
}

// SQLDB opens the rig's SQLite file with the plain driver, for a test to
// look at or change rows behind the store; closed when the test ends.
func (r *Data) SQLDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", filepath.Join(r.Dir, "data.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// ExecutorFor is the built-in executor of kind, for tests that run one
// step outside a session.
func ExecutorFor(kind runbook.Kind) engine.Executor { return steps.ExecutorFor(kind) }

// SplitSteps splits address into street_name and city, with a rollback.
const SplitSteps = `      - id: backfill
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

// CounterSteps adds one to every item's count.
const CounterSteps = `      - id: bump
        kind: migrate
        with:
          set: {count: "item.count + 1"}
          batch_size: 40
          segments: 4
`

// CancelJournal cancels the run after N checkpoints: a crash mid-run.
type CancelJournal struct {
	engine.Journal
	N      int
	Cancel context.CancelFunc
	mu     sync.Mutex
	count  int
}

// SaveCheckpoint saves the checkpoint and cancels the run at the N-th.
func (j *CancelJournal) SaveCheckpoint(ctx context.Context, s, step string, seg int, cur []byte, data any) error {
	err := j.Journal.SaveCheckpoint(ctx, s, step, seg, cur, data)
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.count++; j.count == j.N {
		j.Cancel()
	}
	return err
}

// RefuseCheckpoints is a journal whose checkpoints of Step fail with Err
// from the (OK+1)-th on, as a full disk's would; the earlier ones and
// every other write go through.
type RefuseCheckpoints struct {
	engine.Journal
	Step string
	OK   int64
	Err  error
	// Saved counts the checkpoints of Step asked for, refused or not.
	Saved atomic.Int64
}

// SaveCheckpoint saves the checkpoint, or refuses it past the OK-th of Step.
func (j *RefuseCheckpoints) SaveCheckpoint(ctx context.Context, s, step string, seg int, cur []byte, data any) error {
	if step == j.Step && j.Saved.Add(1) > j.OK {
		return j.Err
	}
	return j.Journal.SaveCheckpoint(ctx, s, step, seg, cur, data)
}

// NoPrompts fails any prompt: the data steps run without asking.
type NoPrompts struct{}

// Ask fails: no prompt has an answer.
func (NoPrompts) Ask(_ context.Context, p engine.Prompt) (engine.Answer, error) {
	return engine.Answer{}, &engine.MissingAnswerError{Step: p.Step, Key: p.Key}
}

// OnFailure answers a failed step's prompt with Action (abort, rollback)
// and Reason, and fails any other prompt.
type OnFailure struct {
	Action engine.Action
	Reason string
}

// Ask answers a failed step's prompt; any other prompt has no answer.
func (f OnFailure) Ask(_ context.Context, p engine.Prompt) (engine.Answer, error) {
	if p.Kind == engine.PromptFailed {
		return engine.Answer{Action: f.Action, Reason: f.Reason}, nil
	}
	return engine.Answer{}, &engine.MissingAnswerError{Step: p.Step, Key: p.Key}
}
