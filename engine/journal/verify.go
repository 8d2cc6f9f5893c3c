package journal

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
)

// Verify recomputes the session's hash chain (see HeaderHash and
// EventHash) and reports the first event that does not hold: its seq and
// a reason — the session header changed (first prev_hash), a gap in seq
// (an event deleted), a broken link (prev_hash is not the previous hash),
// a hash mismatch (the event was edited), or events missing at the end
// (the session's recorded head is not the last event). A runbook source
// that no longer hashes to the session's SHA-256 is reported with BadSeq 0.
// An unknown session returns engine.ErrNotFound wrapped.
func (j *Journal) Verify(ctx context.Context, sessionID string) (engine.VerifyResult, error) {
	info, err := j.Session(ctx, sessionID)
	if err != nil {
		return engine.VerifyResult{}, fmt.Errorf("verify: %w", err)
	}
	res := engine.VerifyResult{SessionID: sessionID, Events: info.Events, OK: true}
	fail := func(seq int64, format string, args ...any) (engine.VerifyResult, error) {
		res.OK, res.BadSeq, res.Reason = false, seq, fmt.Sprintf(format, args...)
		return res, nil
	}
	if len(info.RunbookSource) > 0 {
		sum := sha256.Sum256(info.RunbookSource)
		if !strings.EqualFold(hex.EncodeToString(sum[:]), info.RunbookSHA256) {
			return fail(0, "runbook source changed: it no longer matches the session's sha256")
		}
	}
	var headSeq int64
	var headHash string
	if err := j.db.QueryRowContext(ctx, `SELECT head_seq, head_hash FROM sessions WHERE id = ?`, sessionID).
		Scan(&headSeq, &headHash); err != nil {
		return engine.VerifyResult{}, fmt.Errorf("verify %q: read head: %w", sessionID, err)
	}
	rows, err := j.db.QueryContext(ctx, `SELECT seq, time, step, kind, operator, data, prev_hash, hash
		FROM events WHERE session = ? ORDER BY seq`, sessionID)
	if err != nil {
		return engine.VerifyResult{}, fmt.Errorf("verify %q: %w", sessionID, err)
	}
	defer rows.Close()
	prev, want := HeaderHash(info), int64(1)
	for rows.Next() {
		ev, err := scanVerifyRow(rows, sessionID)
		if err != nil {
			return engine.VerifyResult{}, fmt.Errorf("verify %q: %w", sessionID, err)
		}
		switch {
		case ev.Seq != want:
			return fail(want, "gap in seq: expected event %d, found %d (events deleted)", want, ev.Seq)
		case ev.PrevHash != prev && want == 1:
			return fail(1, "session header changed: first prev_hash does not match the session row")
		case ev.PrevHash != prev:
			return fail(ev.Seq, "broken link: prev_hash is not the hash of event %d", ev.Seq-1)
		case ev.Time.IsZero():
			return fail(ev.Seq, "hash mismatch: event time is unreadable (event edited)")
		case EventHash(ev) != ev.Hash:
			return fail(ev.Seq, "hash mismatch: event content changed")
		}
		prev, want = ev.Hash, want+1
	}
	if err := rows.Err(); err != nil {
		return engine.VerifyResult{}, fmt.Errorf("verify %q: %w", sessionID, err)
	}
	if last := want - 1; headSeq != last || (last > 0 && headHash != prev) {
		return fail(last+1, "events missing: the session's last recorded event is %d, the chain ends at %d", headSeq, last)
	}
	return res, nil
}

// scanVerifyRow reads one event row; an unparsable time is left zero for
// Verify to report rather than failing the whole check.
func scanVerifyRow(rows *sql.Rows, sessionID string) (engine.Event, error) {
	var (
		ev   = engine.Event{SessionID: sessionID}
		t    string
		kind string
		data sql.NullString
	)
	if err := rows.Scan(&ev.Seq, &t, &ev.Step, &kind, &ev.Operator, &data, &ev.PrevHash, &ev.Hash); err != nil {
		return engine.Event{}, err
	}
	ev.Kind = engine.EventKind(kind)
	if data.Valid {
		ev.Data = []byte(data.String)
	}
	ev.Time, _ = parseStoreTime(t)
	return ev, nil
}
