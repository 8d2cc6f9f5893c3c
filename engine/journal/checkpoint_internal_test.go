package journal

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/lockstep-run/lockstep/engine"
)

// checkpointDataBefore is how checkpointData encoded before it spliced
// (through a map, keys sorted): the journals already written hold this.
func checkpointDataBefore(segment int, cursor []byte, data any) (json.RawMessage, error) {
	m := map[string]any{}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return nil, fmt.Errorf("encode data: %w", err)
		}
		if json.Unmarshal(b, &m) != nil || m == nil {
			m = map[string]any{"data": json.RawMessage(b)}
		}
	}
	m["segment"], m["cursor"] = segment, cursor
	return json.Marshal(m)
}

// migrateCheckpoint has the shape of the engine's migrate checkpoint
// data (engine/migrate/migrate_progress.go): counts, segments and an intent.
type migrateCheckpoint struct {
	engine.MigrateCounts
	Segments int           `json:"segments"`
	Intent   *intentFields `json:"intent,omitempty"`
}

type intentFields struct {
	Writes int               `json:"writes"`
	Keys   []byte            `json:"keys,omitempty"`
	From   map[string][]byte `json:"from,omitempty"`
	Range  bool              `json:"range,omitempty"`
	Rows   int               `json:"rows,omitempty"`
}

// pageCheckpoint is a migrate checkpoint of a page of n writes.
func pageCheckpoint(n int) migrateCheckpoint {
	keys := make([]byte, 4*n)
	for i := range keys {
		keys[i] = byte(i * 7)
	}
	return migrateCheckpoint{
		MigrateCounts: engine.MigrateCounts{Scanned: 40_000, Migrated: 39_990, NotMatched: 10, Bytes: 1 << 40},
		Segments:      2,
		Intent:        &intentFields{Writes: n, Keys: keys, From: map[string][]byte{"0": {1, 2}}},
	}
}

type marshaler struct{ raw string }

func (m marshaler) MarshalJSON() ([]byte, error) { return []byte(m.raw), nil }

// TestCheckpointDataDecodesAsBefore: whatever the data, the event's bytes
// decode to what the encoding before the splice gave (segment and cursor
// winning over data's own), so readers see no difference.
func TestCheckpointDataDecodesAsBefore(t *testing.T) {
	var nilPtr *migrateCheckpoint
	tests := []struct {
		name   string
		cursor []byte
		data   any
	}{
		{"nil data", []byte("c"), nil},
		{"nil cursor", nil, map[string]int{"scanned": 3}},
		{"empty cursor", []byte{}, map[string]int{"scanned": 3}},
		{"binary cursor", []byte{0, 0xff, '"', '\\'}, map[string]int{"scanned": 3}},
		{"migrate page", []byte("k7"), pageCheckpoint(2000)},
		{"migrate end", []byte("k9"), migrateCheckpoint{Segments: 4}},
		{"pushdown range", []byte("k9"), migrateCheckpoint{Intent: &intentFields{Writes: 5, Range: true, Rows: 9}}},
		{"segment in data loses", []byte("a"), map[string]any{"scanned": 200, "segment": 99}},
		{"cursor in data loses", []byte("a"), map[string]any{"cursor": "x", "n": 1}},
		{"only segment and cursor in data", []byte("a"), map[string]any{"cursor": "x", "segment": 1}},
		{"nested segment kept", []byte("a"), map[string]any{"sub": map[string]any{"segment": 5, "cursor": "y"}}},
		{"segment in a string", []byte("a"), map[string]string{"note": `"segment": 3`}},
		{"empty object", []byte("a"), struct{}{}},
		{"number", []byte("a"), 42},
		{"string", []byte("a"), "text"},
		{"list", []byte("a"), []int{1, 2}},
		{"typed nil", []byte("a"), nilPtr},
		{"html", []byte("a"), map[string]string{"s": "<a&b>"}},
		{"custom marshaler", []byte("a"), marshaler{` { "x" : [1, 2] } `}},
		{"custom null", []byte("a"), marshaler{`null`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkpointData(3, tt.cursor, tt.data)
			if err != nil {
				t.Fatalf("checkpointData: %v", err)
			}
			want, err := checkpointDataBefore(3, tt.cursor, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(got) {
				t.Fatalf("checkpointData = %s: not JSON", got)
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(want, &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("checkpointData = %s\nwant (decoded alike) %s", got, want)
			}
			c, err := engine.DecodeAs[engine.Checkpointed](engine.Event{Kind: engine.EvCheckpoint, Data: got})
			if err != nil || c.Segment != 3 || string(c.Cursor) != string(tt.cursor) {
				t.Errorf("decoded = %+v, %v, want segment 3 cursor %q", c, err, tt.cursor)
			}
		})
	}
}

func TestCheckpointDataError(t *testing.T) {
	if _, err := checkpointData(0, nil, func() {}); err == nil {
		t.Error("checkpointData(func) succeeded, want an encoding error")
	}
}

// TestCheckpointDataAllocs bounds the allocations of a 2,000-write
// page's checkpoint: through a map, every member was decoded and encoded
// again (104).
func TestCheckpointDataAllocs(t *testing.T) {
	data := pageCheckpoint(2000)
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := checkpointData(1, []byte("cursor-1234"), data); err != nil {
			t.Fatal(err)
		}
	})
	// The one-pass encoding makes 9 (the race detector adds a few); the
	// decode and re-encode through a map made 104.
	if allocs > 32 {
		t.Errorf("checkpointData allocates %.0f times, want at most 32", allocs)
	}
}

// BenchmarkCheckpointData encodes the checkpoint of a migrate page of
// 2,000 writes (SQLite's default page), as now and as before.
func BenchmarkCheckpointData(b *testing.B) {
	data := pageCheckpoint(2000)
	for _, enc := range []struct {
		name string
		fn   func(int, []byte, any) (json.RawMessage, error)
	}{{"now", checkpointData}, {"before", checkpointDataBefore}} {
		b.Run(enc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := enc.fn(1, []byte("cursor-1234"), data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSaveCheckpoint saves that page's checkpoint in a journal
// (encoding, upsert, hashed event, commit): what the encoding is a part of.
func BenchmarkSaveCheckpoint(b *testing.B) {
	ctx := context.Background()
	j, err := Open(filepath.Join(b.TempDir(), "journal.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	s, err := j.CreateSession(ctx, engine.SessionInfo{Runbook: "r", Env: "e", Mode: engine.ModeLive, Operator: "o",
		RunbookSource: []byte("lockstep: 1\n"), Started: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	data := pageCheckpoint(2000)
	b.ReportAllocs()
	for b.Loop() {
		if err := j.SaveCheckpoint(ctx, s.ID, "backfill", 1, []byte("cursor-1234"), data); err != nil {
			b.Fatal(err)
		}
	}
}
