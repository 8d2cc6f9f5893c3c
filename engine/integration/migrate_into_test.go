package integration_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/steps"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/internal/dynalite"
	"github.com/lockstep-run/lockstep/runbook"
)

// intoSteps copies users (key id) into TABLE under (pk = "NAME#" + name,
// sk = id), adding a tag; its rollback deletes what it copied.
const intoSteps = `      - id: copy
        kind: migrate
        with: &copy
          set: {tag: '"copied"'}
          into:
            table: TABLE
            key: {pk: '"NAME#" + item.name', sk: 'item.id'}
          batch_size: 10
          segments: 2
        rollback: {kind: migrate, with: *copy, destructive: true}
      - {id: check, kind: verify, with: {copy: copy}}
`

// copyRig is a dynamo rig whose users table (n items) is copied into a
// second table keyed (pk S, sk N).
type copyRig struct {
	*rig.Data
	target engine.Store // the new table
}

func newCopyRig(t *testing.T, n int, steps string) *copyRig {
	t.Helper()
	if testing.Short() {
		t.Skip("dynalite tests are not short")
	}
	endpoint := dynalite.Shared(t)
	table := fmt.Sprintf("users_by_name_%d", dynamoTables.Add(1))
	ctx := context.Background()
	client := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("lockstep", "lockstep", "")})
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN}}})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	r := newDynamoRig(t, 2, "", strings.ReplaceAll(steps, "TABLE", table), n, nil)
	target, err := dynamo.Open(ctx, &runbook.StoreSpec{Kind: "dynamodb", Table: table, Region: "us-east-1", Endpoint: endpoint})
	if err != nil {
		t.Fatalf("open target: %v", err)
	}
	return &copyRig{Data: r, target: target}
}

// copied reads the target table by "pk/sk".
func (r *copyRig) copied() map[string]engine.Item {
	r.T.Helper()
	out := map[string]engine.Item{}
	var cursor []byte
	for {
		p, err := r.target.Scan(context.Background(), engine.ScanRequest{TotalSegments: 1, Cursor: cursor, Limit: 500, Consistent: true})
		if err != nil {
			r.T.Fatalf("scan target: %v", err)
		}
		for _, it := range p.Items {
			out[fmt.Sprintf("%v/%v", it["pk"], it["sk"])] = it
		}
		if p.Next == nil {
			return out
		}
		cursor = p.Next
	}
}

// checkCopied checks that every source item is in the target under its
// new key with its attributes, the tag and version 2.
func (r *copyRig) checkCopied(n int, except ...string) {
	r.T.Helper()
	got := r.copied()
	if len(got) != n {
		r.T.Fatalf("target holds %d items, want %d", len(got), n)
	}
	for i := 1; i <= n; i++ {
		k := fmt.Sprintf("NAME#user%d/%d", i, i)
		it, ok := got[k]
		switch {
		case !ok:
			r.T.Fatalf("target lacks %s", k)
		case slicesContains(except, k):
		case rig.AttrStr(it, "name") != fmt.Sprint("user", i) || rig.AttrNum(it, "count") != int64(i) ||
			rig.AttrNum(it, "id") != int64(i) || rig.AttrStr(it, "tag") != "copied" || rig.AttrNum(it, "v") != 2 || len(it) != 7:
			r.T.Fatalf("target %s = %v, want the source item with pk, sk, tag and v 2", k, it)
		}
	}
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func copyResult(t *testing.T, res any, err error) migrate.CopyResult {
	t.Helper()
	cr, ok := res.(migrate.CopyResult)
	if !ok {
		t.Fatalf("result %T (%v), want migrate.CopyResult", res, err)
	}
	return cr
}

// TestCopyDynamoRerunIdempotent copies every item, leaves the source as
// it was, and a second run writes nothing.
func TestCopyDynamoRerunIdempotent(t *testing.T) {
	t.Parallel()
	const n = 150
	r := newCopyRig(t, n, intoSteps)
	res, err := r.Run(r.StepContext("copy"))
	if err != nil {
		t.Fatalf("copy: %v\n%v", err, res)
	}
	if got := copyResult(t, res, err).Copy; got.Scanned != n || got.Copied != n || got.Collisions != 0 {
		t.Errorf("counts = %+v, want %d scanned and copied", got, n)
	}
	r.checkCopied(n)
	for id, it := range r.All() {
		if it["v"] != nil || it["tag"] != nil {
			t.Fatalf("source item %s = %v: a copy only reads its table", id, it)
		}
	}
	res, err = r.Run(r.StepContext("copy"))
	if got := copyResult(t, res, err).Copy; err != nil || got.Copied != 0 || got.Already != n {
		t.Fatalf("re-run = %+v, %v; want nothing copied, %d already there", got, err, n)
	}
	r.checkCopied(n)
}

// TestCopyDynamoResumeAfterCrash stops the copy after a few checkpoints
// (a crash mid-copy); the resumed step continues from its checkpoints
// and leaves every item copied once.
func TestCopyDynamoResumeAfterCrash(t *testing.T) {
	t.Parallel()
	const n = 300
	r := newCopyRig(t, n, intoSteps)
	ctx, cancel := context.WithCancel(context.Background())
	sc := r.StepContext("copy")
	sc.Journal = &rig.CancelJournal{Journal: r.J, N: 6, Cancel: cancel}
	if _, err := rig.ExecutorFor(sc.Step.Kind).Execute(ctx, sc); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted copy error = %v, want context.Canceled", err)
	}
	if got := len(r.copied()); got == 0 || got >= n {
		t.Fatalf("%d items copied before the crash, want some", got)
	}
	before := len(r.copied())
	sc = r.StepContext("copy")
	sc.Resumed = true
	counting := &scanCounter{Store: r.St}
	sc.Store = func(context.Context) (engine.Store, error) { return counting, nil }
	res, err := r.Run(sc)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	got := copyResult(t, res, err).Copy
	// The resume continues from the checkpoints: it reads again at most
	// the page in flight per segment (2 × batch_size 10), and its counts
	// continue the interrupted run's.
	if read := int(counting.read.Load()); read > n-before+2*10 {
		t.Errorf("resume read %d items, %d were copied before the crash: want at most the rest and a page per segment", read, before)
	}
	if got.Scanned < n || got.Copied+got.Already != n || got.Scanned > n+2*10 {
		t.Errorf("counts = %+v, want %d items scanned once (plus a page per segment), copied+already %d", got, n, n)
	}
	r.checkCopied(n)
}

