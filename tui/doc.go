// Package tui is lockstep's Bubble Tea v2 front end: the runner that walks an
// operator through a session (Run), the journal browser (Browse) and the
// runbook picker (Pick).
//
// It imports engine, engine/timeline and runbook, and the charm.land UI
// libraries. It never imports a store, the SQLite journal or the AWS SDK:
// cmd hands it an engine.Journal and an engine.Config.
package tui
