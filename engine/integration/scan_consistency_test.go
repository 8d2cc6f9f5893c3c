package integration_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/lockstep-run/lockstep/engine/enginetest/rig"
)

// scanRecorder records, per table, whether each Scan the SDK sent asked
// for a strongly consistent read.
type scanRecorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	// scans[table] lists ConsistentRead of each Scan request.
	scans map[string][]bool
}

func (s *scanRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.Header.Get("X-Amz-Target"), ".Scan") && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
		var in struct {
			TableName      string
			ConsistentRead *bool
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.scans[in.TableName] = append(s.scans[in.TableName], in.ConsistentRead != nil && *in.ConsistentRead)
		s.mu.Unlock()
	}
	return s.base.RoundTrip(req)
}

// consistent reports how many scans of tables whose name contains part
// were sent, and how many of them were strongly consistent.
func (s *scanRecorder) consistent(part string) (total, strong int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for table, reads := range s.scans {
		if !strings.Contains(table, part) {
			continue
		}
		for _, c := range reads {
			total++
			if c {
				strong++
			}
		}
	}
	return total, strong
}

func (s *scanRecorder) reset() {
	s.mu.Lock()
	s.scans = map[string][]bool{}
	s.mu.Unlock()
}

// TestDataStepsScanConsistently checks that the steps whose answer depends
// on reading what was just written — the backup export, the drill's
// read-back of its scratch table, verify's counting scan and sample — send
// ConsistentRead to DynamoDB, while estimate keeps eventually consistent
// reads.
func TestDataStepsScanConsistently(t *testing.T) {
	t.Setenv("AWS_CA_BUNDLE", "") // a caller's HTTP client is refused with a custom CA bundle
	rec := &scanRecorder{base: http.DefaultTransport, scans: map[string][]bool{}}
	steps := rig.BackupSteps + `      - {id: counted, kind: verify, with: {expect_none: "item.count < 0", backup: snapshot}}
      - {id: sampled, kind: verify, with: {sample: 20, assert: "item.count > 0"}}
      - {id: size, kind: estimate, with: {exact_count: true}}
`
	r := newDynamoRig(t, 2, "", steps, 120, rec)
	tests := []struct {
		step, table string
		consistent  bool
	}{
		{"snapshot", "users_", true},
		{"drill", "_drill_", true},
		{"counted", "users_", true},
		{"sampled", "users_", true},
		{"size", "users_", false},
	}
	for _, tt := range tests {
		rec.reset()
		if _, err := r.Run(r.StepContext(tt.step)); err != nil {
			t.Fatalf("%s: %v", tt.step, err)
		}
		total, strong := rec.consistent(tt.table)
		want := 0
		if tt.consistent {
			want = total
		}
		if total == 0 || strong != want {
			t.Errorf("%s: %d of %d scans of %s* strongly consistent, want %d", tt.step, strong, total, tt.table, want)
		}
	}
}
