package runbook

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// withKeys are the `with:` keys each kind accepts.
var withKeys = map[Kind][]string{
	KindManual:       {},
	KindShell:        {"run", "argv", "cwd", "env", "dry_run"},
	KindSQL:          {"statements", "path", "transaction", "lock_timeout", "statement_timeout"},
	KindDecision:     {"choices"},
	KindApproval:     {"role"},
	KindNotify:       {"channel", "path", "url", "topic", "to", "template"},
	KindEstimate:     {"where", "sample", "margin", "exact_count"},
	KindBackup:       {"native", "dir"},
	KindRestoreDrill: {"from"},
	KindRestore:      {"from", "native", "point_in_time", "target_table", "batch_size"},
	KindMigrate:      {"where", "set", "remove", "rename", "transform", "batch_size", "segments", "error_budget", "max_retries", "fleet", "into"},
	KindVerify:       {"expect_none", "sample", "assert", "backup", "copy"},
	KindLock:         {"ttl", "maintenance"},
	KindUnlock:       {},
	KindWait:         {"window", "duration"},
}

// Notify channels and the key each one needs.
var (
	Channels       = []string{"stdout", "file", "webhook", "sns"}
	channelNeeds   = map[string]string{"file": "path", "webhook": "url", "sns": "topic"}
	maintenanceKey = []string{"table", "key", "attribute"}
)

// shellHint explains run and argv.
const shellHint = "run: \"cmd\" goes through sh -c, argv: [cmd, arg] runs directly"

// Migrate defaults.
const (
	DefaultBatchSize   = 100 // when neither the runbook nor the store chooses
	DefaultSegments    = 4   // when neither the runbook nor the store chooses
	DefaultMaxRetries  = 5
	DefaultErrorBudget = 100
	// DefaultMaintenanceAttribute is the flag attribute of a lock's maintenance item.
	DefaultMaintenanceAttribute = "maintenance"
)

// spec decodes `with:` into the spec of the step's kind.
func (d *decoder) spec(s *Step, with, stepNode *yaml.Node) {
	keys, known := withKeys[s.Kind]
	if !known {
		return
	}
	what := fmt.Sprintf("%s step %q with", s.Kind, s.ID)
	f := fields{node: stepNode, by: map[string]entry{}}
	if with != nil && len(keys) == 0 {
		hint := ""
		if s.Kind == KindManual {
			hint = "text and checklist go at step level"
		}
		if f, ok := d.mapping(with, what, nil); ok {
			for _, k := range f.keys {
				d.errorf(f.by[k].key, hint, "unknown key %q in %s", k, what)
			}
		}
		return
	}
	if with != nil {
		var ok bool
		if f, ok = d.mapping(with, what, keys); !ok {
			return
		}
	}
	switch s.Kind {
	case KindShell:
		s.Shell = d.shell(f, what)
	case KindSQL:
		s.SQL = d.sql(f, what)
	case KindDecision:
		s.Decision = d.decision(f, what)
	case KindApproval:
		s.Approval = &ApprovalSpec{}
		if d.require(f, what, "role") {
			s.Approval.Role = d.nonEmpty(f.get("role"), "role")
			d.refer(refRole, s.Approval.Role, f.get("role"))
		}
	case KindNotify:
		s.Notify = d.notify(f, what)
	case KindEstimate:
		s.Estimate = d.estimate(f)
	case KindBackup:
		s.Backup = d.backup(f)
	case KindRestoreDrill:
		s.RestoreDrill = &RestoreDrillSpec{}
		if d.require(f, what, "from") {
			s.RestoreDrill.From = d.nonEmpty(f.get("from"), "from")
			d.refer(refBackup, s.RestoreDrill.From, f.get("from"))
		}
	case KindRestore:
		s.Restore = d.restore(f, what)
	case KindMigrate:
		s.Migrate = d.migrate(f, what)
	case KindVerify:
		s.Verify = d.verify(f, what)
	case KindLock:
		s.Lock = d.lock(f, what)
	case KindWait:
		s.Wait = d.wait(f, what)
	}
}

func (d *decoder) shell(f fields, what string) *ShellSpec {
	sp := &ShellSpec{}
	switch {
	case f.has("run") && f.has("argv"):
		d.errorf(f.by["argv"].key, shellHint, "%s: use run or argv, not both", what)
	case !f.has("run") && !f.has("argv"):
		d.errorf(f.node, shellHint, "%s: missing run or argv", what)
	}
	if v := f.get("run"); v != nil {
		sp.Run = d.nonEmpty(v, "run")
	}
	if v := f.get("argv"); v != nil {
		sp.Argv = d.list(v, "argv", false)
		if v.Kind == yaml.SequenceNode && len(sp.Argv) == 0 {
			d.errorf(v, "", "argv must not be empty")
		}
	}
	sp.Cwd = d.dir // a shell step runs in the runbook's directory by default
	if v := f.get("cwd"); v != nil {
		sp.Cwd = d.path(v, "cwd")
	}
	if v := f.get("env"); v != nil {
		sp.Env, _ = d.stringMap(v, "env")
		if m := resolve(v); m != nil && m.Kind == yaml.MappingNode {
			for i := 1; i < len(m.Content); i += 2 {
				d.checkRefs(resolve(m.Content[i]), m.Content[i].Value)
			}
		}
	}
	if v := f.get("dry_run"); v != nil {
		sp.DryRun = d.str(v, "dry_run")
		if sp.DryRun != "run" {
			d.errorf(v, "dry_run: run also runs the step in dry-run mode", "unknown dry_run %q", sp.DryRun)
		}
	}
	return sp
}

