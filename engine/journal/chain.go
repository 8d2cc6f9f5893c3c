package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/lockstep-run/lockstep/engine"
)

// Session chain, header encoding version 2.
//
// Sessions created by this binary are numbered (ordinal 1, 2, …, in
// creation order) and each one's header names its predecessor — the
// session with the previous ordinal — and that session's head (seq and
// hash) when the new one was created:
//
//	header = H( ns("lockstep.session.v2") ns(id) ns(runbook_sha256) ns(env)
//	            ns(mode) ns(operator) ns(started) ns(ordinal) ns(chain)
//	            ns(prev_session) ns(prev_seq) ns(prev_head) )
//
// So deleting a session, or truncating or rewriting one below the point
// its successor saw, breaks its successor's link; renumbering breaks the
// header. H is SHA-256 (chain "v2") or, when the journal has a key,
// HMAC-SHA256 under it (chain "v2-hmac:<key id>"); events are then hashed
// with HMAC-SHA256 too. Sessions from before (chain "v1") keep their
// unlinked SHA-256 header.
const (
	headerTagV2 = "lockstep.session.v2"
	chainV1     = "v1"
	chainV2     = "v2"
	chainHMAC   = "v2-hmac:"
)

// link is a session header's reference to its predecessor's head.
type link struct {
	session string
	seq     int64
	hash    string
}

// header is the hashed part of a session row, with its current head.
type header struct {
	info     engine.SessionInfo // ID, Runbook, RunbookSHA256, Env, Mode, Operator, Started
	ordinal  int64
	chain    string
	prev     link
	headSeq  int64
	headHash string
}

// hash returns the header hash: the prev_hash of the session's first event.
func (hd header) hash(hs hasher) string {
	if hd.chain == chainV1 {
		return HeaderHash(hd.info)
	}
	i := hd.info
	return hs.sum(headerTagV2, i.ID, i.RunbookSHA256, i.Env, string(i.Mode), i.Operator,
		formatHashTime(i.Started), strconv.FormatInt(hd.ordinal, 10), hd.chain,
		hd.prev.session, strconv.FormatInt(hd.prev.seq, 10), hd.prev.hash)
}

// keyID names a key without revealing it: the first 16 hex digits of its
// HMAC over a fixed label.
func keyID(key []byte) string {
	return hasher{key: key}.sum("lockstep.journal.key-id")[:16]
}

// chainFor is the chain scheme of a session this journal creates.
func (j *Journal) chainFor() string {
	if j.key == nil {
		return chainV2
	}
	return chainHMAC + keyID(j.key)
}

// hasherFor returns the hasher of a session's chain scheme, or an error
// wrapping ErrKeyRequired when it is keyed and this journal has no key or
// another one.
func (j *Journal) hasherFor(chain string) (hasher, error) {
	id, keyed := strings.CutPrefix(chain, chainHMAC)
	switch {
	case chain == chainV1 || chain == chainV2:
		return hasher{}, nil
	case !keyed:
		return hasher{}, fmt.Errorf("unknown chain scheme %q: upgrade lockstep", chain)
	case j.key == nil:
		return hasher{}, fmt.Errorf("%w: the session is keyed (key id %s); set LOCKSTEP_JOURNAL_KEY", ErrKeyRequired, id)
	case keyID(j.key) != id:
		return hasher{}, fmt.Errorf("%w: the session is keyed with key id %s, LOCKSTEP_JOURNAL_KEY has key id %s",
			ErrKeyRequired, id, keyID(j.key))
	}
	return hasher{key: j.key}, nil
}

// dbq reads the journal: the pool, a transaction or a snapshot's
// connection (see snapshot).
type dbq interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// snapshot runs fn with reads that all see one state of the journal (a
// deferred read transaction on one connection), so a session being
// appended to meanwhile is seen whole.
func (j *Journal) snapshot(ctx context.Context, fn func(q dbq) error) error {
	conn, err := j.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN DEFERRED"); err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	return fn(conn)
}

