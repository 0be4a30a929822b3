package delivery

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestDecideHonoursRetryAfter: the next retry waits the longer of its
// scheduled delay and the receiver's Retry-After, at most MaxDelay.
func TestDecideHonoursRetryAfter(t *testing.T) {
	s := Schedule{30 * time.Second, 2 * time.Minute}
	high := func() float64 { return 0.999 } // +20 % jitter: 36 s before attempt 2
	busy := func(ra time.Duration) Attempt {
		return Attempt{Outcome: OutcomeHTTPStatus, StatusCode: 429, RetryAfter: ra}
	}
	tests := []struct {
		name    string
		attempt int
		a       Attempt
		want    Decision
	}{
		{"none: the schedule", 1, busy(0), Decision{Action: Retry, Delay: 36 * time.Second, Status: StatusWaiting}},
		{"longer than scheduled", 1, busy(2 * time.Minute), Decision{Action: Retry, Delay: 2 * time.Minute, Status: StatusWaiting}},
		{"shorter than scheduled", 1, busy(10 * time.Second), Decision{Action: Retry, Delay: 36 * time.Second, Status: StatusWaiting}},
		{"equal to the jittered delay", 1, busy(36 * time.Second), Decision{Action: Retry, Delay: 36 * time.Second, Status: StatusWaiting}},
		{"rounded up to seconds", 1, busy(40*time.Second + time.Millisecond), Decision{Action: Retry, Delay: 41 * time.Second, Status: StatusWaiting}},
		{"capped at MaxDelay", 1, busy(time.Hour), Decision{Action: Retry, Delay: MaxDelay, Status: StatusWaiting}},
		{"negative ignored", 2, busy(-time.Hour), Decision{Action: Retry, Delay: 144 * time.Second, Status: StatusWaiting}},
		{"last attempt still exhausted", 3, busy(5 * time.Minute), Decision{Action: Exhausted, Status: StatusExhausted}},
		{"success ignores it", 1, Attempt{Outcome: OutcomeSuccess, StatusCode: 200, RetryAfter: time.Minute}, Decision{Action: Delivered, Status: StatusDelivered}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(s.Decide(tt.attempt, tt.a, high), tt.want); diff != "" {
				t.Errorf("(-got +want):\n%s", diff)
			}
		})
	}
}
