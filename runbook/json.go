package runbook

import (
	"encoding/json"
	"fmt"
	"io"
)

// jsonProblem is the stable JSON shape of one problem.
type jsonProblem struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Hint     string `json:"hint"`
}

// WriteJSON writes errs (parse errors and lint warnings alike) to w as one
// JSON array, sorted by position, followed by a newline. The shape is stable:
//
//	[{"file": "runbook.yaml", "line": 12, "col": 9, "code": "", "severity": "error",
//	  "message": "unknown key \"wher\" in migrate step \"x\" with",
//	  "hint": "did you mean where?"}]
//
// code is the lint rule's code ("LS203") of a lint finding, "" for a
// parse or validation error; severity is "error" or "warning"; hint is "" when there is none; no
// problems is the empty array [].
func WriteJSON(w io.Writer, errs []*Error) error {
	sorted := append(Errors(nil), errs...)
	sorted.Sort()
	out := make([]jsonProblem, 0, len(sorted))
	for _, e := range sorted {
		out = append(out, jsonProblem{File: e.Pos.File, Line: e.Pos.Line, Col: e.Pos.Col, Code: e.Code,
			Severity: string(e.Level()), Message: e.Msg, Hint: e.Hint})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write problems json: %w", err)
	}
	return nil
}