func (d *decoder) sql(f fields, what string) *SQLSpec {
	sp := &SQLSpec{}
	if d.require(f, what, "statements") {
		v := f.get("statements")
		sp.Statements = d.list(v, "statements", true)
		if v.Kind == yaml.SequenceNode && len(sp.Statements) == 0 {
			d.errorf(v, "", "statements must not be empty")
		}
	}
	if v := f.get("path"); v != nil {
		sp.Path = d.path(v, "path")
		if strings.ContainsAny(v.Value, "?#") {
			d.errorf(v, "a plain file path: SQLite URI parameters are not supported", "sql path %q must not contain '?' or '#'", v.Value)
		}
	}
	if v := f.get("transaction"); v != nil {
		sp.NoTransaction = !d.boolean(v, "transaction")
		if sp.NoTransaction && len(sp.Statements) != 1 {
			d.errorf(v, "put each statement that cannot run in a transaction (CREATE INDEX CONCURRENTLY) in its own step", "transaction: false needs exactly one statement, got %d", len(sp.Statements))
		}
	}
	if v := f.get("lock_timeout"); v != nil {
		sp.LockTimeout = d.duration(v, "lock_timeout")
	}
	if v := f.get("statement_timeout"); v != nil {
		sp.StatementTimeout = d.duration(v, "statement_timeout")
	}
	return sp
}

func (d *decoder) decision(f fields, what string) *DecisionSpec {
	sp := &DecisionSpec{}
	if !d.require(f, what, "choices") {
		return sp
	}
	v := f.get("choices")
	var nodes []*yaml.Node
	sp.Choices, nodes = d.listNodes(v, "choices", false)
	if v.Kind == yaml.SequenceNode && len(sp.Choices) < 2 {
		d.errorf(v, "", "%s: needs at least two choices, got %d", what, len(sp.Choices))
	}
	for i, c := range sp.Choices {
		if j := slices.Index(sp.Choices[:i], c); j >= 0 {
			d.errorf(nodes[i], fmt.Sprintf("first at line %d", nodes[j].Line), "duplicate choice %q", c)
		}
	}
	return sp
}

func (d *decoder) notify(f fields, what string) *NotifySpec {
	sp := &NotifySpec{}
	d.require(f, what, "channel", "template")
	if v := f.get("channel"); v != nil {
		sp.Channel = d.str(v, "channel")
		if !slices.Contains(Channels, sp.Channel) {
			d.errorf(v, orElse(didYouMean(sp.Channel, Channels), "stdout, file, webhook or sns"), "unknown channel %q", sp.Channel)
		} else if need := channelNeeds[sp.Channel]; need != "" && !f.has(need) {
			d.errorf(v, "", "channel %s needs %s", sp.Channel, need)
		}
	}
	for key, dst := range map[string]*string{"url": &sp.URL, "topic": &sp.Topic} {
		if v := f.get(key); v != nil {
			*dst = d.nonEmpty(v, key)
			d.checkRefs(v, *dst)
		}
	}
	if v := f.get("path"); v != nil {
		sp.Path = d.path(v, "path")
	}
	// A literal topic or URL is checked now rather than when the step
	// sends, mid-session; one with ${VAR} is checked once expanded.
	if v := f.get("topic"); v != nil && sp.Channel == "sns" && sp.Topic != "" && !strings.Contains(sp.Topic, "${") && !isTopicARN(sp.Topic) {
		d.errorf(v, "a topic ARN looks like arn:aws:sns:eu-west-1:123456789012:ops-announce", "topic %q is not an SNS topic ARN", sp.Topic)
	}
	if v := f.get("url"); v != nil && sp.Channel == "webhook" && sp.URL != "" && !strings.Contains(sp.URL, "${") {
		if u, err := url.Parse(sp.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			d.errorf(v, "a webhook URL looks like https://hooks.example.com/T0/B0", "url %q is not an http(s) URL", sp.URL)
		}
	}
	if v := f.get("to"); v != nil {
		sp.To = d.list(v, "to", true)
	}
	if v := f.get("template"); v != nil {
		sp.Template = d.template(v, "template")
	}
	return sp
}

