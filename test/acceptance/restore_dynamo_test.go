package acceptance

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/internal/dynalite"
)

// TestDynamoRestorePlanB is TestSQLiteRestorePlanB against dynalite: the
// application's writes after the migration are conflicts, kept as it
// wrote them; every other item is restored exactly, version included.
func TestDynamoRestorePlanB(t *testing.T) {
	t.Parallel()
	const n = 200
	endpoint := dynalite.Start(t)
	c := dynamoClient(t, endpoint)
	seeded := randomCounts(t, n, "user-")
	seedDynamo(t, c, "counters", seeded)
	h := newHarness(t)
	rb := h.writeFile("plan-b.yaml", restoreRunbook("acc-restore-dynamo", dynamoStore(endpoint, "counters"), 0, 50))
	answers := h.writeFile("answers.yaml", "undo: {choice: keep, reason: \"the app's writes win\"}\n")
	p := h.start("run", rb, "--env", "test", "--plain", "--answers", answers)
	h.waitStepEnd(p, "bump", 2*time.Minute)

	app := map[string]row{}
	ctx := context.Background()
	for i, id := range []string{"user-000003", "user-000042", "user-000077", "user-000150"} {
		if i == 0 {
			if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("counters"),
				Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}}}); err != nil {
				t.Fatal(err)
			}
			app[id] = row{}
			continue
		}
		if _, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("counters"),
			Key:                       map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}},
			UpdateExpression:          aws.String("SET #c = #c + :d"),
			ExpressionAttributeNames:  map[string]string{"#c": "count"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": num(1000)},
		}); err != nil {
			t.Fatal(err)
		}
		app[id] = row{Count: seeded[id] + 1 + 1000, V: targetVersion}
	}
	h.writeFile("app-done", "")
	if r := p.Wait(2 * time.Minute); r.Code != 0 {
		t.Fatalf("run: exit %d, want 0\n%s", r.Code, r)
	}
	var res restoreResult
	if status := h.stepResult(h.onlySession().ID, "undo", &res); status != "done" {
		t.Fatalf("undo ended %q", status)
	}
	if res.Restored != n-4 || res.Conflicts != 4 || res.Kept != 4 || res.Deleted != 1 {
		t.Errorf("undo = %+v, want %d restored, 4 conflicts kept (1 deleted)", res, n-4)
	}
	checkRestored(t, seeded, readDynamo(t, c, "counters"), app)
}
