package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lockstep-run/lockstep/engine"
	"github.com/lockstep-run/lockstep/engine/steps"
)

// TestRunNotifySNS: `lockstep run` wires the SNS publisher in, so a notify
// step with channel sns publishes to the endpoint AWS_ENDPOINT_URL_SNS
// names (a local server speaking SNS's Query protocol) and journals the
// message id.
func TestRunNotifySNS(t *testing.T) {
	const topic = "arn:aws:sns:eu-west-1:123456789012:ops-announce"
	var mu sync.Mutex
	var got []map[string]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		got = append(got, map[string]string{"Action": r.PostForm.Get("Action"), "TopicArn": r.PostForm.Get("TopicArn"),
			"Message": r.PostForm.Get("Message"), "Subject": r.PostForm.Get("Subject")})
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>` +
			`<MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_SNS": srv.URL, "AWS_ENDPOINT_URL": "", "AWS_CONFIG_FILE": filepath.Join(dir, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "aws-credentials"), "AWS_PROFILE": "", "AWS_ACCESS_KEY_ID": "",
	} {
		t.Setenv(k, v)
	}
	step := `{id: announce, kind: notify, with: {channel: sns, topic: "` + topic + `", template: "{{.Title}} starts in {{.Env}}"}}`
	jpath, _, errOut, err := runOneStep(t, dir, "Split addresses", step, nil)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, errOut)
	}
	want := map[string]string{"Action": "Publish", "TopicArn": topic, "Message": "Split addresses starts in box",
		"Subject": "Split addresses [box] announce"}
	if len(got) != 1 || len(got[0]) != len(want) {
		t.Fatalf("SNS got %v, want one publish %v", got, want)
	}
	for k, v := range want {
		if got[0][k] != v {
			t.Errorf("SNS %s=%q, want %q", k, got[0][k], v)
		}
	}
	j, s := latestSession(t, jpath)
	evs, err := j.Events(context.Background(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	var res steps.NotifyResult
	for _, ev := range evs {
		if ev.Kind == engine.EvStepEnd && ev.Step == "announce" {
			var d struct{ Result json.RawMessage }
			if err := ev.Decode(&d); err != nil || json.Unmarshal(d.Result, &res) != nil {
				t.Fatalf("decode step.end %s: %v", ev.Data, err)
			}
		}
	}
	if res.MessageID != "m-1" || !res.Sent || res.Channel != "sns" {
		t.Errorf("announce result=%+v, want sent on sns with message id m-1", res)
	}
}
