// Package delivery holds the pure parts of delivering a notification to one
// hook: the messages the dispatcher puts on its retry and alert queues, the
// attempt record, and the retry schedule.
//
// It does no I/O and does not log: callers decide what to do with its
// decisions.
package delivery

import "time"

// Kinds of queue message the service itself produces.
const (
	KindRetry     = "retry"
	KindExhausted = "exhausted"
)

// SnippetBytes is the most of a receiver's response body kept with an
// attempt (SPEC section 6: the first 1 KiB).
const SnippetBytes = 1 << 10

// Attempt is one delivery attempt, as recorded in the delivery history and
// carried to the alerter.
type Attempt struct {
	At         time.Time `json:"at"`
	Outcome    string    `json:"outcome"`               // see package webhook's Outcome constants
	StatusCode int       `json:"status_code,omitempty"` // 0 when no response
	Error      string    `json:"error,omitempty"`       // error class, never a secret
	LatencyMs  int64     `json:"latency_ms"`
	Snippet    string    `json:"response_snippet,omitempty"` // first 1 KiB of the response body
}

// RetryMessage asks the dispatcher to make attempt Attempt of one (load,
// hook) pair. It is put on the retry queue with a per-message delay.
type RetryMessage struct {
	Kind           string    `json:"kind"` // KindRetry
	ClientID       int64     `json:"client_id"`
	LoadID         string    `json:"load_id"`
	HookID         int64     `json:"hook_id"`
	Attempt        int       `json:"attempt"` // 2..MaxAttempts
	WebhookID      string    `json:"webhook_id"`
	FirstAttemptAt time.Time `json:"first_attempt_at"`
	Body           string    `json:"body"` // the exact webhook body
}

// AlertMessage tells the alerter that a (load, hook) pair failed its last
// retry. It carries everything the email needs.
type AlertMessage struct {
	Kind            string    `json:"kind"` // KindExhausted
	ClientID        int64     `json:"client_id"`
	LoadID          string    `json:"load_id"`
	HookID          int64     `json:"hook_id"`
	HookURL         string    `json:"hook_url"`
	WebhookID       string    `json:"webhook_id"`
	IntegrationName string    `json:"integration_name"`
	Tables          []string  `json:"tables"`
	Attempts        []Attempt `json:"attempts"`
}
