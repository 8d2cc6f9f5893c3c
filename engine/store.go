package engine

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/runbook"
)

// Store is the port to the data a migration changes: one table (DynamoDB
// table or SQLite table with a primary key) whose items are Items.
// engine/store/dynamo and engine/store/sqlite implement it;
// engine/store/storetest is the conformance suite both pass.
//
// Optional capabilities are separate interfaces a store may also
// implement: SQLExecer, NativeBackuper, Leaser, ScratchCreator,
// BatchUpdater, Counter, MigrateTuner.
type Store interface {
	// Describe returns the key schema and size figures of the table.
	Describe(ctx context.Context) (TableInfo, error)
	// Scan reads one page of one segment. A nil Cursor starts the segment;
	// Page.Next is nil when the segment is exhausted. Cursors are opaque,
	// stable across processes, and journaled as checkpoints.
	Scan(ctx context.Context, req ScanRequest) (Page, error)
	// Get reads one item by key (strongly consistent where the store can).
	// ok is false when there is no such item.
	Get(ctx context.Context, key Item) (item Item, ok bool, err error)
	// Update applies u as one conditional write touching only u.Set and
	// u.Remove attributes plus the version attribute. It returns an error
	// wrapping ErrConditionFailed when the guard does not hold, and one
	// wrapping ErrThrottled when the server throttled the request.
	Update(ctx context.Context, u Update) error
	// Put writes whole items unconditionally (import into a scratch table).
	Put(ctx context.Context, items []Item) error
	Close() error
}

// TableInfo describes a store's table.
type TableInfo struct {
	Table       string   `json:"table"`
	Key         []string `json:"key"`        // partition key [, sort key]
	ItemCount   int64    `json:"item_count"` // approximate when Approximate
	SizeBytes   int64    `json:"size_bytes"`
	Approximate bool     `json:"approximate"`
	// Capacity: 0 for on-demand / unlimited.
	WriteCapacityUnits int64  `json:"wcu,omitempty"`
	ReadCapacityUnits  int64  `json:"rcu,omitempty"`
	Backend            string `json:"backend"` // "dynamodb" | "sqlite"
}

// ScanRequest asks for one page of one segment of a parallel scan.
type ScanRequest struct {
	Segment       int
	TotalSegments int // >= 1
	Cursor        []byte
	Limit         int // items per page; 0 = store default
	Consistent    bool
	// Attrs, when set, asks for these attributes and the key only (a
	// store may return more): migrate reads just what its step reads and
	// writes.
	Attrs []string
	// Reuse are item maps the caller no longer refers to, nor anything it
	// handed them to: a store may clear them and return them, refilled,
	// as the page's items (and reuse the slice) instead of allocating new
	// ones; a store that does not reuse ignores them. migrate hands a
	// segment's written page back this way, so that a long scan fills
	// the same few thousand maps rather than one new map per row.
	// Anything that must outlive the page takes its own copy or the
	// values it needs: the map itself is the next page's.
	Reuse []Item
}

// Page is one page of a scan.
type Page struct {
	Items   []Item
	Next    []byte // nil when the segment is done
	Scanned int    // items examined (DynamoDB ScannedCount)
}

// Guard is the condition of a guarded Update.
type Guard struct {
	VersionAttr string
	// Below: the version attribute is absent or < Below (forward migration
	// to version Below). 0 disables this check.
	Below int64
	// Equals: the version attribute == Equals (rollback from Equals).
	// 0 disables this check.
	Equals int64
	// Unchanged lists each attribute the transform read with the value it
	// had (nil: it was absent / NULL), sorted by name; the write applies
	// only if all still hold. An entry marked Absent was absent when read:
	// a store that tells an absent attribute from an explicit null
	// (DynamoDB) guards it as absent alone, with a shorter condition.
	Unchanged []Attr
}

// Attr is one attribute and its value. Update.Set and Guard.Unchanged are
// slices of them rather than maps: migrate builds one of each per item,
// and a Go map costs ten times the memory of a short slice.
type Attr struct {
	Name  string
	Value any
	// Absent, in a Guard.Unchanged entry whose Value is nil, says the item
	// lacked the attribute when read (rather than holding an explicit
	// null). Stores where null and absent are one (SQL) ignore it.
	Absent bool
}

