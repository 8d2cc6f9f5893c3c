package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/runbook"
)

// webhookTimeout bounds one webhook POST.
const webhookTimeout = 15 * time.Second

// publishTimeout bounds one sns publish, loading the AWS configuration
// (SSO, profiles) on first use included.
const publishTimeout = 30 * time.Second

// NotifyData is what a notify template sees. Results (Steps, Estimate) are
// the decoded JSON results, with each snake_case key also reachable in
// CamelCase ({{.Estimate.Duration}} reads "duration").
type NotifyData struct {
	Title    string
	Name     string
	Version  int
	Env      string
	Mode     engine.Mode
	Operator string
	Vars     map[string]string
	Steps    map[string]any
	Estimate map[string]any // the latest estimate result; Duration "unknown" when none
	Window   NotifyWindow
}

// NotifyWindow describes the environment's change window for templates.
type NotifyWindow struct {
	Start string // the current window's start, else the next opening; "now" without a window
	End   string
	Open  bool
}

// NotifyResult is the result of a notify step.
type NotifyResult struct {
	Channel string   `json:"channel"`
	To      []string `json:"to,omitempty"`
	Message string   `json:"message"`
	Sent    bool     `json:"sent"`
	Status  int      `json:"status,omitempty"` // webhook HTTP status
	// MessageID is the broker's id of the published message (sns): the
	// ack that the topic accepted it.
	MessageID string `json:"message_id,omitempty"`
}

// runNotify renders the template and sends it on the channel (stdout,
// file, webhook, sns). The notify event is journaled before sending; a
// dry-run renders and journals but does not send. An sns step without a
// Config.Publisher fails before its event, in every mode, so a dry-run
// shows what the live run would fail on.
func runNotify(ctx context.Context, sc *engine.StepContext) (any, error) {
	spec := sc.Step.Notify
	if spec == nil || spec.Template == nil {
		return nil, fmt.Errorf("notify %s: %w: no template", sc.Step.ID, engine.ErrConfig)
	}
	msg, err := spec.Template.Render(notifyData(sc))
	if err != nil {
		return nil, fmt.Errorf("notify %s: %w", sc.Step.ID, err)
	}
	msg = sc.Redact(msg)
	channel := spec.Channel
	if channel == "" {
		channel = "stdout"
	}
	if channel == "sns" && sc.Publisher == nil {
		return nil, fmt.Errorf("notify %s: %w: channel sns needs an SNS publisher and this session has none "+
			"(lockstep run wires the AWS one; a program embedding the engine sets engine.Config.Publisher)", sc.Step.ID, engine.ErrConfig)
	}
	res := &NotifyResult{Channel: channel, To: recipients(sc.Runbook.Roles, spec.To), Message: msg,
		Sent: sc.Mode != engine.ModeDryRun}
	if err := sc.Emit(engine.NewEvent("", engine.Notified{
		Channel: channel, To: res.To, Message: msg, Sent: res.Sent,
	})); err != nil {
		return nil, err
	}
	if !res.Sent {
		return res, nil
	}
	if err := send(ctx, sc, spec, channel, msg, res); err != nil {
		return res, fmt.Errorf("notify %s: %w", sc.Step.ID, err)
	}
	return res, nil
}

func send(ctx context.Context, sc *engine.StepContext, spec *runbook.NotifySpec, channel, msg string, res *NotifyResult) error {
	switch channel {
	case "stdout":
		w := sc.Stdout
		if w == nil {
			w = os.Stdout
		}
		_, err := fmt.Fprintln(w, msg)
		return err
	case "file":
		path, err := sc.Runbook.ExpandPath(spec.Path, sc.Getenv)
		if err != nil {
			return fmt.Errorf("file channel: %w", err)
		}
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("file channel: %w", err)
		}
		_, err = fmt.Fprintln(f, msg)
		return errorsJoinClose(err, f)
	case "webhook":
		status, err := postWebhook(ctx, sc, spec.URL, msg)
		res.Status = status
		return err
	case "sns":
		id, err := publishSNS(ctx, sc, spec.Topic, msg)
		res.MessageID = id
		return err
	}
	return fmt.Errorf("%w: channel %q is not supported by this build (stdout, file, webhook, sns)", engine.ErrConfig, channel)
}

// publishSNS publishes msg to the topic (${VAR} expanded) through
// sc.Publisher, with "<runbook title> [<env>] <step id>" as the subject,
// and returns the message id.
func publishSNS(ctx context.Context, sc *engine.StepContext, rawTopic, msg string) (string, error) {
	topic, err := runbook.Expand(rawTopic, sc.Getenv)
	if err != nil {
		return "", fmt.Errorf("sns: %w", err)
	}
	subject := sc.Runbook.Title
	if sc.Env != nil && sc.Env.Name != "" {
		subject += " [" + sc.Env.Name + "]"
	}
	subject = sc.Redact(subject + " " + sc.Step.ID)
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	id, err := sc.Publisher.Publish(ctx, topic, subject, msg)
	if err != nil {
		if r := sc.Redact(err.Error()); r != err.Error() {
			return "", fmt.Errorf("sns: %s", r)
		}
		return "", fmt.Errorf("sns: %w", err)
	}
	return id, nil
}

