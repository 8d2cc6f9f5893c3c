package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

func TestBackupUnsupportedByDynalite(t *testing.T) {
	st := newTable(t, dynalite.Shared(t), storetest.Seed(2))
	ctx := context.Background()
	if _, err := st.CreateBackup(ctx, "b1"); !errors.Is(err, engine.ErrUnsupported) || !strings.Contains(err.Error(), "not supported by this endpoint") {
		t.Errorf("CreateBackup()=%v, want ErrUnsupported", err)
	}
	if _, err := st.PITRStatus(ctx); !errors.Is(err, engine.ErrUnsupported) {
		t.Errorf("PITRStatus()=%v, want ErrUnsupported", err)
	}
}

func TestOpenMissingTable(t *testing.T) {
	_, err := dynamo.Open(context.Background(), &runbook.StoreSpec{Table: "nope", Region: "us-east-1", Endpoint: dynalite.Shared(t)})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "open dynamodb table nope") {
		t.Errorf("Open(missing)=%v, want ResourceNotFoundException naming the table", err)
	}
}

// TestCompositeKeyAndCapacity uses a provisioned table with a partition
// and sort key, attribute names that are reserved words, and numbers that
// exceed float64.
func TestCompositeKeyAndCapacity(t *testing.T) {
	endpoint := dynalite.Shared(t)
	ctx := context.Background()
	name := fmt.Sprintf("composite-%d", tableSeq.Add(1))
	_, err := adminClient(t, endpoint).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("user"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("order"), KeyType: types.KeyTypeRange},
		},
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("user"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("order"), AttributeType: types.ScalarAttributeTypeN},
		},
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(7), WriteCapacityUnits: aws.Int64(3)},
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := dynamo.Open(ctx, &runbook.StoreSpec{Table: name, Region: "us-east-1", Endpoint: endpoint, VersionAttribute: "size"})
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(info.Key) != "[user order]" || info.ReadCapacityUnits != 7 || info.WriteCapacityUnits != 3 || info.Backend != "dynamodb" {
		t.Errorf("Describe()=%+v, want key [user order], 7 RCU, 3 WCU", info)
	}
	var items []engine.Item
	for i := range 30 {
		items = append(items, engine.Item{"user": fmt.Sprintf("u%d", i%4), "order": engine.Number(fmt.Sprint(i)), "status": "new",
			"total": engine.Number("123456789012345678901234567890.000001")})
	}
	if err := st.Put(ctx, items); err != nil {
		t.Fatal(err)
	}
	key := engine.Item{"user": "u1", "order": engine.Number("5")}
	u := engine.Update{Key: key, Set: engine.Attrs(map[string]any{"status": "paid"}), Version: 2,
		Guard: engine.Guard{VersionAttr: "size", Below: 2, Unchanged: engine.Attrs(map[string]any{
			"status": "new", "total": engine.Number("123456789012345678901234567890.000001")})}}
	if err := st.Update(ctx, u); err != nil {
		t.Fatalf("Update(reserved words, composite key)=%v", err)
	}
	if err := st.Update(ctx, u); !errors.Is(err, engine.ErrConditionFailed) {
		t.Errorf("Update() again=%v, want ErrConditionFailed", err)
	}
	got, ok, err := st.Get(ctx, key)
	if err != nil || !ok || got["status"] != "paid" || got["size"] != engine.Number("2") ||
		got["total"] != engine.Number("123456789012345678901234567890.000001") {
		t.Errorf("Get()=%v, %v, %v", got, ok, err)
	}
	all := map[string]bool{}
	for seg := range 3 {
		var cur []byte
		for {
			p, err := st.Scan(ctx, engine.ScanRequest{Segment: seg, TotalSegments: 3, Cursor: cur, Limit: 4})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range p.Items {
				all[fmt.Sprint(it["user"], it["order"])] = true
			}
			if cur = p.Next; cur == nil {
				break
			}
		}
	}
	if len(all) != len(items) {
		t.Errorf("scan found %d items, want %d", len(all), len(items))
	}
	if err := st.Update(ctx, engine.Update{Key: key, Set: engine.Attrs(map[string]any{"order": engine.Number("6")})}); err == nil {
		t.Error("Update(key attribute)=nil, want a refusal")
	}
}