// Attrs returns m's attributes sorted by name (Update.Set and
// Guard.Unchanged written as a map literal).
func Attrs(m map[string]any) []Attr {
	if len(m) == 0 {
		return nil
	}
	out := make([]Attr, 0, len(m))
	for k, v := range m {
		out = append(out, Attr{Name: k, Value: v})
	}
	sortAttrs(out)
	return out
}

// LookupAttr returns the value of attribute name in as.
func LookupAttr(as []Attr, name string) (any, bool) {
	for _, a := range as {
		if a.Name == name {
			return a.Value, true
		}
	}
	return nil, false
}

func sortAttrs(as []Attr) {
	slices.SortFunc(as, func(a, b Attr) int { return strings.Compare(a.Name, b.Name) })
}

// Update is one guarded conditional write.
type Update struct {
	// Key holds at least the item's key attributes; stores read only
	// those. (Migrate passes the scanned item itself: no copy per write.)
	Key     Item
	Set     []Attr // new values, sorted by name, each attribute once
	Remove  []string
	Version int64 // new value of Guard.VersionAttr; 0 leaves it alone (rollback to 0 removes it)
	Guard   Guard
}

// Counter is implemented by stores whose Describe is costly (SQLite reads
// every row to size the table): DescribeCount returns Describe's key and
// item count, without sizes, for steps that need no sizes (migrate).
type Counter interface {
	DescribeCount(ctx context.Context) (TableInfo, error)
}

// MigrateTuner is implemented by stores that prefer other migrate
// defaults than runbook.DefaultSegments and runbook.DefaultBatchSize, used
// when the runbook leaves segments or batch_size out. SQLite, with one
// writer, gains nothing from many segments and much from large pages
// (fewer, larger transactions and checkpoints). A zero field keeps the
// runbook package's default. The values must not depend on the machine:
// a resumed step must find the segmentation its checkpoints were made in.
type MigrateTuner interface {
	MigrateDefaults() MigrateDefaults
}

// MigrateDefaults are a store's preferred migrate settings.
type MigrateDefaults struct {
	Segments  int
	BatchSize int
}

// BatchUpdater is implemented by stores that apply several guarded
// updates faster together than one by one (sqlite: one transaction).
// UpdateBatch returns one error per update, nil when it applied, with the
// same meaning as Update's; a failed guard does not stop the others. us
// stays the caller's: the store keeps no reference to it after returning.
type BatchUpdater interface {
	UpdateBatch(ctx context.Context, us []Update) []error
}

// SQLExecer is implemented by stores that speak SQL (sqlite, postgres).
type SQLExecer interface {
	// ExecSQL runs statements in one transaction, committing only when
	// commit is true (dry-run passes false: the statements run, then roll back).
	ExecSQL(ctx context.Context, statements []string, commit bool) ([]SQLResult, error)
}

// SQLSpecExecer is implemented by SQL stores that honour a sql step's
// own settings (postgres): `transaction: false`, `lock_timeout` and
// `statement_timeout`. A step that sets one of them on a store without
// this capability fails instead of running without it.
type SQLSpecExecer interface {
	ExecSQLSpec(ctx context.Context, spec *runbook.SQLSpec, commit bool) ([]SQLResult, error)
}

// SQLResult is the outcome of one statement.
type SQLResult struct {
	Statement    string     `json:"statement"`
	RowsAffected int64      `json:"rows_affected"`
	Columns      []string   `json:"columns,omitempty"` // for queries
	Rows         [][]string `json:"rows,omitempty"`
}

// NativeBackuper is implemented by stores with a server-side backup
// (DynamoDB on-demand backups and point-in-time recovery).
type NativeBackuper interface {
	CreateBackup(ctx context.Context, name string) (BackupInfo, error) // waits until available
	PITRStatus(ctx context.Context) (PITRStatus, error)
}

// Dumper is implemented by stores that can also write their table with
// the database's own dump tool (PostgreSQL's pg_dump) into a backup's
// directory, next to the logical export: a second copy that the
// database's own tools restore.
type Dumper interface {
	// Dump writes the dump into dir; ErrNoDumpTool when the tool is not
	// installed.
	Dump(ctx context.Context, dir string) (DumpInfo, error)
}

// ErrNoDumpTool: the store's dump tool is not on PATH.
var ErrNoDumpTool = errors.New("dump tool not found on PATH")

