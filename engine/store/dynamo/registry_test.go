package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/engine/store/storetest"
	"github.com/lockstep-run/lockstep/internal/dynalite"
)

// TestRegistry records sessions in a fresh registry table (named by the
// spec's registry_table, created on first use with on-demand billing).
func TestRegistry(t *testing.T) {
	endpoint := dynalite.Shared(t)
	table := "registry-" + time.Now().Format("150405.000000000")
	spec := newTable(t, endpoint, storetest.Seed(1)).Spec()
	spec.RegistryTable = table
	st, err := dynamo.Open(context.Background(), &spec)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Registry(t, st, func() engine.Registrar {
		storetest.RegistryRunning(t, st)
		return st
	})
	out, err := adminClient(t, endpoint).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("registry table %s: %v", table, err)
	}
	if bm := out.Table.BillingModeSummary; bm == nil || bm.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("registry table billing = %+v, want PAY_PER_REQUEST", bm)
	}
}
