package engine

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestCheckpoint drives the Control a data step polls, without a journal:
// it flips the control state the way Session.apply does after journaling.
func TestCheckpoint(t *testing.T) {
	t.Parallel()
	set := func(s *Session, f func(*controlState)) {
		s.mu.Lock()
		f(&s.ctl)
		close(s.ctl.changed)
		s.ctl.changed = make(chan struct{})
		s.mu.Unlock()
	}
	tests := []struct {
		name   string
		then   func(s *Session, cancel context.CancelFunc)
		want   error
		paused bool
	}{
		{"not paused", nil, nil, false},
		{"continue", func(s *Session, _ context.CancelFunc) { set(s, func(c *controlState) { c.paused = false }) }, nil, true},
		{"abort while paused", func(s *Session, _ context.CancelFunc) { set(s, func(c *controlState) { c.aborted = true }) }, ErrAborted, true},
		{"rollback while paused", func(s *Session, _ context.CancelFunc) { set(s, func(c *controlState) { c.rollback = true }) }, ErrAborted, true},
		{"quit while paused", func(_ *Session, cancel context.CancelFunc) { cancel() }, ErrPaused, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Session{}
			s.ctl.changed = make(chan struct{})
			s.ctl.paused, s.ctl.rate = tt.paused, 250
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			got := make(chan error, 1)
			go func() { got <- (controlView{s}).Checkpoint(ctx) }()
			if tt.then != nil {
				select {
				case err := <-got:
					t.Fatalf("Checkpoint returned %v while paused", err)
				case <-time.After(50 * time.Millisecond):
				}
				tt.then(s, cancel)
			}
			select {
			case err := <-got:
				if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
					t.Errorf("Checkpoint() = %v, want %v", err, tt.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Checkpoint did not return")
			}
			if r := (controlView{s}).Rate(); r != 250 {
				t.Errorf("Rate() = %d, want 250", r)
			}
		})
	}
}
