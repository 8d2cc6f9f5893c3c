package acceptance

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/internal/dynalite"
)

// TestDynamoMigrateWithConcurrentWriter runs the counter migration while
// an application keeps bumping the counters of random items that are
// still at version 1. No write is lost: each item the application changed
// ends at the application's last value + 1 (the migration re-read it and
// migrated the new value), and the migration counts the conflicts.
//
// Pages of 500 items written at 1,000 items/s keep about 250 read items
// waiting for their write at any time, so some bumps land between the
// migration's read and its write.
func TestDynamoMigrateWithConcurrentWriter(t *testing.T) {
	t.Parallel()
	const items = 5000
	endpoint := dynalite.Start(t)
	c := dynamoClient(t, endpoint)
	seeded := randomCounts(t, items, "item-")
	seedDynamo(t, c, "counters", seeded)

	h := newHarness(t)
	rb := h.writeFile("counter.yaml", counterRunbook("acc-writer", dynamoStore(endpoint, "counters"), 1000, 500, 1))
	p := h.start("run", rb, "--env", "test", "--plain")
	w := startWriter(t, c, "counters", slices.Sorted(maps.Keys(seeded)), p.Done())
	r := p.Wait(3 * time.Minute)
	bumped, writes := w.wait(t)
	t.Logf("the writer changed %d items with %d writes", len(bumped), writes)
	if r.Code != 0 {
		t.Fatalf("run: exit %d, want 0\n%s", r.Code, r)
	}
	if len(bumped) == 0 {
		t.Fatal("the writer changed no item: nothing tested")
	}
	checkMigratedOnce(t, seeded, readDynamo(t, c, "counters"), bumped)

	var res migrateResult
	if status := h.stepResult(h.onlySession().ID, "bump", &res); status != "done" {
		t.Fatalf("bump ended %q, want done", status)
	}
	t.Logf("result: %+v", res)
	if res.Conflicts == 0 || res.Conflicts > writes {
		t.Errorf("result.conflicts = %d, want between 1 and the writer's %d writes", res.Conflicts, writes)
	}
	if res.Migrated != items || res.Unresolved != 0 || res.Failures != 0 {
		t.Errorf("result migrated=%d unresolved=%d failures=%d, want %d, 0, 0", res.Migrated, res.Unresolved, res.Failures, items)
	}
}

// writer is an application writing while a migration runs.
type writer struct {
	done   chan struct{}
	mu     sync.Mutex
	last   map[string]int64 // item → count after the writer's last successful write
	writes int64
	err    error
}

// startWriter bumps the count of random ids (only while the item is still
// at version 1, as an application of that version would) about every
// 2 ms until stop is closed, recording the values it wrote.
func startWriter(t *testing.T, c *dynamodb.Client, table string, ids []string, stop <-chan struct{}) *writer {
	t.Helper()
	w := &writer{done: make(chan struct{}), last: map[string]int64{}}
	rng := rand.New(rand.NewPCG(7, 11))
	go func() {
		defer close(w.done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			id := ids[rng.IntN(len(ids))]
			out, err := c.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
				TableName:                 aws.String(table),
				Key:                       map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}},
				UpdateExpression:          aws.String("SET #c = #c + :d"),
				ConditionExpression:       aws.String("#v = :one"),
				ExpressionAttributeNames:  map[string]string{"#c": "count", "#v": "v"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":d": num(int64(1 + rng.IntN(1000))), ":one": num(seedVersion)},
				ReturnValues:              types.ReturnValueUpdatedNew,
			})
			var ccf *types.ConditionalCheckFailedException
			switch {
			case errors.As(err, &ccf): // already migrated: the application leaves it
				continue
			case err != nil:
				w.err = err
				return
			}
			n, ok := out.Attributes["count"].(*types.AttributeValueMemberN)
			if !ok {
				w.err = errors.New("UpdateItem returned no numeric count")
				return
			}
			v, err := strconv.ParseInt(n.Value, 10, 64)
			if err != nil {
				w.err = err
				return
			}
			w.mu.Lock()
			w.last[id] = v
			w.writes++
			w.mu.Unlock()
		}
	}()
	t.Cleanup(func() { <-w.done })
	return w
}

// wait waits for the writer to stop and returns what it wrote; it fails
// the test if a write failed for another reason than its condition.
func (w *writer) wait(t *testing.T) (map[string]int64, int64) {
	t.Helper()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		t.Fatalf("concurrent writer: %v", w.err)
	}
	return w.last, w.writes
}
