package acceptance

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
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

// The chaos tests: a guarded, non-idempotent migration (count + 1) runs
// while an application keeps adding to the very attribute it migrates,
// without any condition, and lockstep is killed with SIGKILL at random
// moments and resumed each time. Afterwards every item holds exactly
// seed + the application's additions + 1: no increment of the migration
// was applied twice or lost, and no write of the application was
// clobbered by a migration write planned from an older read. The journal
// verifies after every kill and at the end.
//
// LOCKSTEP_CHAOS_SEED replays one run's kill moments (each run logs its
// seed).

// chaosKills is how many times each chaos test kills lockstep.
const chaosKills = 10

func TestChaosSQLiteKillsWithApplicationWriter(t *testing.T) {
	t.Parallel()
	const items, batch, segments = 4000, 100, 2
	h := newHarness(t)
	data := filepath.Join(h.dir, "data.db")
	seeded := seedSQLite(t, data, "counters", items)
	db, err := sql.Open("sqlite3", "file:"+data+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	add := func(ctx context.Context, id string, d int64) error {
		_, err := db.ExecContext(ctx, `UPDATE counters SET count = count + ? WHERE id = ?`, d, id)
		return err
	}
	rb := h.writeFile("counter.yaml", counterRunbook("chaos-sqlite", sqliteStore(data, "counters"), 800, batch, segments))
	runChaos(t, h, rb, seeded, add, func() map[string]row { return readSQLite(t, data, "counters") })
}

func TestChaosDynamoKillsWithApplicationWriter(t *testing.T) {
	t.Parallel()
	const items, batch, segments = 4000, 100, 2
	endpoint := dynalite.Start(t)
	c := dynamoClient(t, endpoint)
	seeded := randomCounts(t, items, "item-")
	seedDynamo(t, c, "counters", seeded)
	add := func(ctx context.Context, id string, d int64) error {
		_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String("counters"),
			Key:                       map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}},
			UpdateExpression:          aws.String("SET #c = #c + :d"),
			ExpressionAttributeNames:  map[string]string{"#c": "count"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": num(d)},
		})
		return err
	}
	h := newHarness(t)
	rb := h.writeFile("counter.yaml", counterRunbook("chaos-dynamo", dynamoStore(endpoint, "counters"), 800, batch, segments))
	runChaos(t, h, rb, seeded, add, func() map[string]row { return readDynamo(t, c, "counters") })
}

// runChaos runs rb (the counter migration of step "bump") while add keeps
// changing counters, kills lockstep chaosKills times at random moments of
// the migration and resumes it to the end, then checks every counter.
func runChaos(t *testing.T, h *harness, rb string, seeded map[string]int64,
	add func(ctx context.Context, id string, d int64) error, read func() map[string]row) {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("LOCKSTEP_CHAOS_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("LOCKSTEP_CHAOS_SEED=%q: %v", s, err)
		}
	}
	t.Logf("chaos seed %d (LOCKSTEP_CHAOS_SEED=%d replays the kill moments)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	app := startApplication(t, slices.Sorted(maps.Keys(seeded)), add, seed)
	var id string
	last := 0
	for kill := 1; kill <= chaosKills; kill++ {
		var p *proc
		if kill == 1 {
			p = h.start("run", rb, "--env", "test", "--plain")
		} else {
			p = h.start("resume", id, "--plain")
		}
		// Kill at a random moment once this attempt made progress, so
		// that every kill lands inside the migration, not in start-up.
		last = h.waitCheckpoints(p, "bump", last+1, 2*time.Minute)
		time.Sleep(time.Duration(rng.IntN(250)) * time.Millisecond)
		if p.Exited() {
			t.Fatalf("kill %d: lockstep finished before the kill: the migration is too short for %d kills\n%s", kill, chaosKills, p.Output())
		}
		p.kill9()
		id = h.onlySession().ID
		if _, ended := lastStepEnd(t, h.journalDB(), id, "bump"); ended {
			t.Fatalf("kill %d: the migrate step had already ended", kill)
		}
		h.mustRun(0, time.Minute, "journal", "verify", id)
		last = h.checkpoints("bump")
	}
	r := h.start("resume", id, "--plain").Wait(3 * time.Minute)
	if r.Code != 0 {
		t.Fatalf("final resume: exit %d, want 0\n%s", r.Code, r)
	}
	added, writes := app.stop(t)
	t.Logf("the application made %d writes to %d items during %d kills", writes, len(added), chaosKills)
	if writes == 0 {
		t.Fatal("the application wrote nothing: nothing tested")
	}
	h.mustRun(0, time.Minute, "journal", "verify", id)
	want := make(map[string]int64, len(added))
	for k, d := range added {
		want[k] = seeded[k] + d
	}
	checkMigratedOnce(t, seeded, read(), want)

	var res migrateResult
	if status := h.stepResult(id, "bump", &res); status != "done" {
		t.Fatalf("bump ended %q, want done", status)
	}
	if got := res.Migrated + res.Already; got != int64(len(seeded)) || res.Failures != 0 || res.Unresolved != 0 {
		t.Errorf("result migrated=%d already=%d failures=%d unresolved=%d, want migrated+already=%d and no failure",
			res.Migrated, res.Already, res.Failures, res.Unresolved, len(seeded))
	}
}

// application adds to random counters, unconditionally, until stopped.
type application struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	added  map[string]int64 // id → sum of the additions that succeeded
	writes int64
	err    error
}

func startApplication(t *testing.T, ids []string, add func(ctx context.Context, id string, d int64) error, seed uint64) *application {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &application{cancel: cancel, done: make(chan struct{}), added: map[string]int64{}}
	rng := rand.New(rand.NewPCG(seed, 2))
	go func() {
		defer close(a.done)
		for ctx.Err() == nil {
			id, d := ids[rng.IntN(len(ids))], int64(1+rng.IntN(1000))
			// An application write is not cancelled half-way: it either
			// completed (and is counted) or was never sent.
			if err := add(context.WithoutCancel(ctx), id, d); err != nil {
				a.mu.Lock()
				a.err = fmt.Errorf("application write to %s: %w", id, err)
				a.mu.Unlock()
				return
			}
			a.mu.Lock()
			a.added[id] += d
			a.writes++
			a.mu.Unlock()
			time.Sleep(time.Millisecond)
		}
	}()
	t.Cleanup(func() { cancel(); <-a.done })
	return a
}

// stop stops the application and returns what it added; it fails the
// test if a write failed.
func (a *application) stop(t *testing.T) (map[string]int64, int64) {
	t.Helper()
	a.cancel()
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		t.Fatal(a.err)
	}
	return a.added, a.writes
}
