package engine_test

import (
	"database/sql"
	"testing"
)

// TestRollbackDropsAnExplicitVersionZero holds docs/safety.md: a rolled
// back item returns to the version it had, "and one without a version
// loses it again. (An item explicitly at version 0 also loses the
// attribute.)" Rows at 0, at 2 and without a version are migrated to 3
// and rolled back: the migrated rows at 0 end without a version, the
// others as they were (rows without an address were not selected, and
// keep their 0).
func TestRollbackDropsAnExplicitVersionZero(t *testing.T) {
	t.Parallel()
	_, db := rollBackSplit(t, 3, 90, func(db *sql.DB) {
		if _, err := db.Exec(`UPDATE users SET v = CASE id % 3 WHEN 0 THEN 0 WHEN 1 THEN 2 ELSE NULL END`); err != nil {
			t.Fatal(err)
		}
	})
	for id, v := range versions(t, db) {
		before := map[int]any{0: int64(0), 1: int64(2), 2: nil}[id%3]
		want := before
		if id%5 != 0 && before == int64(0) { // migrated (it has an address): 0 is not kept
			want = nil
		}
		if v != want {
			t.Errorf("row %d (version %v before): version %v after the rollback, want %v", id, before, v, want)
		}
	}
}
