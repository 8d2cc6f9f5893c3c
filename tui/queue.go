package tui

import (
	"sync"

	tea "charm.land/bubbletea/v2"
	"github.com/lockstep-run/lockstep/engine"
)

// queue carries engine events and prompts to the program without ever
// blocking the engine: producers append under a lock and signal; the model's
// wait command drains everything queued as one message. Consecutive progress
// events of a step are coalesced.
type queue struct {
	mu     sync.Mutex
	items  []tea.Msg
	signal chan struct{}
	done   chan struct{}
}

// queueMsg is a batch of EventMsg, PromptMsg, PromptCancelMsg and SessionEndMsg.
type queueMsg []tea.Msg

func newQueue() *queue {
	return &queue{signal: make(chan struct{}, 1), done: make(chan struct{})}
}

// push appends msg; it never blocks.
func (q *queue) push(msg tea.Msg) {
	q.mu.Lock()
	if n := len(q.items); n > 0 && isProgress(msg) && isProgress(q.items[n-1]) &&
		msg.(EventMsg).Event.Step == q.items[n-1].(EventMsg).Event.Step {
		q.items[n-1] = msg // a backlog of samples: keep the newest
	} else {
		q.items = append(q.items, msg)
	}
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// close ends the wait command (the program is exiting).
func (q *queue) close() { close(q.done) }

// wait returns a command that blocks until something is queued, then
// returns all of it. The model re-arms it after each queueMsg.
func (q *queue) wait() tea.Cmd {
	return func() tea.Msg {
		select {
		case <-q.signal:
		case <-q.done:
			return nil
		}
		q.mu.Lock()
		items := q.items
		q.items = nil
		q.mu.Unlock()
		return queueMsg(items)
	}
}

func isProgress(msg tea.Msg) bool {
	ev, ok := msg.(EventMsg)
	return ok && ev.Event.Kind == engine.EvProgress
}
