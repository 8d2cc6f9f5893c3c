package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/fleet"
	"github.com/lockstep-run/lockstep/engine/journal"
	"github.com/lockstep-run/lockstep/engine/migrate"
	"github.com/lockstep-run/lockstep/engine/store/dynamo"
	"github.com/lockstep-run/lockstep/internal/dynalite"
	"github.com/lockstep-run/lockstep/internal/testbin"
	"github.com/lockstep-run/lockstep/runbook"
)

// fleetItems is the table size of the fleet test (the figure).
const fleetItems = 50_000

// fleetRig is a DynamoDB table on dynalite with a counter on every item,
// and the control table the fleet's workers share.
type fleetRig struct {
	t        *testing.T
	e        *env
	endpoint string
	table    string
	client   *dynamodb.Client
	ctl      *dynamo.FleetTable
}

func newFleetRig(t *testing.T, items int) *fleetRig {
	t.Helper()
	return newFleetRigOn(t, dynalite.Start(t), "e2e_fleet", items)
}

// newFleetRigOn is newFleetRig on a running dynalite, in a new table.
func newFleetRigOn(t *testing.T, endpoint, table string, items int) *fleetRig {
	t.Helper()
	r := &fleetRig{t: t, e: newEnv(t), endpoint: endpoint, table: table}
	createTable(t, endpoint, r.table)
	ctx := context.Background()
	st, err := dynamo.Open(ctx, &runbook.StoreSpec{Kind: "dynamodb", Table: r.table, Region: "us-east-1", Endpoint: endpoint, Key: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	batch := make([]engine.Item, 0, 1000)
	for i := 1; i <= items; i++ {
		batch = append(batch, engine.Item{"id": engine.Number(strconv.Itoa(i)), "counter": engine.Number("0")})
		if len(batch) == cap(batch) || i == items {
			if err := st.Put(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if r.client, err = dynamo.NewClient(ctx, &runbook.StoreSpec{Region: "us-east-1", Endpoint: endpoint}); err != nil {
		t.Fatal(err)
	}
	r.ctl = dynamo.NewFleetTable(r.client, runbook.DefaultFleetTable)
	r.e.vars = append(r.e.vars, "E2E_TABLE="+r.table, "E2E_ENDPOINT="+endpoint)
	return r
}

// worker is a running worker process of the session, found in /proc.
type worker struct {
	pid   int
	fleet string
	index int // its LOCKSTEP_WORKER_INDEX (-1: none)
}

// workers lists the worker processes whose parent is pid.
func workers(t *testing.T, parent int) []worker {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []worker
	for _, d := range dirs {
		stat, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(parent) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join(d, "cmdline"))
		args := strings.Split(string(cmdline), "\x00")
		for i, a := range args {
			if a == "--fleet" && i+1 < len(args) && len(args) > 1 && args[1] == "worker" {
				pid, _ := strconv.Atoi(filepath.Base(d))
				out = append(out, worker{pid: pid, fleet: args[i+1], index: workerIndex(d)})
			}
		}
	}
	return out
}

// workerIndex is the launcher index in the environment of the process
// whose /proc directory is dir (-1: none).
func workerIndex(dir string) int {
	environ, _ := os.ReadFile(filepath.Join(dir, "environ"))
	for _, kv := range strings.Split(string(environ), "\x00") {
		if v, ok := strings.CutPrefix(kv, "LOCKSTEP_WORKER_INDEX="); ok {
			if n, err := strconv.Atoi(v); err == nil {
				return n
			}
		}
	}
	return -1
}

// segments reads the fleet's segment rows.
func (r *fleetRig) segments(id string) []fleet.Segment {
	r.t.Helper()
	segs, err := r.ctl.Segments(context.Background(), id)
	if err != nil {
		r.t.Fatalf("Segments(%s) = %v", id, err)
	}
	return segs
}

// until polls cond every 50ms for at most d.
func until(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
	}
}

// checkCounters scans the table: every item at version 2 with its
// counter incremented exactly once.
func (r *fleetRig) checkCounters(items int) {
	r.t.Helper()
	seen, bad := 0, 0
	var start map[string]types.AttributeValue
	for {
		out, err := r.client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(r.table), ExclusiveStartKey: start})
		if err != nil {
			r.t.Fatal(err)
		}
		for _, it := range out.Items {
			seen++
			c, v := numAttr(it["counter"]), numAttr(it["v"])
			if c != "1" || v != "2" {
				if bad++; bad <= 5 {
					r.t.Errorf("item %s: counter %s, v %s; want counter 1, v 2", numAttr(it["id"]), c, v)
				}
			}
		}
		if start = out.LastEvaluatedKey; len(start) == 0 {
			break
		}
	}
	if seen != items || bad > 0 {
		r.t.Errorf("scanned %d items (want %d), %d not incremented exactly once", seen, items, bad)
	}
}

// stepResult reads the migrate step's result and its fleet.segment
// events from the session's JSON export.
func (r *fleetRig) stepResult(session string) (migrate.Result, []engine.FleetSegment) {
	r.t.Helper()
	j, err := journal.OpenReadOnly(r.e.journal)
	if err != nil {
		r.t.Fatal(err)
	}
	defer j.Close()
	evs, err := j.Events(context.Background(), session)
	if err != nil {
		r.t.Fatal(err)
	}
	var res migrate.Result
	var segs []engine.FleetSegment
	for _, ev := range evs {
		switch ev.Kind {
		case engine.EvStepEnd:
			p, err := engine.DecodeAs[engine.StepEnded](ev)
			if err == nil && len(p.Result) > 0 {
				_ = json.Unmarshal(p.Result, &res)
			}
		case engine.EvFleetSegment:
			p, err := engine.DecodeAs[engine.FleetSegment](ev)
			if err != nil {
				r.t.Fatal(err)
			}
			segs = append(segs, p)
		}
	}
	return res, segs
}

// TestFleetLocalWorkers runs a guarded non-idempotent migrate (counter +
// 1) over 50,000 items in 64 segments on 8 local worker processes, kills
// 3 of them with SIGKILL mid-run (the launcher restarts them) and stops
// one past its lease with SIGSTOP: its segment is claimed again, and
// once continued it finds its claim lost and exits 75. Every item ends
// incremented exactly once, every segment done, the session's totals
// exact and the journal verified.
func TestFleetLocalWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts dynalite and 9 lockstep processes")
	}
	began := time.Now()
	r := newFleetRig(t, fleetItems)
	t.Logf("seeded %d items in %s", fleetItems, time.Since(began).Round(time.Millisecond))
	cmd := r.e.command(context.Background(), "run", testdata(t, "fleet.yaml"), "--env", "local", "--plain")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := testbin.Start(t, cmd)
	session := cmd.Process.Pid
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("session output:\n%s", p.Output())
		}
	})

	var ws []worker
	until(t, 30*time.Second, "8 workers", func() bool { ws = workers(t, session); return len(ws) == 8 })
	id := ws[0].fleet
	done := func() (n int) {
		for _, s := range r.segments(id) {
			if s.State == fleet.StateDone {
				n++
			}
		}
		return n
	}
	until(t, 60*time.Second, "4 segments done", func() bool { return done() >= 4 })
	// SIGKILL 3 workers (a worker may have just exited, to be restarted:
	// the list is read again until 3 were killed).
	var killed []worker
	until(t, 30*time.Second, "3 workers killed", func() bool {
		for _, w := range workers(t, session) {
			if len(killed) < 3 && syscall.Kill(w.pid, syscall.SIGKILL) == nil {
				killed = append(killed, w)
			}
		}
		return len(killed) == 3
	})
	isKilled := func(pid int) bool {
		return slices.ContainsFunc(killed, func(k worker) bool { return k.pid == pid })
	}
	// Stop a worker while it holds a claim, until another worker claimed
	// its segment again. The rows read before SIGSTOP may be behind the
	// worker (it may have finished that segment meanwhile, and hold
	// another or none): once it is stopped its claims cannot change but
	// by others, so read them again and take the segment it holds now,
	// or continue it and try again when it holds none. A write it sent
	// just before SIGSTOP may still land and finish the segment: then
	// continue it and try again too.
	var stopped worker
	var held fleet.Segment
	resume := func(w worker) {
		if err := syscall.Kill(w.pid, syscall.SIGCONT); err != nil {
			t.Fatalf("kill -CONT %d: %v", w.pid, err)
		}
	}
	stopHolder := func() bool {
		alive := workers(t, session)
		for _, s := range r.segments(id) {
			for _, w := range alive {
				if isKilled(w.pid) || s.State != fleet.StateClaimed || !strings.HasSuffix(s.Owner, "/"+strconv.Itoa(w.pid)) ||
					syscall.Kill(w.pid, syscall.SIGSTOP) != nil {
					continue
				}
				for _, now := range r.segments(id) {
					if now.State == fleet.StateClaimed && now.Owner == s.Owner {
						stopped, held = w, now
						return true
					}
				}
				resume(w)
				return false
			}
		}
		return false
	}
	for attempt := 1; ; attempt++ {
		until(t, 30*time.Second, "a surviving worker stopped while holding a claim", stopHolder)
		finishedByHolder := false
		until(t, 60*time.Second, "segment claimed again", func() bool {
			s := r.segments(id)[held.N]
			finishedByHolder = s.State == fleet.StateDone && s.Owner == held.Owner && s.Claim == held.Claim
			return finishedByHolder || s.Claim > held.Claim || s.State == fleet.StateDone && s.Owner != held.Owner
		})
		if !finishedByHolder {
			break
		}
		if attempt == 3 {
			t.Fatalf("3 stopped workers finished their segment with a write sent before SIGSTOP")
		}
		resume(stopped)
	}
	if err := syscall.Kill(stopped.pid, syscall.SIGCONT); err != nil {
		t.Fatalf("kill -CONT %d: %v", stopped.pid, err)
	}
	res := p.Wait(150 * time.Second)
	if res.Code != 0 {
		t.Fatalf("lockstep run: %s", res)
	}
	if want := fmt.Sprintf("(pid %d) exited with status 75", stopped.pid); !strings.Contains(res.Stdout, want) {
		t.Errorf("the stopped worker did not exit 75 (want %q in the session's output)\n%s", want, res)
	}
	reported := 0
	for _, w := range killed {
		if strings.Contains(res.Stdout, fmt.Sprintf("(pid %d) exited with status -1", w.pid)) {
			reported++
		}
	}
	if reported != 3 {
		t.Errorf("%d killed workers reported, want 3\n%s", reported, res)
	}
	r.checkRun(r.e.latest().ID, id, fleetItems, 64)
	t.Logf("fleet run of %d items: %s in all", fleetItems, time.Since(began).Round(time.Millisecond))
}

