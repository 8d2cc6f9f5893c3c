package sns_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/lockstep-run/lockstep/engine/notify/sns"
)

const topic = "arn:aws:sns:eu-west-1:123456789012:ops-announce"

// publishOK is SNS's answer to a Publish, as the Query protocol sends it.
const publishOK = `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <PublishResult>
    <MessageId>567910cd-659e-55d4-8ccb-5aaf14679dc0</MessageId>
  </PublishResult>
  <ResponseMetadata>
    <RequestId>d74b8436-ae13-5ab4-a9ff-ce54dfea72a0</RequestId>
  </ResponseMetadata>
</PublishResponse>`

// topicNotFound is SNS's answer to a Publish to a topic that does not exist.
const topicNotFound = `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <Error>
    <Type>Sender</Type>
    <Code>NotFound</Code>
    <Message>Topic does not exist</Message>
  </Error>
  <RequestId>9dd01905-5012-5f99-8663-4b3ecd0dfaef</RequestId>
</ErrorResponse>`

// request is what the fake SNS endpoint received.
type request struct {
	form map[string]string
	auth string
}

// snsServer is a local endpoint speaking SNS's Query protocol: it records
// each request and answers with status and body.
type snsServer struct {
	*httptest.Server
	mu     sync.Mutex
	got    []request
	status int
	body   string
}

func newSNSServer(t *testing.T, status int, body string) *snsServer {
	t.Helper()
	s := &snsServer{status: status, body: body}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("parse form: %v", err)
		}
		req := request{form: map[string]string{}, auth: r.Header.Get("Authorization")}
		for k, v := range r.PostForm {
			req.form[k] = v[0]
		}
		s.mu.Lock()
		s.got = append(s.got, req)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(s.status)
		_, _ = w.Write([]byte(s.body))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *snsServer) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.got...)
}

// isolate keeps the SDK away from the machine's AWS configuration.
func isolate(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_PROFILE": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_SNS": "",
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
}

var static = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")

// TestPublish runs the real SDK client against a local SNS endpoint.
func TestPublish(t *testing.T) {
	isolate(t)
	tests := []struct {
		name, topic, subject string
		wantSubject          string
		fifo                 bool
	}{
		{"standard topic", topic, "Split addresses [production] announce", "Split addresses [production] announce", false},
		{"subject made printable ASCII", topic, "Déplacer\tles\nadresses → v3 ", "Deplacer les adresses ? v3", false},
		{"subject cut", topic, strings.Repeat("x", 150), strings.Repeat("x", 96) + "...", false},
		{"no subject", topic, "", "", false},
		{"fifo topic", "arn:aws:sns:us-east-2:123456789012:ops.fifo", "s", "s", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSNSServer(t, http.StatusOK, publishOK)
			p := sns.New(sns.WithEndpoint(srv.URL), sns.WithCredentials(static))
			id, err := p.Publish(context.Background(), tt.topic, tt.subject, "backfill starts now")
			if err != nil {
				t.Fatalf("Publish()=%v", err)
			}
			if got, want := id, "567910cd-659e-55d4-8ccb-5aaf14679dc0"; got != want {
				t.Errorf("Publish()=%q, want %q", got, want)
			}
			reqs := srv.requests()
			if len(reqs) != 1 {
				t.Fatalf("requests=%d, want 1", len(reqs))
			}
			f := reqs[0].form
			for k, want := range map[string]string{"Action": "Publish", "Version": "2010-03-31",
				"TopicArn": tt.topic, "Message": "backfill starts now", "Subject": tt.wantSubject} {
				if f[k] != want {
					t.Errorf("form %s=%q, want %q", k, f[k], want)
				}
			}
			if _, sent := f["Subject"]; sent != (tt.wantSubject != "") {
				t.Errorf("Subject sent=%v, want %v", sent, tt.wantSubject != "")
			}
			region := strings.Split(tt.topic, ":")[3]
			if !strings.Contains(reqs[0].auth, "Credential=AKIDTEST/") || !strings.Contains(reqs[0].auth, "/"+region+"/sns/aws4_request") {
				t.Errorf("Authorization=%q, want signed by AKIDTEST for %s (the topic's region)", reqs[0].auth, region)
			}
			if got := f["MessageGroupId"] != "" && len(f["MessageDeduplicationId"]) == 64; got != tt.fifo {
				t.Errorf("MessageGroupId=%q MessageDeduplicationId=%q, want set only for a FIFO topic", f["MessageGroupId"], f["MessageDeduplicationId"])
			}
		})
	}
}

