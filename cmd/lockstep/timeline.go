package main

import (
	"io"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/timeline"
)

// writeTimeline writes a session's timeline as Markdown ("md") or JSON.
func writeTimeline(w io.Writer, info engine.SessionInfo, events []engine.Event, format string) error {
	tl := timeline.Build(info, events)
	if format == "json" {
		return tl.WriteJSON(w)
	}
	return tl.WriteMarkdown(w)
}

// writeDiff compares two sessions' timelines step by step, as an aligned
// table ("text") or JSON.
func writeDiff(w io.Writer, a engine.SessionInfo, evA []engine.Event, b engine.SessionInfo, evB []engine.Event, format string) error {
	d := timeline.Compare(timeline.Build(a, evA), timeline.Build(b, evB))
	if format == "json" {
		return d.WriteJSON(w)
	}
	return d.WriteText(w)
}
