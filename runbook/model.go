// Package runbook is the runbook model: YAML parsing that keeps source
// positions, validation and lint rules, expressions (expr-lang) and templates.
//
// It may import only the standard library, the YAML parser and expr-lang:
// never the engine, a UI, the AWS SDK or a SQLite driver.
package runbook

import (
	"fmt"
	"text/template"
	"time"

	"github.com/expr-lang/expr/vm"
)

// FormatVersion is the only value of the top-level `lockstep:` key this
// package understands.
const FormatVersion = 1

// Pos is a position in a runbook source file. Line and Col are 1-based.
type Pos struct {
	File string
	Line int
	Col  int
}

// String renders the position as file:line:col.
func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Kind is a step kind.
type Kind string

// The step kinds of DESIGN.md.
const (
	KindManual       Kind = "manual"
	KindShell        Kind = "shell"
	KindSQL          Kind = "sql"
	KindDecision     Kind = "decision"
	KindApproval     Kind = "approval"
	KindNotify       Kind = "notify"
	KindEstimate     Kind = "estimate"
	KindBackup       Kind = "backup"
	KindRestoreDrill Kind = "restore-drill"
	KindRestore      Kind = "restore"
	KindMigrate      Kind = "migrate"
	KindVerify       Kind = "verify"
	KindLock         Kind = "lock"
	KindUnlock       Kind = "unlock"
	KindWait         Kind = "wait"
)

// Kinds lists every known step kind in documentation order.
var Kinds = []Kind{KindManual, KindShell, KindSQL, KindDecision, KindApproval, KindNotify,
	KindEstimate, KindBackup, KindRestoreDrill, KindRestore, KindMigrate, KindVerify, KindLock, KindUnlock, KindWait}

// Runbook is a parsed, validated runbook.
type Runbook struct {
	// Path is the file it was read from: absolute when read by ParseFile,
	// "<builtin>/name.yaml" for protocols. The positions of its problems
	// name the file as it was given.
	Path string
	// Dir is the directory relative paths of the runbook are resolved
	// against (see ExpandPath): Path's, or the working directory at load
	// for a built-in protocol. Absolute unless the working directory is
	// unknown.
	Dir      string
	SHA256   string // hex SHA-256 of the source bytes
	Source   []byte // the source bytes, journaled with each session
	Lockstep int
	Name     string
	Title    string
	Version  int
	Strategy string // big-bang | multi-step
	Roles    Roles
	// Environments in source order.
	Environments []*Environment
	Secrets      []string
	Vars         map[string]string
	// VersionAttribute is the top-level `version_attribute:`, the default of
	// every store's StoreSpec.VersionAttribute ("" when not given).
	VersionAttribute string
	Phases           []*Phase
	// Lint is the top-level `lint:` (nil when absent): suppressions that
	// apply to the whole runbook.
	Lint *LintSpec
	file string // the file as Parse was given it, for positions
}

