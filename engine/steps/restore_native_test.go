package steps_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/steps"
	"github.com/lockstep-run/lockstep/runbook"
)

// nativeStore fakes a store's native restore, the one part of DynamoDB
// dynalite lacks (the client side is tested against a stubbed client in
// engine/store/dynamo).
type nativeStore struct {
	engine.Store
	got []engine.NativeRestoreRequest
}

func (s *nativeStore) Describe(context.Context) (engine.TableInfo, error) {
	return engine.TableInfo{Table: "users", Key: []string{"id"}}, nil
}

func (s *nativeStore) RestoreToNewTable(_ context.Context, req engine.NativeRestoreRequest) (engine.NativeRestoreInfo, error) {
	s.got = append(s.got, req)
	return engine.NativeRestoreInfo{Table: req.Target, Status: "ACTIVE"}, nil
}

func TestNativeRestore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, with string
		want       engine.NativeRestoreRequest
	}{
		{"backup", "{native: true, from: snapshot, target_table: users-b}", engine.NativeRestoreRequest{Target: "users-b", BackupARN: "arn:backup/1"}},
		{"latest point in time", "{native: true, point_in_time: latest}", engine.NativeRestoreRequest{Target: "users-restored-s1", Latest: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rb := nativeRunbook(t, tt.with)
			st := &nativeStore{}
			backup, _ := json.Marshal(steps.BackupResult{Manifest: "m.json", Native: &engine.BackupInfo{ARN: "arn:backup/1"}})
			var out []string
			sc := &engine.StepContext{Step: rb.Step("undo"), Runbook: rb, Env: rb.Env("test"), Session: engine.SessionInfo{ID: "s1"},
				Mode: engine.ModeLive, Results: map[string]json.RawMessage{"snapshot": backup},
				Store: func(context.Context) (engine.Store, error) { return st, nil },
				Emit: func(ev engine.Event) error {
					var o engine.Output
					if json.Unmarshal(ev.Data, &o) == nil {
						out = append(out, o.Text)
					}
					return nil
				}}
			res, err := steps.ExecutorFor(runbook.KindRestore).Execute(context.Background(), sc)
			if err != nil {
				t.Fatalf("restore: %v", err)
			}
			if len(st.got) != 1 || st.got[0] != tt.want {
				t.Errorf("RestoreToNewTable(%+v), want %+v", st.got, tt.want)
			}
			r := res.(steps.NativeRestoreResult)
			if r.TargetTable != tt.want.Target || r.Status != "ACTIVE" || r.Table != "users" {
				t.Errorf("result = %+v", r)
			}
			if text := strings.Join(out, "\n"); !strings.Contains(text, "point the application's configuration at "+tt.want.Target) {
				t.Errorf("no switch-over steps printed:\n%s", text)
			}
		})
	}
}

// interruptedStore is a native restore that checks the journal when it
// is asked: the request must be journaled before it is made. While
// interrupt is set, a request "dies" after reaching DynamoDB (the process
// was killed while waiting for the table); otherwise it succeeds.
type interruptedStore struct {
	nativeStore
	t         *testing.T
	r         *rig.Data
	interrupt bool
	journal   int // checkpoints of the step found at the last call
}

func (s *interruptedStore) RestoreToNewTable(ctx context.Context, req engine.NativeRestoreRequest) (engine.NativeRestoreInfo, error) {
	cps, err := s.r.J.Checkpoints(ctx, s.r.Session.ID, "undo")
	if err != nil {
		s.t.Errorf("Checkpoints() error: %v", err)
	}
	s.journal = len(cps)
	s.got = append(s.got, req)
	if s.interrupt {
		return engine.NativeRestoreInfo{}, context.Canceled
	}
	return engine.NativeRestoreInfo{Table: req.Target, Status: "ACTIVE"}, nil
}

// TestNativeRestoreResumesItsOwnRequest: a native restore journals the
// request before making it, and only an attempt after one that made the
// same request tells the store it may find the target table as its own
// (Adopt): a first attempt, or one after a different request, never does.
func TestNativeRestoreResumesItsOwnRequest(t *testing.T) {
	t.Parallel()
	rb := nativeRunbook(t, "{native: true, point_in_time: latest}")
	for _, tt := range []struct {
		name      string
		earlier   string // the journaled request of an earlier attempt, "" for none
		wantAdopt bool
	}{
		{"after its own request", "interrupt", true},
		{"after no request", "", false},
		{"after another request", `{"target":"users-elsewhere","latest":true}`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := &interruptedStore{t: t}
			r := rig.NewData(t, rb, st, t.TempDir())
			st.r = r
			switch tt.earlier {
			case "interrupt":
				st.interrupt = true
				if _, err := r.Run(r.StepContext("undo")); !errors.Is(err, context.Canceled) {
					t.Fatalf("first attempt: error = %v, want it interrupted", err)
				}
				if st.journal != 1 || st.got[0].Adopt {
					t.Fatalf("first attempt asked with %d checkpoints journaled and Adopt %v; want the request journaled first, no Adopt", st.journal, st.got[0].Adopt)
				}
			case "": // no earlier attempt asked
			default:
				if err := r.J.SaveCheckpoint(r.Ctx, r.Session.ID, "undo", 0, []byte(tt.earlier), nil); err != nil {
					t.Fatal(err)
				}
			}
			st.interrupt = false
			sc := r.StepContext("undo")
			sc.Attempt, sc.Resumed = 2, true
			res, err := r.Run(sc)
			if err != nil {
				t.Fatalf("resumed attempt: %v", err)
			}
			last := st.got[len(st.got)-1]
			if last.Adopt != tt.wantAdopt || !strings.HasPrefix(last.Target, "users-restored-") {
				t.Errorf("resumed attempt asked for %+v, want Adopt %v", last, tt.wantAdopt)
			}
			if got := res.(steps.NativeRestoreResult).Status; got != "ACTIVE" {
				t.Errorf("status = %q, want ACTIVE", got)
			}
		})
	}
}

// nativeRunbook is a DynamoDB runbook with a backup step "snapshot" and
// a restore step "undo" with the given with: map.
func nativeRunbook(t *testing.T, with string) *runbook.Runbook {
	t.Helper()
	rb, err := runbook.Parse("rb.yaml", []byte(`lockstep: 1
name: n
title: N
version: 2
environments: {test: {store: {kind: dynamodb, table: users, region: eu-west-1}}}
phases:
  - name: p
    steps:
      - {id: snapshot, kind: backup}
      - {id: undo, kind: restore, with: `+with+`}
`))
	if err != nil {
		t.Fatal(err)
	}
	return rb
}