// checkRun checks a finished fleet run of session: every item
// incremented exactly once, every segment done, the step's result the
// exact totals, one fleet.segment event per segment naming its worker,
// and the journal verified.
func (r *fleetRig) checkRun(session, id string, items, segments int) {
	r.t.Helper()
	r.checkCounters(items)
	for _, s := range r.segments(id) {
		if s.State != fleet.StateDone {
			r.t.Errorf("segment %d is %s, want done", s.N, s.State)
		}
	}
	result, segEvents := r.stepResult(session)
	if result.Migrated != int64(items) || result.Scanned != int64(items) || result.Failures != 0 || result.Conflicts != 0 {
		r.t.Errorf("step result = migrated %d, scanned %d, failures %d, conflicts %d; want %d, %d, 0, 0",
			result.Migrated, result.Scanned, result.Failures, result.Conflicts, items, items)
	}
	perSeg, sum := map[int]int{}, int64(0)
	for _, ev := range segEvents {
		perSeg[ev.Segment]++
		sum += ev.Migrated
		if ev.Worker == "" {
			r.t.Errorf("fleet.segment %d names no worker", ev.Segment)
		}
	}
	if len(segEvents) != segments || len(perSeg) != segments || sum != int64(items) {
		r.t.Errorf("%d fleet.segment events for %d segments summing to %d migrated; want %d, %d, %d",
			len(segEvents), len(perSeg), sum, segments, segments, items)
	}
	r.e.mustRun(0, "journal", "verify", session)
}

// numAttr is a number attribute's text ("" when absent or not a number).
func numAttr(v types.AttributeValue) string {
	if n, ok := v.(*types.AttributeValueMemberN); ok {
		return n.Value
	}
	return ""
}
