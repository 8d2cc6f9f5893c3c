package tui

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/lockstep-run/lockstep/engine/timeline"
)

// exportReadyMsg brings a session's timeline loaded for an export from
// the list: the path prompt opens on it.
type exportReadyMsg struct {
	id       string
	timeline timeline.Timeline
	err      error
}

// exportPrompt asks where a timeline export goes: a path the operator
// edits, offered beside the journal (BrowseOptions.Dir), never written
// silently into the working directory.
type exportPrompt struct {
	id    string
	tl    timeline.Timeline
	input textinput.Model
}

// exportDefault is the path offered for session id's export: in dir, else
// in the working directory, shown as an absolute path so the operator
// sees where it goes before it is written.
func exportDefault(dir, id string) string {
	if dir == "" {
		dir = "."
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return filepath.Join(dir, id+".md")
}

// openExport puts the path prompt up for session id's timeline.
func (b *Browser) openExport(id string, tl timeline.Timeline) tea.Cmd {
	in := newInput("path of the Markdown file", &b.st)
	in.Prompt = "Export to: "
	in.CharLimit = 4096
	in.SetValue(exportDefault(b.opts.Dir, id))
	in.SetWidth(max(b.width-14, 10))
	b.exporting = &exportPrompt{id: id, tl: tl, input: in}
	b.status = ""
	return b.exporting.input.Focus()
}

// exportKey handles a key while the path prompt is up: enter writes,
// esc cancels, the rest edits the path.
func (b *Browser) exportKey(msg tea.KeyPressMsg) tea.Cmd {
	p := b.exporting
	switch msg.String() {
	case "esc":
		b.exporting, b.status = nil, "export cancelled"
		return nil
	case "enter":
		path := strings.TrimSpace(p.input.Value())
		if path == "" {
			b.status = "✗ export: give a path"
			return nil
		}
		b.exporting = nil
		return writeExport(path, p.tl)
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return cmd
}

// writeExport writes tl's Markdown to path, never over a directory.
func writeExport(path string, tl timeline.Timeline) tea.Cmd {
	return func() tea.Msg {
		if home, err := os.UserHomeDir(); err == nil && strings.HasPrefix(path, "~/") {
			path = filepath.Join(home, path[2:])
		}
		var buf bytes.Buffer
		if err := tl.WriteMarkdown(&buf); err != nil {
			return exportedMsg{err: fmt.Errorf("export timeline: %w", err)}
		}
		if fi, err := os.Stat(path); err == nil && fi.IsDir() {
			return exportedMsg{err: fmt.Errorf("export timeline: %s is a directory", path)}
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return exportedMsg{err: fmt.Errorf("export timeline: %w", err)}
		}
		return exportedMsg{path: path}
	}
}