// DumpInfo describes a dump written by a Dumper.
type DumpInfo struct {
	Tool    string `json:"tool"`    // the tool and its version, as it reports it
	File    string `json:"file"`    // path of the dump
	Bytes   int64  `json:"bytes"`   // its size
	SHA256  string `json:"sha256"`  // of the file
	Restore string `json:"restore"` // the command that restores it (no password)
}

// BackupInfo describes a native backup.
type BackupInfo struct {
	ARN       string    `json:"arn"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	SizeBytes int64     `json:"size_bytes"`
	Created   time.Time `json:"created"`
}

// PITRStatus reports point-in-time recovery.
type PITRStatus struct {
	Enabled          bool      `json:"enabled"`
	EarliestRestore  time.Time `json:"earliest_restore,omitzero"`
	LatestRestorable time.Time `json:"latest_restorable,omitzero"`
}

// ScratchCreator is implemented by stores that can create an empty table
// with the same key schema (restore drills) and drop it again.
type ScratchCreator interface {
	CreateScratch(ctx context.Context, name string) (Store, error)
	DropScratch(ctx context.Context, name string) error
}

// Lease is a migration lease on one dataset+environment.
type Lease struct {
	Dataset  string    `json:"dataset"` // runbook name
	Env      string    `json:"env"`
	Holder   string    `json:"holder"`  // operator
	Session  string    `json:"session"` // session id
	Acquired time.Time `json:"acquired"`
	Expires  time.Time `json:"expires"`
	// Renewals counts the holder's renewals, where the store keeps it: a
	// taker takes a lease over only if it saw no renewal for a full ttl.
	Renewals int64 `json:"renewals,omitempty"`
}

// Leaser is implemented by stores that can hold a migration lease
// (DynamoDB conditional put with expiry; a lock table in SQLite).
type Leaser interface {
	// AcquireLease takes the lease; if another live lease exists it
	// returns a *LeaseHeldError. takeover=true takes an expired lease.
	// l.Acquired is the caller's "now" (from its Clock): expiry is judged
	// against it, so time.Now is used only when it is zero.
	AcquireLease(ctx context.Context, l Lease, takeover bool) (Lease, error)
	RenewLease(ctx context.Context, l Lease) (Lease, error)
	ReleaseLease(ctx context.Context, l Lease) error
	// SetFlag sets (on) or removes (off) a maintenance attribute on the item
	// with the given key in table (the store's own table when "").
	SetFlag(ctx context.Context, table string, key Item, attr string, on bool) error
}

// LeaseHeldError says who holds a lease.
type LeaseHeldError struct{ Lease Lease }

func (e *LeaseHeldError) Error() string {
	return "lease on " + e.Lease.Dataset + "/" + e.Lease.Env + " held by " + e.Lease.Holder +
		" (session " + e.Lease.Session + ") since " + e.Lease.Acquired.UTC().Format(time.RFC3339) +
		", expires " + e.Lease.Expires.UTC().Format(time.RFC3339)
}

// Store errors.
var (
	ErrConditionFailed = errors.New("condition failed")
	ErrThrottled       = errors.New("throttled")
	ErrLeaseLost       = errors.New("lease lost")
	// ErrAmbiguous marks a store error of a write that an earlier attempt of
	// the same request may have applied: the store's client retried after a
	// lost answer, and the retry failed its condition or was throttled. A
	// migrate step that then finds the item holding what the write set counts
	// it as its own write.
	ErrAmbiguous = errors.New("an earlier attempt may have applied")
	// ErrUnsupported: the store or its endpoint lacks the capability
	// (e.g. native backups on a DynamoDB-compatible test server).
	ErrUnsupported = errors.New("not supported")
	// ErrRejected: the store refused one item's write for a reason a
	// retry cannot change (a missing column, a value it cannot hold, a
	// constraint). The migrator fails the item at once instead of backing
	// off and retrying. Stores mark such errors with Rejected.
	ErrRejected = errors.New("rejected by the store")
)

// Rejected marks err as ErrRejected, keeping its text.
func Rejected(err error) error {
	if err == nil {
		return nil
	}
	return rejectedError{err}
}

type rejectedError struct{ error }

func (e rejectedError) Unwrap() []error { return []error{e.error, ErrRejected} }
