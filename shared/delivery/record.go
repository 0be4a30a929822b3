package delivery

import (
	"crypto/rand"
	"errors"
	"time"
)

// Outcomes of an attempt (Attempt.Outcome), set by the webhook client.
const (
	OutcomeSuccess    = "success"          // 2xx
	OutcomeHTTPStatus = "http_status"      // 1xx, 4xx, 5xx: StatusCode says which
	OutcomeTimeout    = "timeout"          // the attempt ran out of time
	OutcomeConnection = "connection_error" // DNS, refused, reset, closed, or the request could not be made
	OutcomeBlocked    = "blocked_address"  // the host resolved to an address that is not public
	OutcomeRedirect   = "redirect"         // 3xx, not followed
	OutcomeTLS        = "tls_error"        // handshake or certificate failure
)

// Statuses of a delivery record, one per (load, hook) pair.
const (
	StatusAttempting = "attempting" // an attempt is in flight, under a lease
	StatusWaiting    = "waiting"    // the last attempt failed; a retry is queued
	StatusDelivered  = "delivered"  // an attempt succeeded (final)
	StatusExhausted  = "exhausted"  // the last attempt failed (final; alert sent)
	StatusCancelled  = "cancelled"  // hook deleted or disabled, or plan lost (final, no alert)
	// StatusSkipped: the hook was disabled for failing when the load came,
	// so nothing was sent (final, no alert); replayed when it recovers.
	StatusSkipped = "skipped"
)

// Key names one (load, hook) pair.
type Key struct {
	ClientID int64
	LoadID   string
	HookID   int64
}

// Claim is one invocation's hold on attempt Attempt of a pair, from taking
// it to recording its result or cancelling it. Token is random and unique
// to the claim: the store keeps it on the record, so a write that was
// applied but whose answer was lost (and that the SDK therefore retried)
// is recognised as this claim's own, not taken for another invocation's.
type Claim struct {
	Key
	Attempt int
	Token   string
	// Sequence is the load's webhook-sequence (see SequenceKey): set by the
	// store on a claim of a load whose record already keeps its number, or
	// by the caller once the number is assigned, so that RecordResults
	// keeps it in the record. Zero: none yet.
	Sequence int64
	// Prior is the pair's attempts as the claim found them (the caller
	// sets it from the claimed record; nil: not known). The store keeps a
	// failed attempt's response snippet as its difference from the latest
	// snippet among them, which a receiver in an outage mostly repeats.
	Prior []Attempt
}

// NewClaim returns a claim on attempt n of k with a fresh token.
func NewClaim(k Key, n int) Claim { return Claim{Key: k, Attempt: n, Token: NewToken()} }

// NewToken returns a fresh claim token: 12 random base32 characters (60
// bits). A token only has to differ from the other claims of one entry, and
// every byte of it is stored (and billed) in each hook's entry.
func NewToken() string { return rand.Text()[:12] }

// Record is the stored state of one (load, hook) delivery.
type Record struct {
	Key
	Status     string
	Attempt    int       // number of the current or last attempt
	LeaseUntil time.Time // while attempting: when the claim may be taken over
	WebhookID  string
	BodyDigest string    // BodyDigest of the body every attempt sends
	Attempts   []Attempt // history, oldest first
	Sequence   int64     // the load's webhook-sequence, 0 when none was recorded yet
}

// ClaimAction is what the dispatcher does with a message whose attempt could
// not be claimed.
type ClaimAction int

// Actions of OnClaimConflict.
const (
	// Ack: nothing to do (final state, stale or duplicate message).
	Ack ClaimAction = iota + 1
	// ReenqueueRetry: the record waits for attempt Attempt+1 and this message
	// wrote that state, so its retry message may not have been sent: send it
	// again (a duplicate retry message is harmless, its claim fails).
	ReenqueueRetry
	// ReenqueueAlert: the record is exhausted and this message wrote that
	// state, so the alert may not have been sent: send it again (the alerter
	// de-duplicates).
	ReenqueueAlert
	// Later: another invocation holds a live lease on the attempt: report the
	// message as failed so SQS redelivers it after the attempt is settled.
	Later
)

func (a ClaimAction) String() string {
	switch a {
	case Ack:
		return "ack"
	case ReenqueueRetry:
		return "reenqueue_retry"
	case ReenqueueAlert:
		return "reenqueue_alert"
	case Later:
		return "later"
	}
	return "unknown"
}

// OnClaimConflict decides what to do when the claim of attempt n failed,
// given the record as it was (nil when it does not exist).
//
// Re-enqueueing happens only when the record's attempt is n: whoever wrote a
// later state keeps its own source message unacknowledged until its retry or
// alert is queued, so a message older than the record has nothing to repair.
func OnClaimConflict(rec *Record, n int, now time.Time) ClaimAction {
	if rec == nil {
		return Ack // expired by TTL, or a retry message for a record never made
	}
	switch rec.Status {
	case StatusWaiting:
		if rec.Attempt == n {
			return ReenqueueRetry
		}
	case StatusExhausted:
		if rec.Attempt == n {
			return ReenqueueAlert
		}
	case StatusAttempting:
		if rec.Attempt <= n && now.Before(rec.LeaseUntil) {
			return Later
		}
	}
	return Ack
}

// ErrClaimLost is returned when a result is written for an attempt this
// invocation no longer holds (its lease expired and another invocation took
// the attempt over, or the record moved on).
var ErrClaimLost = errors.New("delivery claim lost")
