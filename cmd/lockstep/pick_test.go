package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-run/lockstep/runbook"
	"github.com/lockstep-run/lockstep/tui"
)

const pickRunbook = `lockstep: 1
name: tidy-up
title: Tidy up
version: 1
strategy: multi-step
environments:
  staging: {}
  production: {protected: true}
phases:
  - name: p
    steps:
      - {id: hello, kind: shell, with: {run: "echo hi"}}
`

func TestPickItemsAndTarget(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("tidy.yaml", pickRunbook)
	write("broken.yml", "lockstep: 1\nname: x\nkindd: 3\n")
	write("compose.yaml", "services: {web: {image: nginx}}\n")

	items := pickItems(dir)
	var names []string
	for _, it := range items {
		if !it.Builtin {
			names = append(names, it.Name)
		}
	}
	if got, want := len(names), 2; got != want {
		t.Fatalf("local items = %v, want tidy-up and broken.yml (not compose.yaml)", names)
	}
	if names[0] != "tidy-up" || names[1] != "broken.yml" {
		t.Errorf("local items = %v, want [tidy-up broken.yml]", names)
	}
	if items[len(items)-1].Builtin != true {
		t.Errorf("built-in protocols should follow the local runbooks")
	}

	pickFirst := func(_ context.Context, its []tui.PickItem) (tui.PickItem, error) { return its[0], nil }
	got, err := pickTarget(context.Background(), pickFirst, dir)
	if err != nil || got != filepath.Join(dir, "tidy.yaml") {
		t.Errorf("pickTarget() = %q, %v; want the tidy.yaml path", got, err)
	}
	cancel := func(context.Context, []tui.PickItem) (tui.PickItem, error) { return tui.PickItem{}, tui.ErrCancelled }
	if _, err := pickTarget(context.Background(), cancel, dir); exitCode(err) != exitBadInput {
		t.Errorf("cancelled pick: exit %d (%v), want 2", exitCode(err), err)
	}
}

func TestPickEnv(t *testing.T) {
	rb, err := runbook.Parse("tidy.yaml", []byte(pickRunbook))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pickEnv(context.Background(), nil, rb); exitCode(err) != exitBadInput {
		t.Errorf("pickEnv without a terminal: exit %d (%v), want 2", exitCode(err), err)
	}
	var offered []tui.PickItem
	pickLast := func(_ context.Context, its []tui.PickItem) (tui.PickItem, error) {
		offered = its
		return its[len(its)-1], nil
	}
	env, err := pickEnv(context.Background(), pickLast, rb)
	if err != nil || env != "production" {
		t.Fatalf("pickEnv() = %q, %v; want production", env, err)
	}
	if len(offered) != 2 || offered[1].Title == offered[0].Title {
		t.Errorf("offered %v: the protected environment should say so", offered)
	}
}

const pickVarsRunbook = `lockstep: 1
name: needs-vars
title: Needs vars
version: 1
strategy: multi-step
environments:
  staging: {store: {kind: sqlite, path: "${PICK_TEST_DB}", table: "${PICK_TEST_TABLE}", key: [id]}}
  production: {protected: true}
phases:
  - name: p
    steps:
      - {id: hello, kind: shell, with: {run: "echo hi"}}
`

// TestPickEnvUnsetVars: the picker shows which variables an environment
// still needs, and picking it explains how to set them instead of a
// session that fails at its start on "unset variable".
func TestPickEnvUnsetVars(t *testing.T) {
	rb, err := runbook.Parse("needs.yaml", []byte(pickVarsRunbook))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PICK_TEST_DB", "/tmp/x.db")
	t.Setenv("PICK_TEST_TABLE", "")
	var offered []tui.PickItem
	pickFirst := func(_ context.Context, its []tui.PickItem) (tui.PickItem, error) {
		offered = its
		return its[0], nil
	}
	_, err = pickEnv(context.Background(), pickFirst, rb)
	if exitCode(err) != exitBadInput {
		t.Fatalf("pickEnv with an unset variable: exit %d (%v), want 2", exitCode(err), err)
	}
	for _, want := range []string{"$PICK_TEST_TABLE", "PICK_TEST_TABLE=… lockstep run needs.yaml --env staging"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "PICK_TEST_DB") {
		t.Errorf("error %q names a variable that is set", err)
	}
	if len(offered) != 2 || offered[0].Kind != tui.KindEnvironment || offered[0].Note != "needs $PICK_TEST_TABLE (unset)" || offered[1].Note != "" {
		t.Errorf("offered = %+v, want environment items, staging noting $PICK_TEST_TABLE", offered)
	}
	t.Setenv("PICK_TEST_TABLE", "users")
	if env, err := pickEnv(context.Background(), pickFirst, rb); err != nil || env != "staging" {
		t.Errorf("pickEnv with the variables set = %q, %v; want staging", env, err)
	}
}

func TestPickItemsNoteProtocolVars(t *testing.T) {
	for _, it := range pickItems(t.TempDir()) {
		if it.Name == "split-attribute" && !strings.Contains(it.Note, "$LOCKSTEP_TABLE") {
			t.Errorf("split-attribute note = %q, want the variables it needs", it.Note)
		}
	}
}
