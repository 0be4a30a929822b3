package delivery

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		in      string
		want    Schedule
		wantErr bool
	}{
		{in: DefaultRetryDelays, want: Schedule{30 * time.Second, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute}},
		{in: "1s,1s,1s,1s,1s", want: Schedule{time.Second, time.Second, time.Second, time.Second, time.Second}},
		{in: " 1s , 2s ", want: Schedule{time.Second, 2 * time.Second}},
		{in: "900s", want: Schedule{MaxDelay}},
		{in: "", wantErr: true},
		{in: "  ", wantErr: true},
		{in: "1s,,2s", wantErr: true},
		{in: "0s", wantErr: true},
		{in: "-1s", wantErr: true},
		{in: "15m1s", wantErr: true},
		{in: "30", wantErr: true},
		{in: "1s,1s,1s,1s,1s,1s", wantErr: true}, // 6 retries: at most 5 are allowed
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSchedule(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrSchedule) {
					t.Fatalf("ParseSchedule(%q) = %v, %v; want ErrSchedule", tt.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("(-got +want):\n%s", diff)
			}
			if got.MaxAttempts() != len(tt.want)+1 {
				t.Errorf("MaxAttempts = %d, want %d", got.MaxAttempts(), len(tt.want)+1)
			}
		})
	}
}

func TestDelay(t *testing.T) {
	s, _ := ParseSchedule(DefaultRetryDelays)
	fixed := func(v float64) func() float64 { return func() float64 { return v } }
	tests := []struct {
		name    string
		attempt int
		rnd     float64
		want    time.Duration
	}{
		{"attempt 2 no jitter", 2, 0.5, 30 * time.Second},
		{"attempt 2 lowest", 2, 0, 24 * time.Second},
		{"attempt 2 highest", 2, 0.999999, 36 * time.Second},
		{"attempt 3 lowest", 3, 0, 96 * time.Second},
		{"attempt 6 lowest", 6, 0, 720 * time.Second},
		{"attempt 6 highest clamped to 900", 6, 0.999999, MaxDelay},
		{"attempt 6 middle", 6, 0.5, MaxDelay},
		{"attempt 1 has no delay", 1, 0.5, 0},
		{"attempt past the schedule", 7, 0.5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.Delay(tt.attempt, fixed(tt.rnd)); got != tt.want {
				t.Errorf("Delay(%d) = %v, want %v", tt.attempt, got, tt.want)
			}
		})
	}
	one := Schedule{time.Second}
	for _, r := range []float64{0, 0.25, 0.5, 0.75, 0.999} {
		if got := one.Delay(2, fixed(r)); got != time.Second {
			t.Errorf("1s with rnd %v = %v, want 1s (whole seconds)", r, got)
		}
	}
}

func TestDecide(t *testing.T) {
	s := Schedule{10 * time.Second, 20 * time.Second}
	half := func() float64 { return 0.5 }
	fail := Attempt{Outcome: "http_status", StatusCode: 503}
	tests := []struct {
		name    string
		attempt int
		a       Attempt
		want    Decision
	}{
		{"success first", 1, Attempt{Outcome: OutcomeSuccess, StatusCode: 204}, Decision{Action: Delivered, Status: StatusDelivered}},
		{"success last", 3, Attempt{Outcome: OutcomeSuccess}, Decision{Action: Delivered, Status: StatusDelivered}},
		{"fail first", 1, fail, Decision{Action: Retry, Delay: 10 * time.Second, Status: StatusWaiting}},
		{"fail second", 2, Attempt{Outcome: "timeout"}, Decision{Action: Retry, Delay: 20 * time.Second, Status: StatusWaiting}},
		{"fail last", 3, fail, Decision{Action: Exhausted, Status: StatusExhausted}},
		{"blocked is retried", 1, Attempt{Outcome: "blocked_address"}, Decision{Action: Retry, Delay: 10 * time.Second, Status: StatusWaiting}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(s.Decide(tt.attempt, tt.a, half), tt.want); diff != "" {
				t.Errorf("(-got +want):\n%s", diff)
			}
		})
	}
}

func TestOnClaimConflict(t *testing.T) {
	now := time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC)
	live, expired := now.Add(time.Second), now.Add(-time.Second)
	rec := func(status string, attempt int, lease time.Time) *Record {
		return &Record{Status: status, Attempt: attempt, LeaseUntil: lease}
	}
	tests := []struct {
		name string
		rec  *Record
		n    int
		want ClaimAction
	}{
		{"missing record", nil, 3, Ack},
		{"delivered", rec(StatusDelivered, 2, time.Time{}), 2, Ack},
		{"cancelled", rec(StatusCancelled, 2, time.Time{}), 3, Ack},
		{"exhausted by this message", rec(StatusExhausted, 6, time.Time{}), 6, ReenqueueAlert},
		{"exhausted, older message", rec(StatusExhausted, 6, time.Time{}), 1, Ack},
		{"waiting after this attempt", rec(StatusWaiting, 3, time.Time{}), 3, ReenqueueRetry},
		{"waiting after a later attempt", rec(StatusWaiting, 4, time.Time{}), 2, Ack},
		{"duplicate first message while waiting", rec(StatusWaiting, 1, time.Time{}), 1, ReenqueueRetry},
		{"attempting same, live lease", rec(StatusAttempting, 2, live), 2, Later},
		{"attempting earlier, live lease", rec(StatusAttempting, 1, live), 2, Later},
		{"attempting later attempt", rec(StatusAttempting, 4, live), 2, Ack},
		{"attempting earlier, lease expired", rec(StatusAttempting, 1, expired), 2, Ack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OnClaimConflict(tt.rec, tt.n, now); got != tt.want {
				t.Errorf("OnClaimConflict = %v, want %v", got, tt.want)
			}
		})
	}
}
