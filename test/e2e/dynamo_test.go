package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/internal/dynalite"
	"github.com/lockstep-run/lockstep/runbook"
)

func TestRunAgainstDynamoDB(t *testing.T) {
	if testing.Short() {
		t.Skip("starts dynalite")
	}
	endpoint := dynalite.Start(t)
	e := newEnv(t)
	ctx := context.Background()
	spec := &runbook.StoreSpec{Kind: "dynamodb", Table: "e2e_users", Region: "us-east-1", Endpoint: endpoint, Key: []string{"id"}}
	createTable(t, endpoint, spec.Table)
	st, err := dynamo.Open(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var items []engine.Item
	for i := 1; i <= 120; i++ {
		items = append(items, engine.Item{"id": engine.Number(fmt.Sprint(i)), "name": fmt.Sprintf("user%d", i)})
	}
	if err := st.Put(ctx, items); err != nil {
		t.Fatal(err)
	}
	e.vars = append(e.vars, "E2E_TABLE="+spec.Table, "E2E_ENDPOINT="+endpoint)

	r := e.mustRun(0, "run", testdata(t, "dynamo.yaml"), "--env", "local", "--plain")
	if !strings.Contains(r.Stdout, "✓ backfill") || !strings.Contains(r.Stdout, "✓ check") {
		t.Errorf("the DynamoDB steps did not both complete\n%s", r)
	}
	for _, id := range []int{1, 60, 120} {
		it, ok, err := st.Get(ctx, engine.Item{"id": engine.Number(fmt.Sprint(id))})
		if err != nil || !ok {
			t.Fatalf("Get(%d) = %v, %v", id, ok, err)
		}
		if got, want := it["display"], fmt.Sprintf("USER%d", id); got != want {
			t.Errorf("item %d display = %v, want %q", id, got, want)
		}
		if got := it["v"]; got != engine.Number("2") {
			t.Errorf("item %d v = %v, want 2", id, got)
		}
	}
	// A second run finds nothing left to migrate: every item is at version 2.
	r = e.mustRun(0, "run", testdata(t, "dynamo.yaml"), "--env", "local", "--plain")
	if !strings.Contains(r.Stdout, `"migrated":0`) {
		t.Errorf("second run migrated items again\n%s", r)
	}
}

// createTable creates an on-demand table with a numeric hash key id.
func createTable(t *testing.T, endpoint, table string) {
	t.Helper()
	client := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("lockstep", "lockstep", "")})
	_, err := client.CreateTable(context.Background(), &dynamodb.CreateTableInput{TableName: aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeN}}})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
}
