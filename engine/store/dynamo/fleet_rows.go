package dynamo

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine/fleet"
)

// recordItem is the control table's item of a fleet record.
func recordItem(r fleet.Record) (map[string]types.AttributeValue, error) {
	item := fleetKey(r.ID, "record")
	item["runbook"] = &types.AttributeValueMemberB{Value: r.Runbook}
	item["sha256"], item["path"], item["step"], item["env"] = str(r.SHA256), str(r.Path), str(r.Step), str(r.Env)
	item["session"], item["mode"] = str(r.Session), str(r.Mode)
	item["expr_env"] = &types.AttributeValueMemberB{Value: append([]byte{1}, r.ExprEnv...)}
	item["segments"], item["workers"] = num(int64(r.Segments)), num(int64(r.Workers))
	item["lease_ns"], item["created"] = num(int64(r.Lease)), num(r.Created.UnixNano())
	item["rate"], item["paused"], item["cancelled"] = num(int64(r.Rate)), flag(r.Paused), flag(r.Cancelled)
	return item, nil
}

// attrs reads typed attributes of one item, remembering the first
// missing or mistyped one.
type attrs struct {
	item map[string]types.AttributeValue
	err  error
}

func (a *attrs) fail(name, want string) {
	if a.err == nil {
		a.err = fmt.Errorf("control item: attribute %q is not %s", name, want)
	}
}

func (a *attrs) s(name string) string {
	v, ok := a.item[name].(*types.AttributeValueMemberS)
	if !ok {
		a.fail(name, "a string")
		return ""
	}
	return v.Value
}

func (a *attrs) opt(name string) string {
	if _, ok := a.item[name]; !ok {
		return ""
	}
	return a.s(name)
}

func (a *attrs) n(name string) int64 {
	v, ok := a.item[name].(*types.AttributeValueMemberN)
	if !ok {
		a.fail(name, "a number")
		return 0
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		a.fail(name, "an integer")
	}
	return n
}

func (a *attrs) b(name string) []byte {
	switch v := a.item[name].(type) {
	case nil:
		return nil
	case *types.AttributeValueMemberB:
		return v.Value
	}
	a.fail(name, "binary")
	return nil
}

func (a *attrs) flag(name string) bool {
	v, ok := a.item[name].(*types.AttributeValueMemberBOOL)
	if !ok {
		a.fail(name, "a boolean")
		return false
	}
	return v.Value
}

// unbin reads what bin stored.
func unbin(b []byte) []byte {
	if len(b) <= 1 {
		return nil
	}
	return b[1:]
}

func recordOf(item map[string]types.AttributeValue) (fleet.Record, error) {
	a := attrs{item: item}
	r := fleet.Record{ID: a.s("pk"), Runbook: a.b("runbook"), SHA256: a.s("sha256"), Path: a.s("path"), Step: a.s("step"),
		Env: a.s("env"), Session: a.s("session"), Mode: a.s("mode"), Segments: int(a.n("segments")), Workers: int(a.n("workers")),
		Lease: time.Duration(a.n("lease_ns")), Created: time.Unix(0, a.n("created")),
		Flags: fleet.Flags{Rate: int(a.n("rate")), Paused: a.flag("paused"), Cancelled: a.flag("cancelled")}}
	r.ExprEnv = unbin(a.b("expr_env"))
	return r, a.err
}

func segmentOf(item map[string]types.AttributeValue) (fleet.Segment, error) {
	a := attrs{item: item}
	s := fleet.Segment{N: int(a.n("n")), State: a.s("state"), Claim: a.n("claim"), Beat: a.n("beat"), Owner: a.opt("owner"),
		Cursor: unbin(a.b("cursor")), Data: unbin(a.b("data")), Error: a.opt("error")}
	if _, ok := item["updated"]; ok {
		s.Updated = time.Unix(0, a.n("updated"))
	}
	if c := a.opt("counts"); a.err == nil && c != "" {
		if err := json.NewDecoder(strings.NewReader(c)).Decode(&s.Counts); err != nil {
			a.err = fmt.Errorf("control item: counts: %w", err)
		}
	}
	return s, a.err
}
