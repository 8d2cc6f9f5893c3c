package integration_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/steps"
	"github.com/lockstep-run/lockstep/internal/dynalite"
)

// dynamoSettings creates a settings table (key name S) on dynalite with
// the item {name: maintenance} plus attrs, and returns its name and a
// reader of the item's enabled attribute.
func dynamoSettings(t *testing.T, attrs map[string]types.AttributeValue) (string, func() types.AttributeValue) {
	t.Helper()
	ctx := context.Background()
	client := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(dynalite.Shared(t)),
		Credentials: credentials.NewStaticCredentialsProvider("lockstep", "lockstep", "")})
	table := fmt.Sprintf("settings_%d", dynamoTables.Add(1))
	if _, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("name"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("name"), AttributeType: types.ScalarAttributeTypeS}}}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) { // faster than the SDK's waiter
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err == nil && out.Table.TableStatus == types.TableStatusActive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("table %s not active: %v", table, err)
		}
	}
	item := map[string]types.AttributeValue{"name": &types.AttributeValueMemberS{Value: "maintenance"}}
	for k, v := range attrs {
		item[k] = v
	}
	if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatal(err)
	}
	return table, func() types.AttributeValue {
		out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"name": &types.AttributeValueMemberS{Value: "maintenance"}}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item["enabled"]
	}
}

// TestLockDynamoSharedMaintenanceFlag: on DynamoDB too, the earlier value
// comes back (a BOOL false stays a BOOL false; an absent flag is removed)
// and the first of two locks sharing the flag leaves it on.
func TestLockDynamoSharedMaintenanceFlag(t *testing.T) {
	// Not parallel: its lease TTL is a few seconds, so it runs before the
	// parallel tests load the package's shared dynalite.
	type flagCase struct {
		name   string
		before types.AttributeValue // nil = absent
		shared bool                 // a second runbook's lock holds it too
	}
	var cases []flagCase
	for _, shared := range []bool{false, true} {
		cases = append(cases,
			flagCase{"false before", &types.AttributeValueMemberBOOL{Value: false}, shared},
			flagCase{"true before", &types.AttributeValueMemberBOOL{Value: true}, shared},
			flagCase{"string before", &types.AttributeValueMemberS{Value: "maint"}, shared},
			flagCase{"absent before", nil, shared})
	}
	for _, tt := range cases {
		t.Run(fmt.Sprintf("%s/shared=%t", tt.name, tt.shared), func(t *testing.T) {
			attrs := map[string]types.AttributeValue{}
			if tt.before != nil {
				attrs["enabled"] = tt.before
			}
			table, enabled := dynamoSettings(t, attrs)
			lockSteps := fmt.Sprintf(`      - id: take
        kind: lock
        with: {ttl: 1m, maintenance: {table: %s, key: {name: maintenance}, attribute: enabled}}
      - {id: give, kind: unlock}
`, table)
			users := newDynamoRig(t, 2, "", lockSteps, 1, nil)
			orders := rig.OtherRunbook(t, users, "orders-migration")
			locks := []*rig.Data{users}
			if tt.shared {
				locks = append(locks, orders)
			}
			for _, r := range locks {
				if _, err := r.Run(r.StepContext("take")); err != nil {
					t.Fatalf("lock %s: %v", r.RB.Name, err)
				}
				t.Cleanup(func() { _ = r.Leases.Release(context.Background()) })
			}
			isOn := func() bool {
				b, ok := enabled().(*types.AttributeValueMemberBOOL)
				return ok && b.Value
			}
			if !isOn() {
				t.Fatal("flag not on while locked")
			}
			res, err := users.Run(users.StepContext("give"))
			if err != nil {
				t.Fatalf("first unlock: %v", err)
			}
			if !tt.shared {
				if got := enabled(); fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tt.before) {
					t.Errorf("flag after unlock = %#v, want %#v restored", got, tt.before)
				}
				return
			}
			if ur := res.(steps.UnlockResult); ur.MaintenanceCleared != 0 || !slices.Equal(ur.MaintenanceLeftOn, []string{"orders-migration/test"}) {
				t.Errorf("first unlock = %+v, want the flag left on for orders-migration/test", ur)
			}
			if !isOn() {
				t.Fatalf("flag after the first unlock = %#v, want on: the other migration is still locked", enabled())
			}
			if _, err := orders.Run(orders.StepContext("give")); err != nil {
				t.Fatalf("second unlock: %v", err)
			}
			if got := enabled(); fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tt.before) {
				t.Errorf("flag after the last unlock = %#v, want %#v restored", got, tt.before)
			}
		})
	}
}
