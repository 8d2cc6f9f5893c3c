package journal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// TestEventHashIsStable pins the hash of an event whose data is longer
// than the hasher's buffer, SHA-256 and keyed: journals written by every
// earlier lockstep must keep verifying.
func TestEventHashIsStable(t *testing.T) {
	ev := engine.Event{SessionID: "s-1", Seq: 42, Time: time.Date(2026, 12, 7, 13, 0, 0, 123456000, time.UTC), Step: "backfill",
		Kind: engine.EvCheckpoint, Operator: "alice", PrevHash: strings.Repeat("ab", 32),
		Data: []byte(`{"segment":1,"cursor":"YQ==","keys":"` + strings.Repeat("QUJD", 300) + `"}`)}
	for _, tt := range []struct {
		name string
		hs   hasher
		want string
	}{
		{"sha256", hasher{}, "9d9c3d559371e0a70d18233411573c79524a43f1086d854cbc1123065520664d"},
		{"hmac", hasher{key: []byte("k")}, "a0a58abe88a3053bdcbc8bb81ff7c7ced26e89c711af7224dc1916189ef33bed"},
	} {
		if got := tt.hs.event(ev); got != tt.want {
			t.Errorf("%s: event hash = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestHashFieldsAsNetstrings checks sum against the netstring encoding
// written out plainly, for fields around the hasher's buffer size.
func TestHashFieldsAsNetstrings(t *testing.T) {
	plain := func(key []byte, fields ...string) string {
		var h hash.Hash = sha256.New()
		if key != nil {
			h = hmac.New(sha256.New, key)
		}
		for _, f := range fields {
			h.Write([]byte(strconv.Itoa(len(f)) + ":" + f + ","))
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	for _, n := range []int{0, 1, 490, 491, 511, 512, 513, 1024, 1025, 30_000} {
		f := strings.Repeat("x", n)
		for _, key := range [][]byte{nil, []byte("key")} {
			fields := []string{"tag", f, "", f + "y"}
			if got, want := (hasher{key: key}).sum(fields...), plain(key, fields...); got != want {
				t.Errorf("sum(field of %d bytes, key %q) = %s, want %s", n, key, got, want)
			}
		}
	}
}