// scanCounter counts the items its store's scans return; it still opens
// the new table through the store.
type scanCounter struct {
	engine.Store
	read atomic.Int64
}

func (s *scanCounter) Scan(ctx context.Context, req engine.ScanRequest) (engine.Page, error) {
	p, err := s.Store.Scan(ctx, req)
	s.read.Add(int64(len(p.Items)))
	return p, err
}

func (s *scanCounter) OpenTable(ctx context.Context, name string) (engine.CopyTarget, error) {
	return s.Store.(engine.TableOpener).OpenTable(ctx, name)
}

// TestCopyDynamoKeepsNewerTarget: an item the application already wrote
// into the new table at a newer version, or at the version with other
// values (a dual write), is left as it is.
func TestCopyDynamoKeepsNewerTarget(t *testing.T) {
	t.Parallel()
	const n = 40
	r := newCopyRig(t, n, intoSteps)
	newer := engine.Item{"pk": "NAME#user3", "sk": engine.Number("3"), "id": engine.Number("3"), "name": "user3",
		"count": engine.Number("99"), "v": engine.Number("3")}
	dual := engine.Item{"pk": "NAME#user4", "sk": engine.Number("4"), "id": engine.Number("4"), "name": "user4",
		"count": engine.Number("44"), "v": engine.Number("2")}
	if err := r.target.Put(context.Background(), []engine.Item{newer, dual}); err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(r.StepContext("copy"))
	if err != nil {
		t.Fatalf("copy: %v", err)
	}
	if got := copyResult(t, res, err).Copy; got.Newer != 2 || got.Copied != n-2 {
		t.Errorf("counts = %+v, want 2 newer kept, %d copied", got, n-2)
	}
	got := r.copied()
	for k, want := range map[string]engine.Item{"NAME#user3/3": newer, "NAME#user4/4": dual} {
		if it := got[k]; rig.AttrNum(it, "count") != rig.AttrNum(want, "count") || it["tag"] != nil {
			t.Errorf("target %s = %v, want the application's %v untouched", k, it, want)
		}
	}
	r.checkCopied(n, "NAME#user3/3", "NAME#user4/4")
}

