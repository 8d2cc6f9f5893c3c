package dynamo_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/store/storetest"
	"github.com/lockstep-run/lockstep/internal/dynalite"
)

// TestSetFlagCoercesKeyTypes addresses maintenance items whose key
// attributes are numbers or binary with the strings a runbook gives.
func TestSetFlagCoercesKeyTypes(t *testing.T) {
	endpoint := dynalite.Shared(t)
	st := newTable(t, endpoint, storetest.Seed(1))
	admin := adminClient(t, endpoint)
	ctx := context.Background()
	type attr struct {
		name string
		typ  types.ScalarAttributeType
		val  types.AttributeValue // the stored item's key value
	}
	n := func(s string) types.AttributeValue { return &types.AttributeValueMemberN{Value: s} }
	s := func(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
	tests := []struct {
		name    string
		schema  []attr
		key     engine.Item
		wantErr string // "" = the flag is set
	}{
		{"number key", []attr{{"id", types.ScalarAttributeTypeN, n("1")}}, engine.Item{"id": "1"}, ""},
		{"number key as engine.Number", []attr{{"id", types.ScalarAttributeTypeN, n("1")}}, engine.Item{"id": engine.Number("1")}, ""},
		{"string key", []attr{{"name", types.ScalarAttributeTypeS, s("app")}}, engine.Item{"name": "app"}, ""},
		{"binary key (base64)", []attr{{"id", types.ScalarAttributeTypeB, &types.AttributeValueMemberB{Value: []byte("app")}}},
			engine.Item{"id": "YXBw"}, ""},
		{"string and number keys", []attr{{"app", types.ScalarAttributeTypeS, s("web")}, {"rev", types.ScalarAttributeTypeN, n("7")}},
			engine.Item{"app": "web", "rev": "7"}, ""},
		{"not a number", []attr{{"id", types.ScalarAttributeTypeN, n("1")}}, engine.Item{"id": "abc"},
			`key id="abc": table %s's key id is a number`},
		{"not base64", []attr{{"id", types.ScalarAttributeTypeB, &types.AttributeValueMemberB{Value: []byte("app")}}},
			engine.Item{"id": "%%%"}, `key id="%%%%%%": table %s's key id is binary (base64)`},
		{"missing key attribute", []attr{{"app", types.ScalarAttributeTypeS, s("web")}, {"rev", types.ScalarAttributeTypeN, n("7")}},
			engine.Item{"app": "web"}, `table %s's key rev is missing`},
		{"not a key attribute", []attr{{"id", types.ScalarAttributeTypeN, n("1")}}, engine.Item{"id": "1", "env": "prod"},
			`env is not a key attribute of table %s`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := fmt.Sprintf("cfg-%d-%d", tableSeq.Add(1), i)
			in := &dynamodb.CreateTableInput{TableName: aws.String(table), BillingMode: types.BillingModePayPerRequest}
			item := map[string]types.AttributeValue{}
			for j, a := range tt.schema {
				kt := types.KeyTypeHash
				if j > 0 {
					kt = types.KeyTypeRange
				}
				in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String(a.name), KeyType: kt})
				in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(a.name), AttributeType: a.typ})
				item[a.name] = a.val
			}
			if _, err := admin.CreateTable(ctx, in); err != nil {
				t.Fatal(err)
			}
			w := dynamodb.NewTableExistsWaiter(admin)
			if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 30*time.Second); err != nil {
				t.Fatal(err)
			}
			if _, err := admin.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
				t.Fatal(err)
			}
			err := st.SetFlag(ctx, table, tt.key, "maintenance", true)
			if tt.wantErr != "" {
				if want := fmt.Sprintf(tt.wantErr, table); err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("SetFlag(%v)=%v, want an error containing %q", tt.key, err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("SetFlag(%v, on)=%v", tt.key, err)
			}
			got, err := admin.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: item, ConsistentRead: aws.Bool(true)})
			if err != nil {
				t.Fatal(err)
			}
			if on, ok := got.Item["maintenance"].(*types.AttributeValueMemberBOOL); !ok || !on.Value {
				t.Fatalf("maintenance=%#v after SetFlag(on), want true", got.Item["maintenance"])
			}
			if err := st.SetFlag(ctx, table, tt.key, "maintenance", false); err != nil {
				t.Fatalf("SetFlag(%v, off)=%v", tt.key, err)
			}
		})
	}
}
