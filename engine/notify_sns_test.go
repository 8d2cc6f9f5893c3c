package engine_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// published is one call of a fakePublisher.
type published struct {
	topic, subject, message string
	journaled               bool // the notify event was in the journal when Publish ran
}

// fakePublisher records what it is asked to publish and answers id or
// err (the driver against a real SNS protocol is tested in engine/notify/sns).
type fakePublisher struct {
	mu       sync.Mutex
	calls    []published
	id       string
	err      error
	journals func() bool // reports whether the notify event is journaled
}

func (p *fakePublisher) Publish(_ context.Context, topic, subject, message string) (string, error) {
	c := published{topic: topic, subject: subject, message: message}
	if p.journals != nil {
		c.journaled = p.journals()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, c)
	return p.id, p.err
}

func TestNotifySNS(t *testing.T) {
	t.Parallel()
	const (
		secret = "hunter2-very-secret"
		topic  = "arn:aws:sns:eu-west-1:123456789012:ops-announce"
		msgID  = "567910cd-659e-55d4-8ccb-5aaf14679dc0"
	)
	src := rig.Header + `
secrets: [SNS_SECRET]
vars: {note: ""}
phases:
  - name: p
    steps:
      - {id: announce, kind: notify, with: {channel: sns, topic: "${SNS_TOPIC}", to: [informed], template: "{{.Title}} starts in {{.Env}}: {{.Vars.note}}"}}
`
	env := map[string]string{"SNS_TOPIC": topic, "SNS_SECRET": secret}
	tests := []struct {
		name    string
		mode    engine.Mode
		pub     *fakePublisher // nil: no Publisher configured
		env     map[string]string
		want    engine.Outcome
		calls   int
		sent    bool   // the notify event says sent
		wantErr string // in step.end; "" when the step succeeds
		wantID  string
	}{
		{name: "sent", mode: engine.ModeLive, pub: &fakePublisher{id: msgID}, env: env,
			want: engine.OutcomeCompleted, calls: 1, sent: true, wantID: msgID},
		{name: "dry-run renders, does not send", mode: engine.ModeDryRun, pub: &fakePublisher{id: msgID}, env: env,
			want: engine.OutcomeCompleted},
		{name: "no publisher configured", mode: engine.ModeLive, env: env, want: engine.OutcomeAborted,
			wantErr: "notify announce: invalid session config: channel sns needs an SNS publisher"},
		{name: "no publisher configured, dry-run", mode: engine.ModeDryRun, env: env, want: engine.OutcomeAborted,
			wantErr: "channel sns needs an SNS publisher"},
		{name: "publisher error", mode: engine.ModeLive, pub: &fakePublisher{err: errors.New("publish to " + topic + ": throttled")}, env: env,
			want: engine.OutcomeAborted, calls: 1, sent: true, wantErr: "notify announce: sns: publish to " + topic + ": throttled"},
		{name: "topic variable unset", mode: engine.ModeLive, pub: &fakePublisher{id: msgID}, env: map[string]string{"SNS_SECRET": secret},
			want: engine.OutcomeAborted, sent: true, wantErr: "notify announce: sns: expand ${SNS_TOPIC}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := rig.NewHarness(t, src, rig.Answers(map[string][]rig.Reply{"announce:failed": {{Ans: engine.Answer{Action: engine.ActionAbort}}}}))
			h.Cfg.Mode = tt.mode
			h.Cfg.Getenv = func(k string) string { return tt.env[k] }
			h.Cfg.Vars = map[string]string{"note": "pw " + secret}
			if tt.pub != nil {
				tt.pub.journals = func() bool {
					evs, err := h.J.Events(context.Background(), h.S.ID())
					for _, ev := range evs {
						if ev.Kind == engine.EvNotify && ev.Step == "announce" {
							return err == nil
						}
					}
					return false
				}
				h.Cfg.Publisher = tt.pub
			}
			h.MustRun(tt.want)

			end := h.EndOf("announce")
			if e, _ := end["error"].(string); tt.wantErr == "" && e != "" || !strings.Contains(e, tt.wantErr) {
				t.Errorf("step.end error=%q, want %q", e, tt.wantErr)
			}
			var calls []published
			if tt.pub != nil {
				calls = tt.pub.calls
			}
			if len(calls) != tt.calls {
				t.Fatalf("Publish calls=%d, want %d", len(calls), tt.calls)
			}
			if tt.calls > 0 {
				want := published{topic: topic, subject: "Test runbook [test] announce",
					message: "Test runbook starts in test: pw " + engine.Redacted, journaled: true}
				if calls[0] != want {
					t.Errorf("Publish(%+v), want %+v", calls[0], want)
				}
			}
			notes := h.Find(engine.EvNotify, "announce")
			if tt.wantErr != "" && !tt.sent {
				if len(notes) != 0 {
					t.Errorf("notify events=%d, want none before a config error", len(notes))
				}
				return
			}
			var d struct{ Sent bool }
			if len(notes) != 1 || notes[0].Decode(&d) != nil || d.Sent != tt.sent {
				t.Errorf("notify events=%d (sent %v), want 1 (sent %v)\n%s", len(notes), d.Sent, tt.sent, h.Dump())
			}
			if tt.wantErr != "" {
				return
			}
			res, _ := end["result"].(map[string]any)
			if id, _ := res["message_id"].(string); id != tt.wantID || res["sent"] != tt.sent {
				t.Errorf("result=%v, want message_id %q, sent %v", res, tt.wantID, tt.sent)
			}
		})
	}
}
