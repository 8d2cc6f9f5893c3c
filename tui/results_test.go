package tui

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestResultRows(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		want      []resultRow
	}{
		{"migrate", `{"migrated":16587500,"conflicts":0,"bytes":16587500,"elapsed_ms":335000,"rate":49441.4,"dry_run":false}`,
			[]resultRow{{"migrated", "16,587,500"}, {"conflicts", "0"}, {"bytes", "15.8 MiB"},
				{"elapsed", "5m35s"}, {"rate", "49,441.4/s"}, {"dry run", "no"}}},
		{"nested", `{"probe":{"size_bytes":812,"items_per_sec":12.5},"tables":["a","b"]}`,
			[]resultRow{{"probe size bytes", "812 B"}, {"probe items per sec", "12.5/s"}, {"tables", "a, b"}}},
		{"array of objects", `{"results":[{"rows":3},{"rows":1200}]}`,
			[]resultRow{{"results 1 rows", "3"}, {"results 2 rows", "1,200"}}},
		{"scalar", `42`, []resultRow{{"value", "42"}}},
		{"null", `null`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := resultRows(json.RawMessage(tc.raw))
			if len(got) != len(tc.want) {
				t.Fatalf("resultRows(%s)=%v, want %v", tc.raw, got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("row %d=%v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestHumaniseTimeline(t *testing.T) {
	md := "### copy (migrate) — done\n\n- Result: `{\"migrated\":16587500,\"rate\":49441.4}`\n- 2 checkpoint(s)\n"
	got := humaniseTimeline(md)
	for _, want := range []string{"migrated  16,587,500", "rate      49,441.4/s", "- 2 checkpoint(s)"} {
		if !strings.Contains(got, want) {
			t.Errorf("humaniseTimeline: %q missing in\n%s", want, got)
		}
	}
	if strings.Contains(got, `"rate"`) {
		t.Errorf("humaniseTimeline kept the raw JSON:\n%s", got)
	}
}

// TestHumaniseTimelineNotes: notes name their event in words.
func TestHumaniseTimelineNotes(t *testing.T) {
	md := "- 2026-11-24 22:05:00 UTC **rollback.request** during dump by alice: disk full\n" +
		"- 2026-11-24 22:06:00 UTC **session.resume** by alice: resumed by alice\n" +
		"- warning: slow scan (2026-11-24 22:05:00 UTC)\n" +
		"- 2026-11-24 22:07:00 UTC **rate** during backfill by alice: {\"rate\":320}\n"
	got := humaniseTimeline(md)
	for _, want := range []string{"**rollback requested** during dump", "**session resumed** by alice", "- warning: slow scan",
		"**write rate changed** during backfill by alice: rate 320/s"} {
		if !strings.Contains(got, want) {
			t.Errorf("humaniseTimeline lacks %q:\n%s", want, got)
		}
	}
	for _, internal := range []string{"rollback.request", "session.resume"} {
		if strings.Contains(got, internal) {
			t.Errorf("humaniseTimeline shows the internal name %q:\n%s", internal, got)
		}
	}
}