// isTopicARN reports whether s has the form of an SNS topic ARN,
// arn:PARTITION:sns:REGION:ACCOUNT:NAME.
func isTopicARN(s string) bool {
	p := strings.Split(s, ":")
	return len(p) == 6 && p[0] == "arn" && p[1] != "" && p[2] == "sns" && p[3] != "" && p[4] != "" &&
		p[5] != "" && !strings.Contains(p[5], "/")
}

func (d *decoder) estimate(f fields) *EstimateSpec {
	sp := &EstimateSpec{}
	if v := f.get("where"); v != nil {
		sp.Where = d.expr(v, "where")
	}
	if v := f.get("sample"); v != nil {
		sp.Sample = d.integer(v, "sample", 0)
	}
	if v := f.get("margin"); v != nil {
		sp.Margin = d.margin(v)
	}
	if v := f.get("exact_count"); v != nil {
		sp.ExactCount = d.boolean(v, "exact_count")
	}
	return sp
}

// margin reads "20%" (or a fraction such as 0.2) as a fraction.
func (d *decoder) margin(n *yaml.Node) float64 {
	if !d.scalar(n, "margin") {
		return 0
	}
	s, scale := n.Value, 1.0
	if strings.HasSuffix(s, "%") {
		s, scale = strings.TrimSpace(strings.TrimSuffix(s, "%")), 100
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || math.IsNaN(v) || v > 1e6 {
		d.errorf(n, "a percentage such as 20%", "invalid margin %q", n.Value)
		return 0
	}
	return v / scale
}

func (d *decoder) backup(f fields) *BackupSpec {
	sp := &BackupSpec{Native: true}
	if v := f.get("native"); v != nil {
		sp.Native = d.boolean(v, "native")
	}
	if v := f.get("dir"); v != nil {
		sp.Dir = d.path(v, "dir")
	}
	return sp
}

func (d *decoder) verify(f fields, what string) *VerifySpec {
	sp := &VerifySpec{}
	if !f.has("expect_none") && !f.has("assert") && !f.has("backup") && !f.has("copy") {
		d.errorf(f.node, "", "%s: needs expect_none, assert, backup or copy", what)
	}
	if v := f.get("expect_none"); v != nil {
		sp.ExpectNone = d.expr(v, "expect_none")
	}
	if v := f.get("sample"); v != nil {
		sp.Sample = d.integer(v, "sample", 0)
	}
	if v := f.get("assert"); v != nil {
		sp.Assert = d.expr(v, "assert")
	}
	if v := f.get("backup"); v != nil {
		sp.Backup = d.nonEmpty(v, "backup")
		d.refer(refBackup, sp.Backup, v)
	}
	if v := f.get("copy"); v != nil {
		sp.Copy = d.nonEmpty(v, "copy")
		d.refer(refCopy, sp.Copy, v)
	}
	return sp
}

func (d *decoder) lock(f fields, what string) *LockSpec {
	sp := &LockSpec{}
	if v := f.get("ttl"); v != nil {
		sp.TTL = d.duration(v, "ttl")
	}
	v := f.get("maintenance")
	if v == nil {
		return sp
	}
	mf, ok := d.mapping(v, "maintenance", maintenanceKey)
	if !ok {
		return sp
	}
	sp.Maintenance = &MaintenanceSpec{Attribute: DefaultMaintenanceAttribute}
	d.require(mf, what+" maintenance", "table", "key")
	if t := mf.get("table"); t != nil {
		sp.Maintenance.Table = d.nonEmpty(t, "maintenance table")
	}
	if k := mf.get("key"); k != nil {
		sp.Maintenance.Key, _ = d.stringMap(k, "maintenance key")
		if k.Kind == yaml.MappingNode && len(sp.Maintenance.Key) == 0 {
			d.errorf(k, "{attribute: value}", "maintenance key must not be empty")
		}
	}
	if a := mf.get("attribute"); a != nil {
		sp.Maintenance.Attribute = d.nonEmpty(a, "maintenance attribute")
	}
	return sp
}

func (d *decoder) wait(f fields, what string) *WaitSpec {
	sp := &WaitSpec{}
	switch {
	case f.has("window") && f.has("duration"):
		d.errorf(f.by["duration"].key, "", "%s: use window or duration, not both", what)
	case !f.has("window") && !f.has("duration"):
		d.errorf(f.node, "window: true waits for the environment's window", "%s: missing window or duration", what)
	}
	if v := f.get("window"); v != nil {
		sp.Window = d.boolean(v, "window")
		if v.Tag == "!!bool" && !sp.Window {
			d.errorf(v, "omit it, or give a duration", "window must be true")
		}
	}
	if v := f.get("duration"); v != nil {
		sp.Duration = d.duration(v, "duration")
	}
	return sp
}
