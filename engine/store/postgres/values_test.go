package postgres_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/postgres"
	"github.com/lockstep-run/lockstep/engine/store/storetest"
	"github.com/lockstep-run/lockstep/runbook"
)

// TestValues: every mapped type round-trips, and a guard on each value
// as read holds.
func TestValues(t *testing.T) {
	t.Parallel()
	st := newTable(t, `CREATE TABLE items (id bigint PRIMARY KEY, v int, i int, big bigint, n numeric, r float8,
		t text, vc varchar(20), b boolean, bin bytea, j jsonb, js json, at timestamptz, ts timestamp, d date,
		tags text[], nums int[], u uuid)`, nil)
	ctx := t.Context()
	in := engine.Item{
		"id": engine.Number("7"), "i": engine.Number("-3"), "big": engine.Number("9223372036854775807"),
		"n": engine.Number("123456789012345678901234567890.000001"), "r": engine.Number("0.1"),
		"t": "héllo \"wörld\"", "vc": "short", "b": true, "bin": []byte{0, 1, 255},
		"j":  map[string]any{"n": engine.Number("1.50"), "l": []any{"a", nil, true}, "m": map[string]any{}},
		"js": []any{engine.Number("1"), "two"}, "at": "2026-05-01T22:00:00.5Z", "ts": "2026-05-01T22:00:00Z", "d": "2026-05-01",
		"tags": []any{"a", nil, "c"}, "nums": []any{engine.Number("1"), engine.Number("2")},
		"u": "0a2f1e0c-4b0e-4f7a-9c43-3c1f5b6d2e11", "v": nil,
	}
	if err := st.Put(ctx, []engine.Item{in}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := st.Get(ctx, engine.Item{"id": engine.Number("7")})
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if d := storetest.Diff(got, in); d != "" {
		t.Errorf("Get():%s", d)
	}
	for name, val := range got {
		if name == "id" || name == "vc" {
			continue
		}
		u := engine.Update{Key: got, Set: engine.Attrs(map[string]any{"vc": "guarded " + name}),
			Guard: engine.Guard{Unchanged: []engine.Attr{{Name: name, Value: val}}}}
		if err := st.Update(ctx, u); err != nil {
			t.Errorf("guard on %s = %#v as read: Update()=%v", name, val, err)
		}
	}
	// A value its column cannot hold is rejected (no retry), naming it.
	err = st.Update(ctx, engine.Update{Key: got, Set: engine.Attrs(map[string]any{"i": "not a number"})})
	if !errors.Is(err, engine.ErrRejected) || !strings.Contains(err.Error(), "integer") {
		t.Errorf("Update(text into int)=%v, want ErrRejected", err)
	}
}

// TestDSNRedacted: the password of a DSN never shows in an error.
func TestDSNRedacted(t *testing.T) {
	t.Parallel()
	tests := []struct{ dsn, want string }{
		{"postgres://app:s3cr3t-pw@127.0.0.1:1/db?sslmode=disable&connect_timeout=1", "postgres://app:xxxxx@127.0.0.1:1/db?"},
		{"host=127.0.0.1 port=1 user=app password=s3cr3t-pw dbname=db connect_timeout=1", "password=xxxxx"},
		{"host=127.0.0.1 port=1 user=app password='s3cr3t-pw' dbname=db connect_timeout=1", "password=xxxxx"},
		{"postgres://app@127.0.0.1:1/db?password=s3cr3t-pw&connect_timeout=1", "password=xxxxx"},
	}
	for _, tt := range tests {
		if got := postgres.RedactDSN(tt.dsn); strings.Contains(got, "s3cr3t") || !strings.Contains(got, tt.want) {
			t.Errorf("RedactDSN(%s)=%s, want %q and no password", tt.dsn, got, tt.want)
		}
		_, err := postgres.Open(t.Context(), &runbook.StoreSpec{Kind: "postgres", DSN: tt.dsn, Table: "items"})
		if err == nil || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("Open(unreachable %s)=%v, want an error without the password", tt.want, err)
		}
	}
}
