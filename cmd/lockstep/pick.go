package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lockstep-run/lockstep/protocols"
	"github.com/lockstep-run/lockstep/runbook"
	"github.com/lockstep-run/lockstep/tui"
)

// pickFunc chooses one item; the TUI picker on a terminal, a fake in tests.
type pickFunc func(ctx context.Context, items []tui.PickItem) (tui.PickItem, error)

// pickItems lists what `lockstep run` without a runbook offers: runbooks
// (*.yaml, *.yml with a `lockstep:` key) in dir, then the built-in protocols.
func pickItems(dir string) []tui.PickItem {
	var items []tui.PickItem
	for _, pat := range []string{"*.yaml", "*.yml"} {
		paths, _ := filepath.Glob(filepath.Join(dir, pat))
		sort.Strings(paths)
		for _, p := range paths {
			rb, err := runbook.ParseFile(p)
			switch {
			case err == nil:
				items = append(items, tui.PickItem{Name: rb.Name, Title: rb.Title, Path: p})
			case errors.Is(err, runbook.ErrInvalid) && looksLikeRunbook(p):
				// Offered anyway: running it prints every error with its position.
				items = append(items, tui.PickItem{Name: filepath.Base(p), Title: "(invalid: lockstep lint " + filepath.Base(p) + ")", Path: p})
			}
		}
	}
	for _, info := range protocols.List() {
		it := tui.PickItem{Name: info.Name, Title: info.Title, Builtin: true}
		if rb, err := protocols.Get(info.Name); err == nil {
			it.Note = needsNote(rb.EnvRefs())
		}
		items = append(items, it)
	}
	return items
}

// needsNote is the picker's line on the variables a runbook reads,
// "needs $LOCKSTEP_DB, $LOCKSTEP_TABLE" ("" when it reads none).
func needsNote(vars []string) string {
	if len(vars) == 0 {
		return ""
	}
	return "needs $" + strings.Join(vars, ", $")
}

// unsetVars are the variables env's store reads that getenv has no value
// for: starting a session there fails on them.
func unsetVars(env *runbook.Environment, getenv func(string) string) []string {
	if env == nil || env.Store == nil {
		return nil
	}
	var unset []string
	for _, v := range env.Store.EnvRefs() {
		if getenv(v) == "" {
			unset = append(unset, v)
		}
	}
	return unset
}

// errUnsetVars explains, before any session starts, which variables the
// picked environment needs and how to run it with them set.
func errUnsetVars(rb *runbook.Runbook, env string, unset []string) error {
	target := rb.Name
	if rb.Path != "" && !strings.HasPrefix(rb.Path, "<") {
		target = rb.Path
	}
	eg := make([]string, len(unset))
	for i, v := range unset {
		eg[i] = v + "=…"
	}
	return usageError(fmt.Errorf("environment %s of %s reads $%s, not set in this shell: set it and run again, e.g.\n  %s lockstep run %s --env %s",
		env, rb.Name, strings.Join(unset, ", $"), strings.Join(eg, " "), target, env))
}

// looksLikeRunbook reports a YAML file that declares `lockstep:`, so that
// unrelated YAML in the directory is not offered.
func looksLikeRunbook(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	return len(b) > 0 && (bytesHasLinePrefix(b, "lockstep:"))
}

func bytesHasLinePrefix(b []byte, prefix string) bool {
	start := 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '\n' {
			line := b[start:i]
			if len(line) >= len(prefix) && string(line[:len(prefix)]) == prefix {
				return true
			}
			start = i + 1
		}
	}
	return false
}

// pickTarget asks which runbook to run when none was named.
func pickTarget(ctx context.Context, pick pickFunc, dir string) (string, error) {
	items := pickItems(dir)
	if len(items) == 0 {
		return "", usageError(errors.New("no runbook given and none found: lockstep run RUNBOOK --env ENV"))
	}
	it, err := pick(ctx, items)
	if err != nil {
		return "", pickErr(err)
	}
	if it.Builtin {
		return it.Name, nil
	}
	return it.Path, nil
}

// pickEnv asks which environment to run against when --env was not given
// on a terminal: the only one, or the operator's choice. Off a terminal
// --env is required (DESIGN.md's CLI contract).
func pickEnv(ctx context.Context, pick pickFunc, rb *runbook.Runbook) (string, error) {
	if pick == nil {
		return "", usageError(fmt.Errorf("--env is required: runbook %s has environments %s", rb.Path, envNames(rb)))
	}
	if len(rb.Environments) == 1 {
		e := rb.Environments[0]
		if unset := unsetVars(e, os.Getenv); len(unset) > 0 {
			return "", errUnsetVars(rb, e.Name, unset)
		}
		return e.Name, nil
	}
	items := make([]tui.PickItem, len(rb.Environments))
	for i, e := range rb.Environments {
		title := "environment"
		if e.Protected {
			title = "PROTECTED environment: you will type its name to confirm"
		}
		items[i] = tui.PickItem{Name: e.Name, Title: title, Kind: tui.KindEnvironment}
		if unset := unsetVars(e, os.Getenv); len(unset) > 0 {
			items[i].Note = needsNote(unset) + " (unset)"
		}
	}
	it, err := pick(ctx, items)
	if err != nil {
		return "", pickErr(err)
	}
	// A session there would fail at its start on the unset variables:
	// say which, and how to set them, instead.
	if unset := unsetVars(rb.Env(it.Name), os.Getenv); len(unset) > 0 {
		return "", errUnsetVars(rb, it.Name, unset)
	}
	return it.Name, nil
}

func pickErr(err error) error {
	if errors.Is(err, tui.ErrCancelled) {
		return usageError(errors.New("nothing picked: lockstep run RUNBOOK --env ENV"))
	}
	return fmt.Errorf("pick: %w", err)
}
