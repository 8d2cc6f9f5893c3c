package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

func pickItems() []PickItem {
	return []PickItem{
		{Name: "add-attribute", Title: "Add an attribute with a default", Builtin: true},
		{Name: "split-attribute", Title: "Split one attribute into several", Builtin: true},
		{Name: "rename-attribute", Title: "Rename an attribute (expand/contract)", Builtin: true},
		{Name: "split-address.yaml", Title: "Split users.address into street_name, city, postcode", Path: "split-address.yaml"},
	}
}

func newTestPicker(w, h int) *Picker {
	p := NewPicker(pickItems())
	p.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return p
}

// pressPick sends keys to p, feeding back what the list's commands (its
// asynchronous filtering) produce, and returns the last key's command.
func pressPick(p *Picker, keys ...string) tea.Cmd {
	var last tea.Cmd
	for _, k := range keys {
		_, last = p.Update(keyMsg(k))
		for _, msg := range runCmdWithin(last, 5*time.Second) {
			if msg != quitMsg {
				p.Update(msg)
			}
		}
	}
	return last
}

func TestPickGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			p := newTestPicker(size[0], size[1])
			v := ansi.Strip(p.View().Content)
			checkSize(t, v, size[0], size[1])
			golden(t, v)
		})
	}
}

func TestPickEnterPicks(t *testing.T) {
	p := newTestPicker(80, 24)
	cmd := pressPick(p, "down", "down", "down", "enter")
	it, ok := p.Picked()
	if !ok || it.Path != "split-address.yaml" || it.Builtin {
		t.Fatalf("Picked() = %+v, %v", it, ok)
	}
	if cmd == nil || cmd() != quitMsg {
		t.Error("enter did not quit")
	}
}

func TestPickFilter(t *testing.T) {
	p := newTestPicker(80, 24)
	pressPick(p, "/", "r", "e", "n", "enter", "enter")
	it, ok := p.Picked()
	if !ok || it.Name != "rename-attribute" {
		t.Fatalf("Picked() = %+v, %v; want rename-attribute", it, ok)
	}
}

func TestPickQuitCancels(t *testing.T) {
	p := newTestPicker(80, 24)
	cmd := pressPick(p, "q")
	if _, ok := p.Picked(); ok {
		t.Error("q picked something")
	}
	if cmd == nil || cmd() != quitMsg {
		t.Error("q did not quit")
	}
}

// TestPickEnvironment: the environment picker says what it picks, and
// shows what an environment still needs set.
func TestPickEnvironment(t *testing.T) {
	items := []PickItem{
		{Name: "staging", Title: "environment", Kind: KindEnvironment, Note: "needs $LOCKSTEP_DB, $LOCKSTEP_TABLE (unset)"},
		{Name: "production", Title: "PROTECTED environment: you will type its name to confirm", Kind: KindEnvironment},
	}
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			p := NewPicker(items)
			p.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			v := ansi.Strip(p.View().Content)
			checkSize(t, v, size[0], size[1])
			for _, want := range []string{"Pick an environment", "2 environments", "needs $LOCKSTEP_DB"} {
				if !strings.Contains(v, want) {
					t.Errorf("environment picker lacks %q:\n%s", want, v)
				}
			}
			if strings.Contains(v, "runbook") {
				t.Errorf("environment picker speaks of runbooks:\n%s", v)
			}
			golden(t, v)
		})
	}
}

// TestPickHelp: ? lists the picker's keys, as everywhere else.
func TestPickHelp(t *testing.T) {
	p := newTestPicker(80, 24)
	before := ansi.Strip(p.View().Content)
	pressPick(p, "?")
	after := ansi.Strip(p.View().Content)
	if before == after || !strings.Contains(after, "filter") || !strings.Contains(after, "cancel") {
		t.Errorf("? did not show the picker's keys:\n%s", after)
	}
}
