package delivery

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// DefaultRetryDelays is the retry schedule when HOOKS_RETRY_DELAYS is unset.
const DefaultRetryDelays = "30s,2m,5m,10m,15m"

// MaxDelay is the longest delay SQS allows on one message (DelaySeconds 900).
const MaxDelay = 15 * time.Minute

// ReplayDelay is the delay in seconds (SQS DelaySeconds) of the i-th (from
// 0) delivery of a replay that starts rate deliveries a second: i / rate,
// whole seconds, at most MaxDelay. So a replay reaches its receiver in
// groups of rate, one group a second, rather than all at once. A rate
// below 1 counts as 1.
func ReplayDelay(i, rate int) int32 {
	return int32(min(i/max(rate, 1), int(MaxDelay/time.Second)))
}

// Jitter is the relative spread applied to every delay (±20 %).
const Jitter = 0.2

// MaxRetries is the most retries a schedule may hold: at most 5 after the
// first attempt.
const MaxRetries = 5

// ErrSchedule is wrapped by every error of ParseSchedule.
var ErrSchedule = errors.New("invalid retry schedule")

// Schedule is the list of delays before each retry: Schedule[0] comes
// before attempt 2, Schedule[len-1] before the last attempt.
type Schedule []time.Duration

// ParseSchedule reads a comma-separated list of Go durations
// ("30s,2m,5m,10m,15m"), exactly as given: each delay must be greater than
// zero and at most MaxDelay, and the list must hold 1 to MaxRetries delays.
func ParseSchedule(s string) (Schedule, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("%w: empty", ErrSchedule)
	}
	parts := strings.Split(s, ",")
	if len(parts) > MaxRetries {
		return nil, fmt.Errorf("%w: %d delays, at most %d retries are allowed", ErrSchedule, len(parts), MaxRetries)
	}
	out := make(Schedule, 0, len(parts))
	for i, p := range parts {
		d, err := time.ParseDuration(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("%w: delay %d: %q is not a duration", ErrSchedule, i+1, strings.TrimSpace(p))
		}
		if d <= 0 || d > MaxDelay {
			return nil, fmt.Errorf("%w: delay %d: %v is not in (0, %v]", ErrSchedule, i+1, d, MaxDelay)
		}
		out = append(out, d)
	}
	return out, nil
}

// MaxAttempts is how many attempts a delivery gets: the first and one per
// scheduled retry.
func (s Schedule) MaxAttempts() int { return 1 + len(s) }

// Delay is how long to wait before attempt (2..MaxAttempts): the scheduled
// delay with ±20 % jitter, clamped to [0, MaxDelay] and rounded to whole
// seconds (SQS counts DelaySeconds). rnd returns a number in [0, 1)
// (math/rand/v2's Float64 in production). It returns 0 for an attempt that
// has no scheduled delay.
func (s Schedule) Delay(attempt int, rnd func() float64) time.Duration {
	i := attempt - 2
	if i < 0 || i >= len(s) {
		return 0
	}
	f := 1 + Jitter*(2*rnd()-1)
	secs := math.Round(s[i].Seconds() * f)
	secs = max(0, min(secs, MaxDelay.Seconds()))
	return time.Duration(secs) * time.Second
}

// Action is what to do after an attempt.
type Action int

// Actions of Decide.
const (
	Delivered Action = iota + 1 // the hook accepted the notification
	Retry                       // schedule the next attempt after Decision.Delay
	Exhausted                   // the last attempt failed: alert the account
)

func (a Action) String() string {
	switch a {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	case Exhausted:
		return "exhausted"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Decision is the outcome of Decide.
type Decision struct {
	Action Action
	Delay  time.Duration // before the next attempt; only with Retry
	Status string        // the delivery record's new status
}

// Decide says what follows attempt number attempt (1-based) whose result is
// a: delivered on success, otherwise a retry while attempts remain, else
// exhausted. Every failure outcome is retried the same way (a blocked
// address may be a transient DNS answer). A retry waits the scheduled delay
// (Delay) or the receiver's a.RetryAfter, whichever is longer, rounded up to
// whole seconds and at most MaxDelay; Retry-After never adds an attempt
// and never saves the last one from being exhausted.
func (s Schedule) Decide(attempt int, a Attempt, rnd func() float64) Decision {
	switch {
	case a.Outcome == OutcomeSuccess:
		return Decision{Action: Delivered, Status: StatusDelivered}
	case attempt >= s.MaxAttempts():
		return Decision{Action: Exhausted, Status: StatusExhausted}
	default:
		d := s.Delay(attempt+1, rnd)
		if ra := min(a.RetryAfter, MaxDelay); ra > d {
			d = (ra + time.Second - 1).Truncate(time.Second)
		}
		return Decision{Action: Retry, Delay: d, Status: StatusWaiting}
	}
}
