package main

import (
	"context"
	"io"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/timeline/htmlreport"
)

// verifier checks a session's hash chain (engine.Journal's Verify).
type verifier interface {
	Verify(ctx context.Context, sessionID string) (engine.VerifyResult, error)
}

// reportSession is a session for the HTML report, its hash chain checked
// (an error checking it leaves the report saying "not checked").
func reportSession(ctx context.Context, j verifier, info engine.SessionInfo, events []engine.Event) htmlreport.Session {
	s := htmlreport.Session{Info: info, Events: events}
	if res, err := j.Verify(ctx, info.ID); err == nil {
		s.Verified = &res
	}
	return s
}

// writeHTMLReport writes the self-contained HTML report of one session.
func writeHTMLReport(ctx context.Context, w io.Writer, j verifier, info engine.SessionInfo, events []engine.Event) error {
	return htmlreport.Write(w, reportSession(ctx, j, info, events))
}

// writeHTMLDiff writes the self-contained HTML comparison of two sessions.
func writeHTMLDiff(ctx context.Context, w io.Writer, j verifier, a engine.SessionInfo, evA []engine.Event, b engine.SessionInfo, evB []engine.Event) error {
	return htmlreport.WriteDiff(w, reportSession(ctx, j, a, evA), reportSession(ctx, j, b, evB))
}