// TestCopyDynamoReportsCollisions: two source items under one new key
// are reported, the first copy is not overwritten, and the step fails
// naming them — whether both are read by the same run, or the new key
// already holds another source item's copy (an earlier run's, which this
// run does not remember).
func TestCopyDynamoReportsCollisions(t *testing.T) {
	t.Parallel()
	const n = 30
	r := newCopyRig(t, n, strings.Replace(intoSteps, `key: {pk: '"NAME#" + item.name', sk: 'item.id'}`,
		`key: {pk: '"NAME#" + item.name', sk: 'item.count'}`, 1))
	twin := engine.Item{"id": engine.Number("1001"), "name": "user7", "count": engine.Number("7")}
	if err := r.Seed.Put(context.Background(), []engine.Item{twin}); err != nil {
		t.Fatal(err)
	}
	other := engine.Item{"pk": "NAME#user8", "sk": engine.Number("8"), "id": engine.Number("2000"), "name": "user8",
		"count": engine.Number("8"), "tag": "copied", "v": engine.Number("2")}
	if err := r.target.Put(context.Background(), []engine.Item{other}); err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		res, err := r.Run(r.StepContext("copy"))
		if !errors.Is(err, migrate.ErrItemsLeft) || !strings.Contains(err.Error(), "2 item(s) collide") {
			t.Fatalf("run %d error = %v, want ErrItemsLeft naming 2 collisions", run, err)
		}
		if got := copyResult(t, res, err).Copy; got.Collisions != 2 || got.Copied+got.Already != n-1 {
			t.Errorf("run %d counts = %+v, want 2 collisions, %d copied or already there", run, got, n-1)
		}
		got := r.copied()
		if id := rig.AttrNum(got["NAME#user7/7"], "id"); id != 7 && id != 1001 {
			t.Fatalf("run %d: target NAME#user7/7 = %v", run, got["NAME#user7/7"])
		}
		if id := rig.AttrNum(got["NAME#user8/8"], "id"); id != 2000 {
			t.Fatalf("run %d: target NAME#user8/8 = %v, want the other item (id 2000) kept", run, got["NAME#user8/8"])
		}
	}
	var warned []string
	for _, ev := range r.EventsOf(engine.EvWarning) {
		for _, key := range []string{"id=8 → pk=NAME#user8,sk=8", "pk=NAME#user7,sk=7"} {
			if d := string(ev.Data); strings.Contains(d, "collision") && strings.Contains(d, key) && !slicesContains(warned, key) {
				warned = append(warned, key)
			}
		}
	}
	if len(warned) != 2 {
		t.Errorf("collision warnings name %v, want both colliding keys", warned)
	}
}

// TestCopyDynamoDryRun shows source → target samples and writes nothing.
func TestCopyDynamoDryRun(t *testing.T) {
	t.Parallel()
	r := newCopyRig(t, 20, intoSteps)
	sc := r.StepContext("copy")
	sc.Mode = engine.ModeDryRun
	res, err := r.Run(sc)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	cr := copyResult(t, res, err)
	if cr.Copy.Copied != 20 || len(cr.Copies) == 0 || !cr.DryRun {
		t.Errorf("dry run = %+v, want 20 to copy and samples", cr)
	}
	if s := cr.Copies[0]; !strings.HasPrefix(s.From, "id=") || !strings.HasPrefix(s.To, "pk=NAME#user") || s.Item["tag"] != "copied" {
		t.Errorf("sample = %+v, want source key → new key and the item", s)
	}
	if got := len(r.copied()); got != 0 {
		t.Errorf("dry run wrote %d items", got)
	}
}

// TestCopyDynamoRollbackKeepsChanged: the rollback deletes the items the
// copy wrote, but keeps one the application changed since.
func TestCopyDynamoRollbackKeepsChanged(t *testing.T) {
	t.Parallel()
	const n = 50
	r := newCopyRig(t, n, intoSteps)
	if _, err := r.Run(r.StepContext("copy")); err != nil {
		t.Fatalf("copy: %v", err)
	}
	changed := r.copied()["NAME#user9/9"]
	changed["count"] = engine.Number("900")
	if err := r.target.Put(context.Background(), []engine.Item{changed}); err != nil {
		t.Fatal(err)
	}
	sc := r.StepContext("copy")
	sc.Step, sc.Of, sc.Rollback = sc.Step.Rollback, sc.Step, true
	res, err := r.Run(sc)
	if err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if got := copyResult(t, res, err).Copy; got.Copied != n-1 || got.Newer != 1 {
		t.Errorf("rollback counts = %+v, want %d deleted, 1 kept", got, n-1)
	}
	left := r.copied()
	if it, ok := left["NAME#user9/9"]; len(left) != 1 || !ok || rig.AttrNum(it, "count") != 900 {
		t.Errorf("target after rollback = %v, want only the changed item", left)
	}
	if got := len(r.All()); got != n {
		t.Errorf("source holds %d items after the rollback, want %d", got, n)
	}
}