func errorsJoinClose(err error, c io.Closer) error {
	if cerr := c.Close(); err == nil && cerr != nil {
		return cerr
	}
	return err
}

// postWebhook POSTs {"text": msg}; a non-2xx status is an error. Errors
// never quote the URL as Go prints it (a *url.Error masks the password,
// so a secret URL no longer matches the redactor): they name it
// redacted as written, its secrets and password replaced.
func postWebhook(ctx context.Context, sc *engine.StepContext, rawURL, msg string) (int, error) {
	target, err := runbook.Expand(rawURL, sc.Getenv)
	if err != nil {
		return 0, fmt.Errorf("webhook: %w", err)
	}
	name := sc.Redact(target)
	body, _ := json.Marshal(map[string]string{"text": msg})
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("webhook POST %s: %s", name, sc.Redact(withoutURL(err).Error()))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("webhook POST %s: %s", name, sc.Redact(withoutURL(err).Error()))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("webhook POST %s: HTTP %d: %s", name, resp.StatusCode, sc.Redact(strings.TrimSpace(string(snippet))))
	}
	return resp.StatusCode, nil
}

// withoutURL returns the cause of a *url.Error, which quotes the URL.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// recipients resolves role names to their holders; other entries are
// literal recipients.
func recipients(roles runbook.Roles, to []string) []string {
	var out []string
	for _, r := range to {
		if h := roles.Holders(r); h != nil {
			out = append(out, h...)
			continue
		}
		out = append(out, r)
	}
	return out
}

func notifyData(sc *engine.StepContext) NotifyData {
	d := NotifyData{
		Title: sc.Runbook.Title, Name: sc.Runbook.Name, Version: sc.Runbook.Version,
		Env: sc.Env.Name, Mode: sc.Mode, Operator: sc.Operator, Vars: map[string]string{},
		Steps:    map[string]any{},
		Estimate: map[string]any{"Duration": "unknown"},
		Window:   NotifyWindow{Start: "now", Open: true},
	}
	if env := sc.ExprEnv(); env != nil {
		if vars, ok := env[runbook.EnvVars].(map[string]any); ok {
			for k, v := range vars {
				d.Vars[k] = fmt.Sprint(v)
			}
		}
	}
	for _, st := range sc.Runbook.Steps() {
		raw, ok := sc.Results[st.ID]
		if !ok {
			continue
		}
		v, err := decodeResult(raw)
		if err != nil {
			continue
		}
		v = camelAliases(v)
		d.Steps[st.ID] = v
		if m, ok := v.(map[string]any); ok && st.Kind == runbook.KindEstimate {
			// {{.Estimate.Duration}} reads as a human duration (DESIGN.md's example).
			if ms, ok := m["duration_ms"].(int64); ok {
				if _, taken := m["Duration"]; !taken || m["Duration"] == m["duration"] {
					m["Duration"] = engine.FormatDuration(time.Duration(ms) * time.Millisecond)
				}
			}
			d.Estimate = m
		}
	}
	if w := sc.Env.Window; w != nil {
		if st, err := engine.CheckWindow(w, sc.Clock.Now()); err == nil {
			const layout = "Mon 2006-01-02 15:04 MST"
			d.Window = NotifyWindow{Open: st.Open, Start: st.NextOpen.Format(layout)}
			if st.Open {
				d.Window.Start, d.Window.End = st.Start.Format(layout), st.End.Format(layout)
			}
		}
	}
	return d
}

// decodeResult decodes a step result for templates. Numbers keep the
// digits they were written with: an integer is an int64 (1200000 prints
// as 1200000, not 1.2e+06, and printf "%d" takes it), any other number a
// templateFloat.
func decodeResult(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return templateNumbers(v), nil
}

func templateNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return templateFloat(f)
	case map[string]any:
		for k, x := range t {
			t[k] = templateNumbers(x)
		}
	case []any:
		for i, x := range t {
			t[i] = templateNumbers(x)
		}
	}
	return v
}

// templateFloat is a non-integer number in a notify template: it prints in
// plain decimal (1234567.5, not 1.2345675e+06), and printf's float verbs
// and the comparison functions take it as a float64.
type templateFloat float64

func (f templateFloat) String() string { return strconv.FormatFloat(float64(f), 'f', -1, 64) }

// camelAliases adds a CamelCase alias for each snake_case key of every map
// in v, so templates can write {{.Estimate.Duration}} for "duration".
func camelAliases(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, 2*len(t))
		for k, x := range t {
			out[k] = camelAliases(x)
		}
		for k := range t {
			if c := camel(k); c != k {
				if _, taken := t[c]; !taken {
					out[c] = out[k]
				}
			}
		}
		return out
	case []any:
		for i := range t {
			t[i] = camelAliases(t[i])
		}
	}
	return v
}

func camel(s string) string {
	parts := strings.Split(s, "_")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}
