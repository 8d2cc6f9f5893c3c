package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// selfCommand is how the operator can run this binary again from the
// current directory, for the commands lockstep prints (resume, journal
// show): "lockstep" when that name on $PATH is this very binary, else
// the path it was started with, relative to the working directory when it
// lies below it ("bin/lockstep" after `make demo`).
func selfCommand(arg0, wd string, lookPath func(string) (string, error)) string {
	if !strings.ContainsRune(arg0, filepath.Separator) {
		return arg0 // found on $PATH under this name
	}
	abs := arg0
	if !filepath.IsAbs(abs) && wd != "" {
		abs = filepath.Join(wd, abs)
	}
	abs = filepath.Clean(abs)
	if p, err := lookPath("lockstep"); err == nil && sameFile(p, abs) {
		return "lockstep"
	}
	if wd != "" {
		if rel, err := filepath.Rel(wd, abs); err == nil && !strings.HasPrefix(rel, "..") {
			if !strings.ContainsRune(rel, filepath.Separator) {
				rel = "." + string(filepath.Separator) + rel
			}
			return shellQuote(rel)
		}
	}
	return shellQuote(abs)
}

// sameFile reports whether paths a and b name the same file.
func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// processSelf is selfCommand for the running process.
func processSelf() string {
	wd, _ := os.Getwd()
	return selfCommand(os.Args[0], wd, exec.LookPath)
}
