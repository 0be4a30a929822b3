// Package delivery holds the pure parts of delivering a notification to one
// hook: the messages the dispatcher puts on its retry and alert queues, the
// attempt record, the retry schedule, and what a load's webhook-sequence
// number promises (sequence.go).
//
// Queue messages are bounded by construction. They are encoded without HTML
// escaping (encoding/json's default writes each '<' as six bytes), a retry
// carries the webhook body as raw JSON, byte for byte, not as a JSON string
// (whose escapes would grow it again), and an alert carries the names of the
// body plus at most AlertAttempts bounded attempts. Since package notify
// caps the body at notify.MaxBodyBytes, every message fits in SQS's
// MaxMessageBytes; the tests prove it for any body notify accepts.
//
// Queue messages carry no secret: an alert holds the hook URL redacted as
// the email shows it (hookurl.Redact), and a retry's body is bound to the
// delivery record by its BodyDigest, so whoever can put a message on the
// retry queue still cannot choose the body that is signed and sent.
//
// Each message has one encoder (its Encode method) and one decoder
// (DecodeRetry, DecodeAlert), which reads it under package strictjson's key
// rule and allows no key but the message's own: only this service writes
// these messages, so an unknown key means a message that is not one (the
// functions move it to the queue's dead-letter queue with the reason).
//
// The package does no I/O and does not log: callers decide what to do with
// its decisions.
package delivery

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/postloadhooks/hooks/shared/notify"
	"github.com/postloadhooks/hooks/shared/strictjson"
)

// Kinds of queue message the service itself produces.
const (
	KindRetry     = "retry"
	KindExhausted = "exhausted"
)

// SnippetBytes is the most of a receiver's response body kept with an
// attempt: the first 1 KiB.
const SnippetBytes = 1 << 10

// MaxMessageBytes is the largest SQS message body (256 KiB).
const MaxMessageBytes = 256 << 10

// MaxRetryAttempt bounds the attempt number a retry message may carry. It is
// deliberately above any schedule: a message queued before the schedule was
// shortened still gets its last attempt and its alert.
const MaxRetryAttempt = 100

// MaxAttemptCount bounds an alert message's attempt_count: far above the
// attempts of 30 days of resends of one delivery.
const MaxAttemptCount = 10000

// AlertAttempts is the most attempts an alert message carries (the newest):
// one full sequence, the first attempt and MaxRetries retries.
const AlertAttempts = MaxRetries + 1

// Bounds of the text of an attempt, in bytes (see Attempt.Bounded).
const (
	maxOutcomeBytes = 64
	maxErrorBytes   = 256
)

// Attempt is one delivery attempt, as recorded in the delivery history and
// carried to the alerter.
type Attempt struct {
	At         time.Time `json:"at"`
	Outcome    string    `json:"outcome"`               // see package webhook's Outcome constants
	StatusCode int       `json:"status_code,omitempty"` // 0 when no response
	Error      string    `json:"error,omitempty"`       // error class, never a secret
	LatencyMs  int64     `json:"latency_ms"`
	Snippet    string    `json:"response_snippet,omitempty"` // first 1 KiB of the response body
	// RetryAfter is the wait a 429 or 503 asked for with Retry-After, at
	// most MaxDelay (zero when none): Schedule.Decide waits at least this
	// long before the next attempt. It is not stored or sent on.
	RetryAfter time.Duration `json:"-"`
}

// Bounded returns a with its texts valid UTF-8 and cut to their bounds: the
// snippet to SnippetBytes, the outcome and error to a few hundred bytes.
func (a Attempt) Bounded() Attempt {
	a.Outcome = TruncateUTF8(strings.ToValidUTF8(a.Outcome, "\uFFFD"), maxOutcomeBytes)
	a.Error = TruncateUTF8(strings.ToValidUTF8(a.Error, "\uFFFD"), maxErrorBytes)
	a.Snippet = TruncateUTF8(strings.ToValidUTF8(a.Snippet, "\uFFFD"), SnippetBytes)
	return a
}

// Stored returns a as a delivery record keeps it: its time at millisecond
// precision, the snippet cut to SnippetBytes, no error class or snippet for
// a success, and no Retry-After (it only decides the next delay).
func (a Attempt) Stored() Attempt {
	a.At = time.UnixMilli(a.At.UnixMilli()).UTC()
	if a.Outcome == OutcomeSuccess {
		a.Error, a.Snippet = "", ""
	}
	a.Snippet = TruncateUTF8(a.Snippet, SnippetBytes)
	a.RetryAfter = 0
	return a
}