// readHeader reads the hashed columns and the head of session id, or
// engine.ErrNotFound wrapped.
func readHeader(ctx context.Context, q dbq, id string) (header, error) {
	var (
		hd      header
		mode    string
		started string
		ordinal sql.NullInt64
	)
	err := q.QueryRowContext(ctx, `SELECT id, runbook, runbook_sha256, env, mode, operator, started,
		ordinal, chain, prev_session, prev_seq, prev_head, head_seq, head_hash FROM sessions WHERE id = ?`, id).
		Scan(&hd.info.ID, &hd.info.Runbook, &hd.info.RunbookSHA256, &hd.info.Env, &mode, &hd.info.Operator, &started,
			&ordinal, &hd.chain, &hd.prev.session, &hd.prev.seq, &hd.prev.hash, &hd.headSeq, &hd.headHash)
	if errors.Is(err, sql.ErrNoRows) {
		return header{}, fmt.Errorf("session %q: %w", id, engine.ErrNotFound)
	}
	if err != nil {
		return header{}, fmt.Errorf("read session %q: %w", id, err)
	}
	hd.info.Mode, hd.ordinal = engine.Mode(mode), ordinal.Int64
	if hd.info.Started, err = parseStoreTime(started); err != nil {
		return header{}, fmt.Errorf("session %q: started: %w", id, err)
	}
	return hd, nil
}

// predecessor returns the link a new session makes to the newest session
// (by ordinal), and the new session's ordinal.
func predecessor(ctx context.Context, tx *sql.Tx) (link, int64, error) {
	var (
		l       link
		ordinal int64
	)
	err := tx.QueryRowContext(ctx, `SELECT id, head_seq, head_hash, ordinal FROM sessions
		ORDER BY ordinal DESC LIMIT 1`).Scan(&l.session, &l.seq, &l.hash, &ordinal)
	if errors.Is(err, sql.ErrNoRows) {
		return link{}, 1, nil
	}
	if err != nil {
		return link{}, 0, fmt.Errorf("read previous session: %w", err)
	}
	return l, ordinal + 1, nil
}

// checkLink checks a v2 session's link to its predecessor and returns
// what does not hold ("" when it does).
func checkLink(ctx context.Context, q dbq, hd header) (string, error) {
	if hd.chain == chainV1 {
		return "", nil
	}
	if hd.prev.session == "" {
		if hd.ordinal != 1 {
			return fmt.Sprintf("session chain broken: session %d links to no previous session", hd.ordinal), nil
		}
		return "", nil
	}
	var ordinal sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT ordinal FROM sessions WHERE id = ?`, hd.prev.session).Scan(&ordinal)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Sprintf("session chain broken: the previous session %s was deleted", hd.prev.session), nil
	}
	if err != nil {
		return "", fmt.Errorf("read previous session %s: %w", hd.prev.session, err)
	}
	if ordinal.Int64 != hd.ordinal-1 {
		return fmt.Sprintf("session chain broken: sessions reordered or renumbered (this is session %d, the previous session %s is %d)",
			hd.ordinal, hd.prev.session, ordinal.Int64), nil
	}
	if hd.prev.seq == 0 {
		return "", nil
	}
	var h string
	err = q.QueryRowContext(ctx, `SELECT hash FROM events WHERE session = ? AND seq = ?`,
		hd.prev.session, hd.prev.seq).Scan(&h)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Sprintf("session chain broken: the previous session %s was truncated (its event %d is gone)",
			hd.prev.session, hd.prev.seq), nil
	case err != nil:
		return "", fmt.Errorf("read previous session %s: %w", hd.prev.session, err)
	case h != hd.prev.hash:
		return fmt.Sprintf("session chain broken: the previous session %s was rewritten (its event %d no longer has the hash this session saw)",
			hd.prev.session, hd.prev.seq), nil
	}
	return "", nil
}

// ordinalGaps reports ordinals missing between 1 and the highest: a
// session deleted with nothing after it linking to it.
func (j *Journal) ordinalGaps(ctx context.Context) (string, error) {
	var n, max sql.NullInt64
	if err := j.db.QueryRowContext(ctx, `SELECT COUNT(ordinal), MAX(ordinal) FROM sessions`).Scan(&n, &max); err != nil {
		return "", fmt.Errorf("read session ordinals: %w", err)
	}
	if n.Int64 != max.Int64 {
		return fmt.Sprintf("%d sessions numbered up to %d: %d deleted", n.Int64, max.Int64, max.Int64-n.Int64), nil
	}
	return "", nil
}
