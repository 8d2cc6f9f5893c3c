package journal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strconv"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// Hash chain, encoding version 1.
//
// Each field below is written as a netstring — its length in bytes in
// decimal ASCII, a colon, the bytes, a comma ("5:hello,") — so no two
// different field sequences encode to the same bytes. A hash is the
// lowercase hex SHA-256 of the concatenation:
//
//	header = SHA-256( ns("lockstep.session.v1") ns(id) ns(runbook_sha256)
//	                  ns(env) ns(mode) ns(operator) ns(started) )
//	event  = SHA-256( ns("lockstep.event.v1") ns(prev_hash) ns(session)
//	                  ns(seq) ns(time) ns(step) ns(kind) ns(operator) ns(data) )
//
// seq is decimal; times are RFC 3339 with nanoseconds in UTC
// (time.RFC3339Nano; the journal truncates them to microseconds when it
// stores them, so they round-trip); data is the event's JSON bytes exactly
// as stored (empty when the event has none). The first event's prev_hash
// is the header hash, so editing the session row breaks the chain too;
// each later event's prev_hash is the hash of the event before it.
const (
	headerTag = "lockstep.session.v1"
	eventTag  = "lockstep.event.v1"
)

// HeaderHash returns the version 1 hash of a session header: the
// prev_hash of the first event of a session created before the session
// chain (chain "v1"); newer sessions hash a linked header (chain.go).
func HeaderHash(info engine.SessionInfo) string {
	return hashFields(headerTag, info.ID, info.RunbookSHA256, info.Env, string(info.Mode),
		info.Operator, formatHashTime(info.Started))
}

// EventHash returns the hash of ev as the journal computes it for an
// unkeyed session; ev.Hash is ignored, ev.PrevHash is part of the input.
func EventHash(ev engine.Event) string { return hasher{}.event(ev) }

// event is EventHash under hs (HMAC-SHA256 for a keyed session).
func (hs hasher) event(ev engine.Event) string { return hs.eventText(ev, string(ev.Data)) }

// eventText is event with ev.Data given as text: the caller that stores
// the text too converts it once.
func (hs hasher) eventText(ev engine.Event, data string) string {
	return hs.sum(eventTag, ev.PrevHash, ev.SessionID, strconv.FormatInt(ev.Seq, 10),
		formatHashTime(ev.Time), ev.Step, string(ev.Kind), ev.Operator, data)
}

func hashFields(fields ...string) string { return hasher{}.sum(fields...) }

// hasher computes the chain's hashes: SHA-256, or HMAC-SHA256 under key
// when the session is keyed (see chain.go).
type hasher struct{ key []byte }

func (hs hasher) sum(fields ...string) string {
	var h hash.Hash
	if hs.key != nil {
		h = hmac.New(sha256.New, hs.key)
	} else {
		h = sha256.New()
	}
	// Every field goes through one 512-byte buffer (allocated once: it
	// escapes through hash.Hash), not a copy of each field as []byte.
	var buf [512]byte
	for _, f := range fields {
		b := append(strconv.AppendInt(buf[:0], int64(len(f)), 10), ':')
		for len(f) > 0 {
			n := copy(buf[len(b):], f)
			h.Write(buf[:len(b)+n])
			b, f = buf[:0], f[n:]
		}
		h.Write(append(b, ','))
	}
	return hex.EncodeToString(h.Sum(buf[:0]))
}

func formatHashTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// storeLayout is how times are stored: fixed width, so they sort as text,
// and readable with the sqlite3 CLI.
const storeLayout = "2006-01-02T15:04:05.000000Z07:00"

// normTime is t in UTC truncated to the microsecond: what the journal stores.
func normTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func formatStoreTime(t time.Time) string { return normTime(t).Format(storeLayout) }

func parseStoreTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}
