package forktest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/atotto/clipboard"
)

// TestClipboardLooksUpCommandsOnFirstUse: the clipboard fork finds its
// commands when first asked to paste, not in package initialisation, so
// an xclip that appears on PATH after start is used (upstream, decided
// before main, reported the clipboard unsupported).
func TestClipboardLooksUpCommandsOnFirstUse(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("xclip is the Linux clipboard command")
	}
	bin := t.TempDir()
	xclip := "#!/bin/sh\n[ \"$*\" = \"-out -selection clipboard\" ] || exit 2\nprintf 'pasted text'\n"
	if err := os.WriteFile(filepath.Join(bin, "xclip"), []byte(xclip), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	t.Setenv("WAYLAND_DISPLAY", "")
	got, err := clipboard.ReadAll()
	if err != nil {
		t.Fatalf("ReadAll()=%v, want the fake xclip's output", err)
	}
	if got != "pasted text" {
		t.Errorf("ReadAll()=%q, want %q", got, "pasted text")
	}
	if clipboard.Unsupported {
		t.Errorf("Unsupported=true after a successful read")
	}
}
