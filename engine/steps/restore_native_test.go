package steps_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
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
			rb, err := runbook.Parse("rb.yaml", []byte(`lockstep: 1
name: n
title: N
version: 2
environments: {test: {store: {kind: dynamodb, table: users, region: eu-west-1}}}
phases:
  - name: p
    steps:
      - {id: snapshot, kind: backup}
      - {id: undo, kind: restore, with: `+tt.with+`}
`))
			if err != nil {
				t.Fatal(err)
			}
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
