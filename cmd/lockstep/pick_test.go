package main

import (
	"context"
	"os"
	"path/filepath"
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
