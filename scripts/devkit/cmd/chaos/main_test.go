package main

import (
	"strings"
	"testing"
	"time"
)

func testEnv(name string) string {
	return map[string]string{
		"HOOKS_TABLE": "t", "HOOKS_NOTIFICATIONS_QUEUE_URL": "q", "HOOKS_RETRY_QUEUE_URL": "q", "HOOKS_ALERT_QUEUE_URL": "q",
		"HOOKS_DEAD_LETTER_QUEUE_URL": "q", "HOOKS_RETRY_DLQ_URL": "q", "HOOKS_ALERTS_DLQ_URL": "q",
		"AWS_ENDPOINT_URL_SESV2": "e", "AWS_ENDPOINT_URL_DYNAMODB": "e", "AWS_ENDPOINT_URL_SQS": "e",
	}[name]
}

// TestScaleLimits: ten times the full run (400 loads x 10 hooks) is
// accepted with a bounded time limit; more is refused.
func TestScaleLimits(t *testing.T) {
	base := []string{"-bin", "b", "-rie", "r", "-eventsource", "s", "-riepool", "p", "-work", "w"}
	tests := []struct {
		args    []string
		limit   time.Duration
		wantErr string
	}{
		{args: []string{"-short"}, limit: 150 * time.Second},
		{args: nil, limit: 8 * time.Minute},
		{args: []string{"-loads", "200", "-hooks", "10"}, limit: 8*time.Minute + 320*time.Second},
		{args: []string{"-loads", "400", "-hooks", "10"}, limit: 20 * time.Minute},
		{args: []string{"-loads", "401"}, wantErr: "-loads 401: want 4 to 400"},
		{args: []string{"-hooks", "11"}, wantErr: "-hooks 11: want 4 to 10"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			s, err := parseSettings(append(append([]string{}, base...), tt.args...), testEnv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.limit != tt.limit {
				t.Errorf("time limit %s, want %s", s.limit, tt.limit)
			}
		})
	}
	if _, err := parseSettings([]string{"-bin", "b", "-rie", "r", "-eventsource", "s", "-work", "w"}, testEnv); err == nil || !strings.Contains(err.Error(), "-riepool is required") {
		t.Errorf("without -riepool: %v", err)
	}
}

// TestBreakModes: each way of breaking the run on purpose is accepted, and
// nothing else.
func TestBreakModes(t *testing.T) {
	base := []string{"-bin", "b", "-rie", "r", "-eventsource", "s", "-riepool", "p", "-work", "w"}
	for _, mode := range []string{"lost-pair", "extra-dlq", "dup-replay"} {
		if s, err := parseSettings(append(append([]string{}, base...), "-break", mode), testEnv); err != nil || s.breakMode != mode {
			t.Errorf("-break %s: %q, %v", mode, s.breakMode, err)
		}
	}
	_, err := parseSettings(append(append([]string{}, base...), "-break", "lost-replay"), testEnv)
	if err == nil || !strings.Contains(err.Error(), `-break "lost-replay": want lost-pair, extra-dlq or dup-replay`) {
		t.Errorf("-break lost-replay: %v", err)
	}
}
