package delivery

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/postloadhooks/hooks/shared/notify"
)

// The delivery record of a load: one record per (client, load) holding the
// webhook body once and one entry per hook (its status, attempt, lease,
// claim token and attempts). An entry, read on its own, is a Record; the
// claim rules above (CanClaim, HeldBy, OnClaimConflict) decide on entries.

// TestLoadPrefix starts the load id of a test notification's record.
const TestLoadPrefix = "test-"

// IsTest reports whether loadID is a test notification's.
func IsTest(loadID string) bool { return strings.HasPrefix(loadID, TestLoadPrefix) }

// Load is what a load's record keeps besides its hooks' entries.
type Load struct {
	ClientID        int64
	LoadID          string
	IntegrationName string
	Tables          []string // destination table names, root first
	Body            []byte   // the exact webhook body every attempt sends
}

// Result is the outcome of a claimed attempt, to be recorded: the attempt
// and the entry's new status (waiting, delivered or exhausted).
type Result struct {
	Claim   Claim
	Attempt Attempt
	Status  string
}

// Delivery is one (load, hook) delivery as the history shows it.
type Delivery struct {
	Key
	Status          string // attempting | waiting | delivered | exhausted | cancelled
	WebhookID       string
	IntegrationName string
	Tables          []string
	CreatedAt       time.Time
	Attempts        []Attempt // oldest first
	Body            []byte    // only GetDelivery fills it
}

// Restart is an ended delivery restarted by a resend: the retry message
// that starts its fresh sequence (for the caller to queue), the delivery as
// now stored (waiting), and how the sequence it replaced had ended, to put
// back (UndoResend) when the message cannot be queued.
type Restart struct {
	Message  RetryMessage
	Delivery Delivery
	Ended    Ended
}

// Ended is how an entry's sequence ended: its final status and the number
// of its last attempt.
type Ended struct {
	Status  string
	Attempt int
}

// ListQuery asks for one page of a hook's deliveries, newest first.
type ListQuery struct {
	ClientID, HookID int64
	Status           string // "" for any
	Limit            int    // 1..100, checked by the caller
	Cursor           string // "" for the first page; opaque, from Page.Next
}

// Page is one page of a hook's deliveries. A page may hold fewer than the
// limit asked for while Next is set (the store reads Limit records and
// keeps those that have an entry for the hook with the status asked for).
type Page struct {
	Deliveries []Delivery
	Next       string // "" when there is no next page
}

// ID is the delivery id of the API for a load id: opaque and URL-safe.
func ID(loadID string) string { return base64.RawURLEncoding.EncodeToString([]byte(loadID)) }

// ParseID returns the load id of a delivery id.
func ParseID(id string) (loadID string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(b) == 0 || base64.RawURLEncoding.EncodeToString(b) != id {
		return "", false
	}
	return string(b), true
}

// Cursor is the position a page of a listing ends at, bound to the listing
// it belongs to (client, hook and status).
type Cursor struct {
	ClientID int64  `json:"c"`
	HookID   int64  `json:"h"`
	Status   string `json:"s"`
	After    string `json:"k"` // the sort key of the last record read
	LoadID   string `json:"l"` // its load id
}

// Encode is the cursor as the API shows it.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor of q's listing. ok is false when s does not
// decode or names another client, hook or status.
func DecodeCursor(s string, q ListQuery) (c Cursor, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return Cursor{}, false
	}
	if c.ClientID != q.ClientID || c.HookID != q.HookID || c.Status != q.Status ||
		c.LoadID == "" || !strings.HasSuffix(c.After, "#"+c.LoadID) {
		return Cursor{}, false
	}
	return c, true
}

// ShownStatus is the status the history shows for an entry stored with
// status and attempt (its attempt counter). An entry that a resend or a
// replay put back to wait for attempt 1 (restarted: it waits with attempt 0
// under the restart's token) shows attempting, its fresh sequence's first
// attempt being on its way. Every other entry shows its status as stored:
// a first attempt that the in-flight cap deferred waits, and shows waiting.
func ShownStatus(status string, attempt int, restarted bool) string {
	if status == StatusWaiting && attempt == 0 && restarted {
		return StatusAttempting
	}
	return status
}

// IsFinal reports whether an entry's status ends its sequence.
func IsFinal(status string) bool {
	return status == StatusDelivered || status == StatusExhausted || status == StatusCancelled || status == StatusSkipped
}

// Names returns the integration and destination table names of a webhook
// body, for the history ("" and none when the body does not parse).
func Names(body []byte) (integration string, tables []string) {
	n, err := notify.ParseBody(body)
	if err != nil {
		return "", []string{}
	}
	return n.IntegrationName, n.TableNames()
}
