package journal

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lockstep-run/lockstep/engine"
)

// Verify recomputes the session's hash chain (see walkChain) and reports
// the first event that does not hold; then its link to the previous
// session (chain.go: the previous session deleted, renumbered, truncated
// or rewritten); then the columns of the session row no hash covers
// against the hashed events (see checkRow) — a row that only lags a
// session.end a crash left unrecorded is reported Repairable — and the
// runbook source against the session's SHA-256; then the session's
// checkpoint and applied rows against its events. Those are reported with
// BadSeq 0. A keyed session checked without its key is reported NeedsKey.
// Events whose session row was deleted are reported too; an id with
// neither a row nor events returns engine.ErrNotFound wrapped.
func (j *Journal) Verify(ctx context.Context, sessionID string) (res engine.VerifyResult, err error) {
	err = j.snapshot(ctx, func(q dbq) error {
		res, err = j.verify(ctx, q, sessionID)
		return err
	})
	return res, err
}

func (j *Journal) verify(ctx context.Context, q dbq, sessionID string) (engine.VerifyResult, error) {
	info, err := readSession(ctx, q, sessionID)
	if errors.Is(err, engine.ErrNotFound) {
		if res, ok, oerr := j.verifyOrphan(ctx, sessionID); oerr != nil || ok {
			return res, oerr
		}
	}
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
	hd, err := readHeader(ctx, q, sessionID)
	if err != nil {
		return engine.VerifyResult{}, fmt.Errorf("verify: %w", err)
	}
	hs, err := j.hasherFor(hd.chain)
	if errors.Is(err, ErrKeyRequired) {
		res.OK, res.NeedsKey, res.Reason = false, true, "cannot check: "+err.Error()
		return res, nil
	}
	if err != nil {
		return engine.VerifyResult{}, fmt.Errorf("verify %q: %w", sessionID, err)
	}
	w, err := walkChain(ctx, q, hd, hs)
	if err != nil {
		return engine.VerifyResult{}, fmt.Errorf("verify %q: %w", sessionID, err)
	}
	if w.reason != "" {
		return fail(w.badSeq, "%s", w.reason)
	}
	reason, err := checkLink(ctx, q, hd)
	if err != nil {
		return engine.VerifyResult{}, fmt.Errorf("verify %q: %w", sessionID, err)
	}
	if reason != "" {
		return fail(0, "%s", reason)
	}
	if reason := checkRow(info, w.facts); reason != "" {
		if repairable(info, hd, w.facts) {
			res.Repairable = true
			return fail(0, "repairable, not tampering: session.end (seq %d) ended the session as %q but the process died before its row recorded it; the next lockstep run or resume with this journal repairs the row",
				w.facts.endSeq, w.facts.outcome)
		}
		return fail(0, "session row changed: %s", reason)
	}
	if reason, err = checkCheckpointRows(ctx, q, sessionID, w.facts); err != nil {
		return engine.VerifyResult{}, fmt.Errorf("verify %q: %w", sessionID, err)
	}
	if reason != "" {
		return fail(0, "%s", reason)
	}
	if reason, err = j.checkAppliedRows(ctx, q, sessionID); err != nil {
		return engine.VerifyResult{}, fmt.Errorf("verify %q: %w", sessionID, err)
	}
	if reason != "" {
		return fail(0, "%s", reason)
	}
	return res, nil
}

// chainWalk is what walking a session's events found.
type chainWalk struct {
	facts  rowFacts
	badSeq int64
	reason string // "" when the chain holds
}