// TruncateUTF8 cuts s to at most n bytes without splitting a character.
func TruncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// BodyDigest is the digest of a webhook body that binds it to its delivery
// record: the record keeps the digest of the body of its first attempt, and
// an attempt is claimed only with the same digest.
func BodyDigest(body []byte) string {
	sum := sha256.Sum256(body)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// RetryMessage asks the dispatcher to make attempt Attempt of one (load,
// hook) pair. It is put on the retry queue with a per-message delay.
type RetryMessage struct {
	Kind      string          `json:"kind"` // KindRetry
	ClientID  int64           `json:"client_id"`
	LoadID    string          `json:"load_id"`
	HookID    int64           `json:"hook_id"`
	Attempt   int             `json:"attempt"` // 1 (a resent sequence) or 2..MaxRetryAttempt
	WebhookID string          `json:"webhook_id"`
	Body      json.RawMessage `json:"body"` // the exact webhook body, as raw JSON
}

// AlertMessage tells the alerter that a (load, hook) pair failed its last
// retry. It carries everything the email needs, and no secret.
type AlertMessage struct {
	Kind            string    `json:"kind"` // KindExhausted
	ClientID        int64     `json:"client_id"`
	LoadID          string    `json:"load_id"`
	HookID          int64     `json:"hook_id"`
	HookURL         string    `json:"hook_url"` // redacted (hookurl.Redact): never the query string
	WebhookID       string    `json:"webhook_id"`
	IntegrationName string    `json:"integration_name"`
	Tables          []string  `json:"tables"`
	Attempts        []Attempt `json:"attempts"` // at most AlertAttempts, each Bounded
	// AttemptCount is how many attempts the delivery's history held when
	// this sequence was exhausted: the same for every copy of the message,
	// larger for each later sequence of the pair (a resend keeps the
	// history, and an exhausted sequence adds at least one attempt), so it
	// names the sequence the alert is for (AlertLoadID). 0 in messages of
	// earlier versions, which had one alert per pair.
	AttemptCount int `json:"attempt_count,omitempty"`
	// Event is the webhook-event header of the delivery's requests
	// ("table_loaded", "run_completed", "load_overdue") and Sequence its
	// webhook-sequence header (0 when they carried none: an event
	// notification), so that the email's curl command sends the headers the
	// requests carried. Messages of earlier versions have neither (Event "").
	Event    string `json:"event,omitempty"`
	Sequence int64  `json:"sequence,omitempty"`
}

// AlertLoadID is the load id under which the alert of one exhausted
// sequence of a (load, hook) pair is claimed and placed in its digest
// window: the load id itself for attemptCount 0 (messages of earlier
// versions), else the load id, a newline and "#" and the count. No real load
// id holds a newline, so it never meets another load's alert (nor a digest's,
// store.DigestLoadID, whose newline is followed by a digit). One sequence
// then gets one alert however often its message arrives, and a pair resent
// and exhausted again gets a new one.
func AlertLoadID(loadID string, attemptCount int) string {
	if attemptCount == 0 {
		return loadID
	}
	return loadID + "\n#" + strconv.Itoa(attemptCount)
}

// LastAttempts returns the newest AlertAttempts of history, each Bounded.
func LastAttempts(history []Attempt) []Attempt {
	if len(history) > AlertAttempts {
		history = history[len(history)-AlertAttempts:]
	}
	out := make([]Attempt, len(history))
	for i, a := range history {
		out[i] = a.Bounded()
	}
	return out
}

// Encode is the message as queued: compact JSON, HTML characters not
// escaped, the body copied as is.
func (m RetryMessage) Encode() []byte { return encode(m) }

// Encode is the message as queued: compact JSON, HTML characters not escaped.
func (m AlertMessage) Encode() []byte { return encode(m) }

func encode(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only an invalid RawMessage could fail, and bodies come from
		// notify, which writes valid JSON.
		panic("encode queue message: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// kindOf reads a message's "kind", which must be kind.
func kindOf(o strictjson.Object, kind string) (string, error) {
	k, err := o.String("kind")
	if err != nil {
		return "", err
	}
	if k != kind {
		return "", &strictjson.Error{Field: "kind", Reason: "must be " + kind}
	}
	return k, nil
}

// retryKeys are the keys of a retry message; no other is allowed (only this
// service writes them).
var retryKeys = []string{"kind", "client_id", "load_id", "hook_id", "attempt", "webhook_id", "first_attempt_at", "body"}

// DecodeRetry reads a retry message under package strictjson's key rule,
// with no key but its own, and checks each field on its own (ids positive,
// the load id as notify requires, the attempt in 2..MaxRetryAttempt, the body
// a JSON object). Whether the webhook id is the pair's and the body a valid
// notification is the caller's to check. Every error is a *strictjson.Error.
func DecodeRetry(raw []byte) (RetryMessage, error) {
	var m RetryMessage
	o, err := strictjson.Parse(raw)
	if err != nil {
		return m, err
	}
	if err := o.Only(retryKeys...); err != nil {
		return m, err
	}
	if m.Kind, err = kindOf(o, KindRetry); err != nil {
		return m, err
	}
	if m.ClientID, m.LoadID, m.HookID, err = decodePair(o); err != nil {
		return m, err
	}
	n, err := o.Int("attempt")
	if err != nil {
		return m, err
	}
	if n < 1 || n > MaxRetryAttempt {
		return m, &strictjson.Error{Field: "attempt", Reason: "out of range"}
	}
	m.Attempt = int(n)
	if m.WebhookID, err = o.Name("webhook_id"); err != nil {
		return m, err
	}
	// Messages queued by earlier versions carry the first attempt's time,
	// which the delivery record now holds: still checked, then dropped.
	if _, ok, _ := o.Get("first_attempt_at"); ok {
		if _, err := o.Time("first_attempt_at"); err != nil {
			return m, err
		}
	}
	body, err := o.Required("body")
	if err != nil {
		return m, err
	}
	if body[0] != '{' {
		return m, &strictjson.Error{Field: "body", Reason: "must be a JSON object"}
	}
	m.Body = bytes.Clone(body)
	return m, nil
}

// alertKeys and attemptKeys are the keys of an alert message and of each of
// its attempts; no other is allowed (only this service writes them).
var (
	alertKeys   = []string{"kind", "client_id", "load_id", "hook_id", "hook_url", "webhook_id", "integration_name", "tables", "attempts", "attempt_count", "event", "sequence"}
	attemptKeys = []string{"at", "outcome", "status_code", "error", "latency_ms", "response_snippet"}
)

// DecodeAlert reads an alert message under package strictjson's key rule,
// with no key but its own (as DecodeRetry). Every error is a
// *strictjson.Error.
func DecodeAlert(raw []byte) (AlertMessage, error) {
	var m AlertMessage
	o, err := strictjson.Parse(raw)
	if err != nil {
		return m, err
	}
	if m.Kind, err = kindOf(o, KindExhausted); err != nil {
		return m, err
	}
	if m.ClientID, m.LoadID, m.HookID, err = decodePair(o); err != nil {
		return m, err
	}
	if m.HookURL, err = o.Name("hook_url"); err != nil {
		return m, err
	}
	if m.WebhookID, err = o.Name("webhook_id"); err != nil {
		return m, err
	}
	if m.IntegrationName, err = o.String("integration_name"); err != nil {
		return m, err
	}
	if m.Tables, err = o.Strings("tables"); err != nil {
		return m, err
	}
	attempts, err := o.Array("attempts")
	if err != nil {
		return m, err
	}
	if len(attempts) == 0 {
		return m, &strictjson.Error{Field: "attempts", Reason: "must not be empty"}
	}
	m.Attempts = make([]Attempt, len(attempts))
	for i, raw := range attempts {
		if m.Attempts[i], err = decodeAttempt(raw, "attempts"); err != nil {
			return m, err
		}
	}
	if _, ok, _ := o.Get("attempt_count"); ok {
		n, err := o.Positive("attempt_count")
		if err != nil {
			return m, err
		}
		if n > MaxAttemptCount {
			return m, &strictjson.Error{Field: "attempt_count", Reason: "out of range"}
		}
		m.AttemptCount = int(n)
	}
	if _, ok, _ := o.Get("event"); ok {
		if m.Event, err = o.Name("event"); err != nil {
			return m, err
		}
	}
	if _, ok, _ := o.Get("sequence"); ok {
		if m.Sequence, err = o.Positive("sequence"); err != nil {
			return m, err
		}
	}
	// Last, so that a misspelt key is reported as the field it misspells.
	if err := o.Only(alertKeys...); err != nil {
		return m, err
	}
	return m, nil
}

// decodePair reads the (client, load, hook) ids every message names.
func decodePair(o strictjson.Object) (clientID int64, loadID string, hookID int64, err error) {
	if clientID, err = o.Positive("client_id"); err != nil {
		return
	}
	if loadID, err = o.String("load_id"); err != nil {
		return
	}
	if err := notify.CheckLoadID(loadID); err != nil {
		reason := "invalid"
		if ve := (*notify.ValidationError)(nil); errors.As(err, &ve) {
			reason = ve.Reason
		}
		return 0, "", 0, &strictjson.Error{Field: "load_id", Reason: reason}
	}
	hookID, err = o.Positive("hook_id")
	return
}

func decodeAttempt(raw json.RawMessage, path string) (Attempt, error) {
	var a Attempt
	o, err := strictjson.ParseValid(raw, path+"[]")
	if err != nil {
		return a, err
	}
	if a.At, err = o.Time("at"); err != nil {
		return a, err
	}
	if a.Outcome, err = o.Name("outcome"); err != nil {
		return a, err
	}
	code, err := o.OptInt("status_code")
	if err != nil {
		return a, err
	}
	if code < 0 || code > 999 {
		return a, &strictjson.Error{Field: o.Field("status_code"), Reason: "out of range"}
	}
	a.StatusCode = int(code)
	if a.Error, err = o.OptString("error"); err != nil {
		return a, err
	}
	if a.LatencyMs, err = o.Count("latency_ms"); err != nil {
		return a, err
	}
	if a.Snippet, err = o.OptString("response_snippet"); err != nil {
		return a, err
	}
	if err := o.Only(attemptKeys...); err != nil {
		return a, err
	}
	return a, nil
}
