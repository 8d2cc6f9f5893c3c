package dynamo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/storetest"
	"github.com/lockstep-run/lockstep/internal/dynalite"
)

// TestAnchors records journal anchors in a fresh anchor table (named by
// $LOCKSTEP_ANCHOR_TABLE, created on first use): recording one twice is a
// no-op, another head for the same session and count is refused, and
// listing filters by runbook and environment.
func TestAnchors(t *testing.T) {
	endpoint := dynalite.Shared(t)
	table := "anchors-" + time.Now().Format("150405.000000000")
	t.Setenv("LOCKSTEP_ANCHOR_TABLE", table)
	st := newTable(t, endpoint, storetest.Seed(1))
	ctx := context.Background()
	at := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	a := engine.Anchor{SessionID: "s1", Runbook: "rb", Env: "prod", Head: "aaaa", Events: 12, Time: at}
	tests := []struct {
		name    string
		anchor  engine.Anchor
		wantErr error
	}{
		{"first", a, nil},
		{"same again", a, nil},
		{"another head", engine.Anchor{SessionID: "s1", Runbook: "rb", Env: "prod", Head: "bbbb", Events: 12, Time: at}, engine.ErrAnchorConflict},
		{"a later end of the session", engine.Anchor{SessionID: "s1", Runbook: "rb", Env: "prod", Head: "cccc", Events: 20, Time: at}, nil},
		{"another env", engine.Anchor{SessionID: "s2", Runbook: "rb", Env: "staging", Head: "dddd", Events: 3, Time: at}, nil},
	}
	for _, tt := range tests {
		if err := st.RecordAnchor(ctx, tt.anchor); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("%s: RecordAnchor() = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	got, err := st.Anchors(ctx, "rb", "prod")
	if err != nil {
		t.Fatal(err)
	}
	heads := map[int64]string{}
	for _, g := range got {
		if g.SessionID != "s1" || !g.Time.Equal(at) {
			t.Errorf("anchor %+v, want session s1 at %v", g, at)
		}
		heads[g.Events] = g.Head
	}
	if len(got) != 2 || heads[12] != "aaaa" || heads[20] != "cccc" {
		t.Errorf("Anchors(rb, prod) = %+v, want s1 at 12 (aaaa) and 20 (cccc)", got)
	}
	if _, err := adminClient(t, endpoint).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}); err != nil {
		t.Errorf("anchor table %s: %v", table, err)
	}
	if none, err := st.Anchors(ctx, "other", "prod"); err != nil || len(none) != 0 {
		t.Errorf("Anchors(other, prod) = %v, %v; want none", none, err)
	}
}