// Env returns the environment called name, or nil.
func (r *Runbook) Env(name string) *Environment {
	for _, e := range r.Environments {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// Steps returns every top-level step in run order.
func (r *Runbook) Steps() []*Step {
	var out []*Step
	for _, p := range r.Phases {
		out = append(out, p.Steps...)
	}
	return out
}

// Step returns the step with the given id (top-level steps only), or nil.
func (r *Runbook) Step(id string) *Step {
	for _, s := range r.Steps() {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// Roles are the RACI roles. Each role holds a list of names (a single
// YAML string is read as a one-element list).
type Roles struct {
	Responsible []string
	Accountable []string
	Consulted   []string
	Informed    []string
}

// Holders returns who holds the named role ("responsible", "accountable",
// "consulted", "informed"), or nil for an unknown role.
func (r Roles) Holders(role string) []string {
	switch role {
	case "responsible":
		return r.Responsible
	case "accountable":
		return r.Accountable
	case "consulted":
		return r.Consulted
	case "informed":
		return r.Informed
	}
	return nil
}

// Environment is one target environment of a runbook.
type Environment struct {
	Pos          Pos
	Name         string
	Store        *StoreSpec // nil when the environment has no data store
	Protected    bool
	Window       *Window
	MaxWriteRate int        // items/s; 0 = unlimited
	Fleet        *FleetSpec // migrate steps run on a fleet of workers (DynamoDB)
}

// StoreSpec says where the data lives. String fields may hold ${VAR}
// references, expanded at run time with Expand.
type StoreSpec struct {
	Pos              Pos
	Kind             string // dynamodb | sqlite | postgres
	Table            string
	Region           string
	Endpoint         string
	Profile          string
	Path             string // a relative path is resolved against Dir
	DSN              string // postgres: connection string; may hold a password, redact before showing
	Schema           string // postgres: defaults to "public"
	Key              []string
	VersionAttribute string // defaults to "v"
	RegistryTable    string // dynamodb: the registry's table, default "lockstep-registry"
	// Dir is the directory a relative Path is resolved against: the
	// runbook's (Runbook.Dir). A literal path is resolved at parse time,
	// one that starts with ${VAR} by Expanded. "": the working directory.
	Dir string
}

// Window is the time window an environment may be changed in.
type Window struct {
	Pos  Pos
	Days []string // mon..sun
	From string   // "HH:MM"
	To   string   // "HH:MM"; before From means the window crosses midnight
	TZ   string   // IANA name
}

// Phase is a named group of steps.
type Phase struct {
	Pos      Pos
	Name     string
	Requires []string // phases that must have completed
	Steps    []*Step
}

// Expr is an expr-lang expression compiled at load time against the
// environment {item, vars, env, steps}; run it with Eval or EvalBool.
type Expr struct {
	Pos     Pos
	Source  string
	Program *vm.Program
	reads   []string // item attributes read, filled by Parse / CompileExpr
	whole   bool     // item is used other than through item.X
}

// Template is a text/template compiled at load time (missingkey=error);
// render it with Render.
type Template struct {
	Pos    Pos
	Source string
	tmpl   *template.Template // compiled by Parse / CompileTemplate
}

// Step is one step of a phase. Exactly one of the per-kind specs is set,
// matching Kind.
type Step struct {
	Pos         Pos
	Phase       string // name of the enclosing phase ("" for rollback steps)
	ID          string
	Kind        Kind
	Text        string // Markdown shown to the operator
	Checklist   []string
	Rollback    *Step // run on rollback; its ID is "<id>.rollback"
	Idempotent  bool
	Timeout     time.Duration
	Requires    []string // step ids that must be done
	Destructive bool
	When        *Expr
	Lint        *LintSpec // the step's `lint:`; nil when absent

	Shell        *ShellSpec
	SQL          *SQLSpec
	Decision     *DecisionSpec
	Approval     *ApprovalSpec
	Notify       *NotifySpec
	Estimate     *EstimateSpec
	Backup       *BackupSpec
	RestoreDrill *RestoreDrillSpec
	Restore      *RestoreSpec
	Migrate      *MigrateSpec
	Verify       *VerifySpec
	Lock         *LockSpec
	Wait         *WaitSpec
}

// ShellSpec: `run` (via sh -c) or `argv`.
type ShellSpec struct {
	Run    string
	Argv   []string
	Cwd    string // the runbook's directory unless the step names one
	Env    map[string]string
	DryRun string // "run": also runs in dry-run mode
}

// SQLSpec: statements run in one transaction on the environment's SQL store
// (or on `path` when given).
type SQLSpec struct {
	Path       string
	Statements []string
	// NoTransaction (`transaction: false`) runs a statement that cannot
	// run inside a transaction (PostgreSQL's CREATE INDEX CONCURRENTLY);
	// such a step holds exactly one statement.
	NoTransaction bool
	// LockTimeout and StatementTimeout bound each statement on PostgreSQL
	// (0: lock_timeout 5s, no statement_timeout).
	LockTimeout      time.Duration
	StatementTimeout time.Duration
}

// DecisionSpec: the operator picks one choice and gives a rationale.
type DecisionSpec struct {
	Choices []string
}

// ApprovalSpec: a holder of Role approves with a reason.
type ApprovalSpec struct {
	Role string
}

// NotifySpec renders Template and sends it on Channel.
type NotifySpec struct {
	Channel  string // stdout | file | webhook | sns
	Path     string
	URL      string
	Topic    string
	To       []string // role names or literal recipients
	Template *Template
}

// EstimateSpec sizes the migration set.
type EstimateSpec struct {
	Where      *Expr
	Sample     int
	Margin     float64 // fraction: "20%" → 0.20
	ExactCount bool
}

// BackupSpec takes a native backup and/or a logical export.
type BackupSpec struct {
	Native bool   // DynamoDB on-demand backup when the store supports it (default true)
	Dir    string // where the logical export goes (default: next to the journal)
}

// RestoreDrillSpec restores the backup taken by step From into a scratch table.
type RestoreDrillSpec struct {
	From string
}

// RestoreSpec puts the items of the backup taken by step From back into
// the live table, guarded (plan B); or, Native, restores a DynamoDB
// on-demand backup or a point in time into a new table.
type RestoreSpec struct {
	From        string // backup step id (its logical export; its native backup when Native)
	Native      bool
	PointInTime string // Native: "latest" or an RFC 3339 time; instead of From's backup
	TargetTable string // Native: the new table (default: <table>-restored-<session>)
	BatchSize   int    // items read and written per checkpoint (0: DefaultRestoreBatch)
}

// DefaultRestoreBatch is a restore step's batch size when it sets none.
const DefaultRestoreBatch = 100

// MigrateSpec is a guarded, idempotent data migration.
type MigrateSpec struct {
	Where       *Expr
	Set         []SetClause // in source order
	Remove      []string
	Rename      map[string]string // old → new
	Transform   []string          // external command argv (JSON lines in and out)
	BatchSize   int               // items per page and per checkpoint; 0: the store chooses
	Segments    int               // parallel scan segments; 0: the store chooses
	ErrorBudget int               // per-item failures before the step pauses
	MaxRetries  int               // conditional-write retries before a conflict is recorded
	Fleet       *FleetSpec        // run on a fleet of workers; nil: the environment's, if any
	// Into, when set, makes the step a copy into another table under a
	// new key (DynamoDB): the source table is only read.
	Into *IntoSpec
	// After, set by validation, makes this a contract step: a forward
	// migrate step that comes after another one (After names the first)
	// works on the items that step moved to the runbook's version, and
	// leaves their version as it is. See markContracts.
	After string
}

// Contract reports whether the step works on items already at the
// runbook's version (a later migrate step: a clean-up or a second pass).
func (m *MigrateSpec) Contract() bool { return m != nil && m.After != "" }

// SetClause assigns the value of Expr to Attr.
type SetClause struct {
	Attr string
	Expr *Expr
}

// VerifySpec checks the result of a migration.
type VerifySpec struct {
	ExpectNone *Expr
	Sample     int
	Assert     *Expr
	Backup     string // backup step whose manifest count to compare against
	// Copy names an earlier migrate step with into: every source item (or
	// Sample of them) must be found under its new key with equal
	// attributes, and both tables must hold as many items.
	Copy string
}

// LockSpec configures the migration lease.
type LockSpec struct {
	TTL         time.Duration
	Maintenance *MaintenanceSpec
}

// MaintenanceSpec is the optional maintenance flag set while locked.
type MaintenanceSpec struct {
	Table     string
	Key       map[string]string
	Attribute string
}

// WaitSpec waits for the environment's window or for a duration.
type WaitSpec struct {
	Window   bool
	Duration time.Duration
}