// TestPublishTopicNotFound: SNS's error answer surfaces, typed, with the
// topic and a hint, and is not retried.
func TestPublishTopicNotFound(t *testing.T) {
	isolate(t)
	srv := newSNSServer(t, http.StatusNotFound, topicNotFound)
	p := sns.New(sns.WithEndpoint(srv.URL), sns.WithCredentials(static))
	_, err := p.Publish(context.Background(), topic, "s", "hi")
	var nf *types.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("Publish()=%v, want a NotFoundException", err)
	}
	for _, want := range []string{"publish to " + topic, "Topic does not exist", "check the topic ARN"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Publish()=%q, want it to contain %q", err, want)
		}
	}
	if got := len(srv.requests()); got != 1 {
		t.Errorf("requests=%d, want 1 (a 4xx is not retried)", got)
	}
}

// TestPublishEndpointFromEnvironment: AWS_ENDPOINT_URL_SNS on a loopback
// address is enough to reach a local emulator (the README's recipe);
// without configured credentials dummy ones sign the request.
func TestPublishEndpointFromEnvironment(t *testing.T) {
	isolate(t)
	srv := newSNSServer(t, http.StatusOK, publishOK)
	t.Setenv("AWS_ENDPOINT_URL_SNS", srv.URL)
	if _, err := sns.New().Publish(context.Background(), topic, "s", "hi"); err != nil {
		t.Fatalf("Publish()=%v", err)
	}
	if reqs := srv.requests(); len(reqs) != 1 || !strings.Contains(reqs[0].auth, "Credential=lockstep/") {
		t.Errorf("requests=%+v, want one signed with the dummy local credentials", reqs)
	}
}

// TestPublishLoadsConfigLazily: New loads nothing; a configuration that
// cannot load fails the Publish, naming the topic, and is retried next time.
func TestPublishLoadsConfigLazily(t *testing.T) {
	isolate(t)
	p := sns.New(sns.WithProfile("no-such-profile"))
	for i := range 2 {
		_, err := p.Publish(context.Background(), topic, "s", "hi")
		if err == nil || !strings.Contains(err.Error(), "publish to "+topic+": load aws config") || !strings.Contains(err.Error(), "no-such-profile") {
			t.Errorf("Publish() #%d=%v, want a config error naming the topic and the profile", i+1, err)
		}
	}
}

func TestPublishBadTopic(t *testing.T) {
	api := &faultAPI{}
	p := sns.New(sns.WithAPI(api))
	for _, bad := range []string{
		"",
		"ops-announce",
		"arn:aws:sqs:eu-west-1:123456789012:ops-announce",
		"arn:aws:sns::123456789012:ops-announce",
		"arn:aws:sns:eu-west-1::ops-announce",
		"arn:aws:sns:eu-west-1:123456789012:",
		"arn:aws:sns:eu-west-1:123456789012:ops-announce:3f1c2d9e-subscription",
	} {
		_, err := p.Publish(context.Background(), bad, "s", "hi")
		if !errors.Is(err, sns.ErrBadTopic) || !strings.Contains(err.Error(), "arn:aws:sns:eu-west-1:123456789012:ops-announce") ||
			!strings.Contains(err.Error(), "want arn:PARTITION:sns:REGION:ACCOUNT:NAME") {
			t.Errorf("Publish(%q)=%v, want ErrBadTopic showing what a topic ARN looks like", bad, err)
		}
	}
	if api.calls != 0 {
		t.Errorf("SNS called %d times for malformed topics, want 0", api.calls)
	}
}

// faultAPI is an SNS client that answers out and err.
type faultAPI struct {
	calls int
	out   *awssns.PublishOutput
	err   error
}

func (f *faultAPI) Publish(context.Context, *awssns.PublishInput, ...func(*awssns.Options)) (*awssns.PublishOutput, error) {
	f.calls++
	return f.out, f.err
}

func TestPublishFaults(t *testing.T) {
	tests := []struct {
		name    string
		api     *faultAPI
		message string
		want    error
		calls   int
	}{
		{"timeout", &faultAPI{err: context.DeadlineExceeded}, "hi", context.DeadlineExceeded, 1},
		{"no message id", &faultAPI{out: &awssns.PublishOutput{}}, "hi", sns.ErrNoMessageID, 1},
		{"empty message", &faultAPI{out: &awssns.PublishOutput{MessageId: aws.String("m")}}, "", sns.ErrEmptyMessage, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sns.New(sns.WithAPI(tt.api)).Publish(context.Background(), topic, "s", tt.message)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), topic) {
				t.Errorf("Publish()=%v, want %v naming the topic", err, tt.want)
			}
			if tt.api.calls != tt.calls {
				t.Errorf("SNS calls=%d, want %d", tt.api.calls, tt.calls)
			}
		})
	}
}