// TestVerifyCopyDynamo: verify's copy check passes on a complete copy
// and names a missing item, a different one and the count difference.
func TestVerifyCopyDynamo(t *testing.T) {
	t.Parallel()
	const n = 60
	r := newCopyRig(t, n, intoSteps)
	if _, err := r.Run(r.StepContext("copy")); err != nil {
		t.Fatalf("copy: %v", err)
	}
	res, err := r.Run(r.StepContext("check"))
	if err != nil {
		t.Fatalf("verify of a complete copy: %v", err)
	}
	if c := res.(steps.VerifyStepResult).Copy; c == nil || c.Checked != n || c.Source != n || c.Target != n {
		t.Fatalf("copy check = %+v, want %d checked, %d in each table", c, n, n)
	}
	ctx := context.Background()
	changed := r.copied()["NAME#user5/5"]
	changed["name"] = "someone else"
	if err := r.target.Put(ctx, []engine.Item{changed}); err != nil {
		t.Fatal(err)
	}
	if err := r.target.(engine.CopyTarget).DeleteGuarded(ctx, engine.Item{"pk": "NAME#user6", "sk": engine.Number("6")},
		engine.Guard{VersionAttr: "v", Equals: 2}); err != nil {
		t.Fatal(err)
	}
	_, err = r.Run(r.StepContext("check"))
	for _, want := range []string{"holds 59 items, the copy selects 60", "1 of 60 checked items missing and 1 different",
		"id=6 → pk=NAME#user6,sk=6 (missing)", "id=5 → pk=NAME#user5,sk=5 (differs in name)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("verify of a damaged copy = %v, want it to say %q", err, want)
		}
	}
}

// TestCopyDynamoConcurrentDualWrites: an application dual-writes (the old
// table, then the new one at the version) while the copy runs; whatever
// the interleaving, the new table ends with the application's last write
// of each item it wrote, never the copy's older one.
func TestCopyDynamoConcurrentDualWrites(t *testing.T) {
	t.Parallel()
	const n, hot = 400, 40
	r := newCopyRig(t, n, strings.Replace(intoSteps, "batch_size: 10", "batch_size: 5", 1))
	ctx, stop := context.WithCancel(context.Background())
	last := make([]int, hot+1) // id → last count the application wrote
	done := make(chan struct{})
	go func() {
		defer close(done)
		for round := 1; ctx.Err() == nil; round++ {
			for id := 1; id <= hot && ctx.Err() == nil; id++ {
				count := engine.Number(fmt.Sprint(1000*round + id))
				src := engine.Item{"id": engine.Number(fmt.Sprint(id)), "name": fmt.Sprint("user", id), "count": count}
				dst := engine.Item{"pk": fmt.Sprint("NAME#user", id), "sk": engine.Number(fmt.Sprint(id)), "id": src["id"],
					"name": src["name"], "count": count, "tag": "copied", "v": engine.Number("2")}
				if r.Seed.Put(context.Background(), []engine.Item{src}) != nil || r.target.Put(context.Background(), []engine.Item{dst}) != nil {
					t.Error("application write failed")
					return
				}
				last[id] = 1000*round + id
			}
		}
	}()
	res, err := r.Run(r.StepContext("copy"))
	stop()
	<-done
	if err != nil {
		t.Fatalf("copy: %v", err)
	}
	got := copyResult(t, res, err).Copy
	t.Logf("counts %+v", got)
	if got.Copied+got.Already+got.Newer != n || got.Collisions != 0 {
		t.Errorf("counts = %+v, want every item copied, already there or newer", got)
	}
	items := r.copied()
	for id := 1; id <= hot; id++ {
		it := items[fmt.Sprintf("NAME#user%d/%d", id, id)]
		if last[id] != 0 && rig.AttrNum(it, "count") != int64(last[id]) {
			t.Errorf("target item %d count = %d, want the application's last write %d", id, rig.AttrNum(it, "count"), last[id])
		}
	}
	r.checkCopied(n, hotKeys(hot)...)
}

func hotKeys(hot int) []string {
	var out []string
	for id := 1; id <= hot; id++ {
		out = append(out, fmt.Sprintf("NAME#user%d/%d", id, id))
	}
	return out
}

// TestCopyDynamoRefusesTarget: a copy into a table that does not exist,
// or whose key is not the one the step computes, stops before writing,
// saying what to do.
func TestCopyDynamoRefusesTarget(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, from, to, want string }{
		{"missing table", "table: TABLE", "table: no-such-table",
			"into table no-such-table does not exist: create it first with key (pk, sk)"},
		{"other key", "key: {pk: '\"NAME#\" + item.name', sk: 'item.id'}", "key: {sk: 'item.id', pk: '\"NAME#\" + item.name'}",
			"has key (pk, sk), the step computes (sk, pk)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newCopyRig(t, 5, strings.Replace(intoSteps, tt.from, tt.to, 1))
			_, err := r.Run(r.StepContext("copy"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("copy error = %v, want it to say %q", err, tt.want)
			}
			if got := len(r.copied()); got != 0 {
				t.Errorf("%d items written", got)
			}
		})
	}
}
