package dynamo_test

import (
	"context"
	"fmt"
	"regexp"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/engine/store/storetest"
	"github.com/lockstep-run/lockstep/internal/dynalite"
	"github.com/lockstep-run/lockstep/runbook"
)

var tableSeq atomic.Int64

// newTable creates a fresh table (string partition key "id", or the
// given key schema) on the shared dynalite, seeds it and opens a store.
func newTable(t *testing.T, endpoint string, seed []engine.Item, opts ...dynamo.Option) *dynamo.Store {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("t%d-%s", tableSeq.Add(1), regexp.MustCompile(`[^a-zA-Z0-9_.-]+`).ReplaceAllString(t.Name(), "-"))
	if len(name) > 200 {
		name = name[:200]
	}
	spec := &runbook.StoreSpec{Kind: "dynamodb", Table: name, Region: "us-east-1", Endpoint: endpoint}
	admin := adminClient(t, endpoint)
	_, err := admin.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(storetest.KeyAttr), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(storetest.KeyAttr), AttributeType: types.ScalarAttributeTypeS}},
	})
	if err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	opts = append([]dynamo.Option{dynamo.WithLeaseTable(name + "-leases")}, opts...)
	st, err := dynamo.Open(ctx, spec, opts...)
	if err != nil {
		t.Fatalf("Open()=%v", err)
	}
	if err := st.Put(ctx, seed); err != nil {
		t.Fatalf("seed: %v", err)
	}
	return st
}

// adminClient is a plain SDK client for test set-up, opened through a
// throwaway store so it uses the same configuration path.
func adminClient(t *testing.T, endpoint string) *dynamodb.Client {
	t.Helper()
	c, err := dynamo.NewClient(context.Background(), &runbook.StoreSpec{Region: "us-east-1", Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConformance(t *testing.T) {
	endpoint := dynalite.Shared(t)
	storetest.Run(t,
		func(t *testing.T, seed []engine.Item) engine.Store { return newTable(t, endpoint, seed) },
		storetest.WithReopen(func(t *testing.T, s engine.Store) engine.Store {
			spec := s.(*dynamo.Store).Spec()
			again, err := dynamo.Open(context.Background(), &spec)
			if err != nil {
				t.Fatal(err)
			}
			return again
		}),
	)
}
