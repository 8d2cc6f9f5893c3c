// Package htmlreport renders a session's journal as one self-contained
// HTML page for people who review a migration away from a terminal
// (`lockstep journal export ID --format html`), and two sessions side by
// side (`lockstep journal diff A B --format html`).
//
// The page is built from the journal's events alone, which the engine
// redacted before journaling them, through engine/timeline; charts are
// SVG rendered server-side by github.com/go-analyze/charts and inlined,
// styles are inline, and a Content-Security-Policy forbids every load:
// opening the file makes no network request. Runbook and operator text is
// untrusted: html/template escapes it.
//
// Of this module it imports engine and engine/timeline only.
package htmlreport
