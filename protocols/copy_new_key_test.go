package protocols_test

import (
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/protocols"
	"github.com/lockstep-run/lockstep/runbook"
)

// TestSkeletonFromCopyNewKey: `protocols new NAME --from
// dynamodb-copy-new-key [--store dynamodb]` starts a runbook that parses,
// keeps the copy step and its rollback, and lints clean.
func TestSkeletonFromCopyNewKey(t *testing.T) {
	for _, store := range []string{"dynamodb", ""} {
		from := "dynamodb-copy-new-key"
		t.Run("store="+store, func(t *testing.T) {
			src, err := protocols.SkeletonFrom("orders-by-customer", from, store)
			if err != nil {
				t.Fatalf("SkeletonFrom(%s) = %v", from, err)
			}
			if got := protocols.Origin(src); got != "dynamodb-copy-new-key" {
				t.Errorf("Origin = %q, want dynamodb-copy-new-key", got)
			}
			rb, err := runbook.Parse("orders.yaml", src)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if s := rb.Step("copy"); rb.Name != "orders-by-customer" || s == nil || !s.Migrate.Copy() ||
				!strings.Contains(s.Migrate.Into.Table, "LOCKSTEP_NEW_TABLE") || s.Rollback == nil || !s.Rollback.Migrate.Copy() {
				t.Fatalf("runbook %s: copy step %+v, want the protocol's copy and its rollback", rb.Name, s)
			}
			for _, w := range lint(rb) {
				t.Errorf("lint: %v", w)
			}
		})
	}
	if _, err := protocols.SkeletonFrom("x", "dynamodb-copy-new-key", "sqlite"); err == nil {
		t.Error("SkeletonFrom(copy-new-key, sqlite) = nil error, want no sqlite variant")
	}
}
