package journal

import (
	"context"
	"errors"
	"fmt"

	"github.com/lockstep-run/lockstep/engine"
)

// An applied row is recorded after its session ended; nothing hashes the
// row, but everything it says is in the session's hashed chain: the
// header (runbook SHA-256, env, mode), session.start (runbook name and
// version) and the last session.end (the status). vouchApplied checks the
// row against them, so a forged or edited row is refused.

// vouched is a session's verified chain, or why it is not vouched for.
type vouched struct {
	hd     header
	facts  rowFacts
	reason string
}

// vouchCache remembers each session's walk during one read.
type vouchCache map[string]vouched

func (j *Journal) vouchedSession(ctx context.Context, q dbq, id string, c vouchCache) (vouched, error) {
	if v, ok := c[id]; ok {
		return v, nil
	}
	hd, f, err := j.sessionFacts(ctx, q, id)
	var v vouched
	switch {
	case errors.Is(err, engine.ErrNotFound):
		v.reason = fmt.Sprintf("its session %s is not in the journal", id)
	case errors.Is(err, ErrUnvouched), errors.Is(err, ErrKeyRequired):
		v.reason = err.Error()
	case err != nil:
		return vouched{}, err
	default:
		v.hd, v.facts = hd, f
	}
	c[id] = v
	return v, nil
}

// vouchApplied returns why the chain does not vouch for a, or "".
func (j *Journal) vouchApplied(ctx context.Context, q dbq, a engine.Applied, c vouchCache) (string, error) {
	if a.SessionID == "" {
		return "it names no session", nil
	}
	v, err := j.vouchedSession(ctx, q, a.SessionID, c)
	if err != nil || v.reason != "" {
		return v.reason, err
	}
	name := v.hd.info.Runbook
	if s, ok := v.facts.start["runbook"].(string); ok {
		name = s
	}
	version, hasVersion := v.facts.start["version"].(float64)
	switch {
	case a.Name != name:
		return fmt.Sprintf("its session ran runbook %q", name), nil
	case hasVersion && float64(a.Version) != version:
		return fmt.Sprintf("its session ran version %v", version), nil
	case a.RunbookSHA256 != v.hd.info.RunbookSHA256:
		return fmt.Sprintf("its session ran runbook SHA-256 %.12s", v.hd.info.RunbookSHA256), nil
	case a.Env != v.hd.info.Env:
		return fmt.Sprintf("its session ran in %s", v.hd.info.Env), nil
	case a.Mode != v.hd.info.Mode:
		return fmt.Sprintf("its session ran in mode %s", v.hd.info.Mode), nil
	case v.facts.outcome == engine.OutcomeRunning:
		return "its session has not ended", nil
	case a.Status != string(v.facts.outcome):
		return fmt.Sprintf("its session ended %s (session.end, seq %d)", v.facts.outcome, v.facts.endSeq), nil
	}
	return "", nil
}

// describeApplied names an applied row for an error message.
func describeApplied(a engine.Applied) string {
	s := a.SessionID
	if s == "" {
		s = "none"
	}
	return fmt.Sprintf("applied record %s v%d in %s (%s %s, session %s, at %s)",
		a.Name, a.Version, a.Env, a.Mode, a.Status, s, formatStoreTime(a.Time))
}

// checkAppliedRows checks the applied rows of one session (Verify).
func (j *Journal) checkAppliedRows(ctx context.Context, q dbq, sessionID string) (string, error) {
	rows, err := appliedRows(ctx, q, "", "", sessionID)
	if err != nil {
		return "", fmt.Errorf("read applied migrations: %w", err)
	}
	c := vouchCache{}
	for _, a := range rows {
		reason, err := j.vouchApplied(ctx, q, a, c)
		if err != nil {
			return "", err
		}
		if reason != "" {
			return fmt.Sprintf("%s not vouched for by the chain: %s", describeApplied(a), reason), nil
		}
	}
	return "", nil
}

// appliedOrphans returns a failed result per applied row whose session
// is missing or unnamed (VerifyAll).
func (j *Journal) appliedOrphans(ctx context.Context) ([]engine.VerifyResult, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT rowid, COALESCE(session, '') FROM applied
		WHERE session IS NULL OR session NOT IN (SELECT id FROM sessions) ORDER BY rowid`)
	if err != nil {
		return nil, fmt.Errorf("find orphan applied records: %w", err)
	}
	defer rows.Close()
	var out []engine.VerifyResult
	for rows.Next() {
		var (
			rowid   int64
			session string
		)
		if err := rows.Scan(&rowid, &session); err != nil {
			return nil, fmt.Errorf("find orphan applied records: %w", err)
		}
		r := engine.VerifyResult{SessionID: session, Reason: fmt.Sprintf("applied record (row %d) names no session in the journal: not vouched for by any chain", rowid)}
		if session == "" {
			r.SessionID = "(none)"
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
