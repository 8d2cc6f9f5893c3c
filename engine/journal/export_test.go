package journal

import (
	"context"
	"database/sql"
	"testing"
)

// DB exposes the journal's pool to the external tests (pragma checks).
func DB(j *Journal) *sql.DB { return j.db }

// SessionHeaderHash is the header hash of session id as the journal
// computes it (the first event's prev_hash).
func SessionHeaderHash(t *testing.T, j *Journal, id string) string {
	t.Helper()
	hd, err := readHeader(context.Background(), j.db, id)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := j.hasherFor(hd.chain)
	if err != nil {
		t.Fatal(err)
	}
	return hd.hash(hs)
}