// walkChain recomputes the session's chain (see HeaderHash, EventHash and
// chain.go) up to its recorded head and reports the first event that does
// not hold: the session header changed (first prev_hash), a gap in seq
// (an event deleted), a broken link, a hash mismatch (an event edited),
// or events missing at the end.
func walkChain(ctx context.Context, q dbq, hd header, hs hasher) (chainWalk, error) {
	var w chainWalk
	fail := func(seq int64, format string, args ...any) (chainWalk, error) {
		w.badSeq, w.reason = seq, fmt.Sprintf(format, args...)
		return w, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT seq, time, step, kind, operator, data, prev_hash, hash
		FROM events WHERE session = ? ORDER BY seq`, hd.info.ID)
	if err != nil {
		return w, err
	}
	defer rows.Close()
	prev, want := hd.hash(hs), int64(1)
	for rows.Next() {
		ev, err := scanVerifyRow(rows, hd.info.ID)
		if err != nil {
			return w, err
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
		case hs.event(ev) != ev.Hash:
			return fail(ev.Seq, "hash mismatch: event content changed")
		}
		w.facts.add(ev)
		prev, want = ev.Hash, want+1
	}
	if err := rows.Err(); err != nil {
		return w, err
	}
	if last := want - 1; hd.headSeq != last || (last > 0 && hd.headHash != prev) {
		return fail(last+1, "events missing: the session's last recorded event is %d, the chain ends at %d", hd.headSeq, last)
	}
	return w, nil
}

// repairable reports a session row that lags a chain that explains it:
// the row says running, and the chain's last event is the session.end
// that ended it (the process died between the two writes, which older
// lockstep versions made separately).
func repairable(info engine.SessionInfo, hd header, f rowFacts) bool {
	return info.Outcome == engine.OutcomeRunning && f.outcome != engine.OutcomeRunning &&
		f.endSeq == hd.headSeq && f.endSeq > 0
}

// VerifyAll verifies every session, oldest first, then reports the events
// whose session row is gone (one failed result per such session id), the
// applied records that name no session, and gaps in the sessions'
// numbering (a session deleted with no later one to miss it).
func (j *Journal) VerifyAll(ctx context.Context) ([]engine.VerifyResult, error) {
	list, err := j.ListSessions(ctx, engine.SessionFilter{})
	if err != nil {
		return nil, fmt.Errorf("verify journal: %w", err)
	}
	out := make([]engine.VerifyResult, 0, len(list))
	for i := len(list) - 1; i >= 0; i-- {
		res, err := j.Verify(ctx, list[i].ID)
		if err != nil {
			return nil, fmt.Errorf("verify journal: %w", err)
		}
		out = append(out, res)
	}
	orphans, err := j.orphans(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("verify journal: %w", err)
	}
	out = append(out, orphans...)
	applied, err := j.appliedOrphans(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify journal: %w", err)
	}
	out = append(out, applied...)
	gap, err := j.ordinalGaps(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify journal: %w", err)
	}
	if gap != "" {
		out = append(out, engine.VerifyResult{SessionID: "(sessions)", Reason: "session chain broken: " + gap})
	}
	return out, nil
}

// verifyOrphan reports the events of a session id that has no row.
func (j *Journal) verifyOrphan(ctx context.Context, sessionID string) (engine.VerifyResult, bool, error) {
	res, err := j.orphans(ctx, sessionID)
	if err != nil || len(res) == 0 {
		return engine.VerifyResult{}, false, err
	}
	return res[0], true, nil
}

// orphans returns a failed result per session id (only sessionID unless
// "") that has events but no session row.
func (j *Journal) orphans(ctx context.Context, sessionID string) ([]engine.VerifyResult, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT session, COUNT(*), MIN(seq) FROM events
		WHERE session NOT IN (SELECT id FROM sessions) AND (? = '' OR session = ?)
		GROUP BY session ORDER BY session`, sessionID, sessionID)
	if err != nil {
		return nil, fmt.Errorf("find orphan events: %w", err)
	}
	defer rows.Close()
	var out []engine.VerifyResult
	for rows.Next() {
		r := engine.VerifyResult{}
		if err := rows.Scan(&r.SessionID, &r.Events, &r.BadSeq); err != nil {
			return nil, fmt.Errorf("find orphan events: %w", err)
		}
		r.Reason = fmt.Sprintf("session row deleted: %d events belong to no session", r.Events)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find orphan events: %w", err)
	}
	return out, nil
}

