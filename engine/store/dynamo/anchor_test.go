package dynamo_test

import (
	"context"
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
	storetest.Anchors(t, st, func() engine.Anchorer { return st })
	ctx := context.Background()
	if _, err := adminClient(t, endpoint).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}); err != nil {
		t.Errorf("anchor table %s: %v", table, err)
	}
}