// rowFacts is what the hashed events say about the session row.
type rowFacts struct {
	start    map[string]any // data of the first session.start
	outcome  engine.Outcome // of the last session.end not followed by a session.resume
	endSeq   int64
	endTime  time.Time
	startSeq int64
	cursors  map[ckKey]ckFact // latest checkpoint event per step and segment
}

func (f *rowFacts) add(ev engine.Event) {
	switch ev.Kind {
	case engine.EvSessionStart:
		if f.start == nil {
			f.start, f.startSeq = map[string]any{}, ev.Seq
			_ = json.Unmarshal(ev.Data, &f.start)
		}
	case engine.EvSessionResume:
		f.outcome, f.endSeq, f.endTime = engine.OutcomeRunning, 0, time.Time{}
	case engine.EvCheckpoint:
		f.addCheckpoint(ev)
	case engine.EvSessionEnd:
		var d struct {
			Outcome engine.Outcome `json:"outcome"`
		}
		_ = json.Unmarshal(ev.Data, &d)
		f.outcome, f.endSeq, f.endTime = d.Outcome, ev.Seq, ev.Time
	}
}

// endSlack is how long after its session.end event a session's end time
// may be: the journal records the event's time, older journals the time
// EndSession ran, a moment later.
const endSlack = time.Minute

// checkRow compares the columns of the session row no hash covers (the
// header hash covers id, runbook sha256, env, mode, operator and start)
// with the hashed events and runbook source, and returns what differs.
func checkRow(info engine.SessionInfo, f rowFacts) string {
	for _, c := range []struct{ key, col, got string }{
		{"runbook", "runbook", info.Runbook}, {"path", "runbook_path", info.RunbookPath},
		{"sha256", "runbook_sha256", info.RunbookSHA256}, {"env", "env", info.Env},
		{"mode", "mode", string(info.Mode)}, {"operator", "operator", info.Operator},
	} {
		if want, ok := f.start[c.key].(string); ok && want != c.got {
			return fmt.Sprintf("%s is %q, session.start (seq %d) says %q", c.col, c.got, f.startSeq, want)
		}
	}
	if want, ok := sourceTitle(info.RunbookSource); ok && want != info.Title {
		return fmt.Sprintf("title is %q, the saved runbook says %q", info.Title, want)
	}
	switch {
	case info.Outcome != f.outcome && f.outcome == engine.OutcomeRunning:
		return fmt.Sprintf("outcome is %q, but no session.end event ended the session", info.Outcome)
	case info.Outcome != f.outcome && info.Outcome == engine.OutcomeRunning:
		return fmt.Sprintf("the session shows as never ended, but session.end (seq %d) ended it as %q (row edited, or the process died before recording its end)",
			f.endSeq, f.outcome)
	case info.Outcome != f.outcome:
		return fmt.Sprintf("outcome is %q, session.end (seq %d) says %q", info.Outcome, f.endSeq, f.outcome)
	case f.outcome == engine.OutcomeRunning && !info.Ended.IsZero():
		return "an end time is set, but the session never ended"
	case f.outcome != engine.OutcomeRunning && info.Ended.IsZero():
		return fmt.Sprintf("no end time, but session.end (seq %d) ended the session", f.endSeq)
	case f.outcome != engine.OutcomeRunning && (info.Ended.Before(f.endTime) || info.Ended.After(f.endTime.Add(endSlack))):
		return fmt.Sprintf("end time %s does not match session.end (seq %d) at %s",
			formatStoreTime(info.Ended), f.endSeq, formatStoreTime(f.endTime))
	}
	return ""
}

// sourceTitle reads the title of a saved runbook source (hash-checked
// against the session's sha256 before this is used).
func sourceTitle(src []byte) (string, bool) {
	if len(src) == 0 {
		return "", false
	}
	var doc struct {
		Title string `yaml:"title"`
	}
	if err := yaml.Unmarshal(src, &doc); err != nil || doc.Title == "" {
		return "", false
	}
	return doc.Title, true
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
