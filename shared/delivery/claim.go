package delivery

import "time"

// The claim rules of a delivery record, decided here without I/O. The
// store writes them as DynamoDB conditions and the in-memory store of the
// tests calls them; one conformance suite runs against both, so the two
// cannot drift apart.

// CanClaim reports whether attempt n of a pair may be taken, given its
// record (nil when there is none) and the digest of the body the attempt
// would send: attempt 1 of a pair without a record; the attempt after the
// record's last one when the record waits for it; or the record's own
// attempt when its lease has run out (the invocation holding it died). A
// record that keeps a body digest is claimed only by the same body (a
// record written before digests were kept takes the first one offered).
//
// Leases are compared at millisecond precision, the precision they are
// stored at.
func CanClaim(rec *Record, n int, bodyDigest string, now time.Time) bool {
	if rec == nil {
		return n == 1
	}
	if rec.BodyDigest != "" && rec.BodyDigest != bodyDigest {
		return false
	}
	switch rec.Status {
	case StatusWaiting:
		return rec.Attempt == n-1
	case StatusAttempting:
		return rec.Attempt == n && rec.LeaseUntil.UnixMilli() < now.UnixMilli()
	}
	return false
}

// HeldBy reports whether a record found when a write's condition failed
// shows the state that c's own write leaves: c's attempt, with status and
// claimed under c's token (claimToken, as the record keeps it). It tells a
// write applied by an earlier try of the same call (its answer was lost and
// the SDK retried it) from another invocation's work.
func HeldBy(rec Record, claimToken string, c Claim, status string) bool {
	return claimToken != "" && claimToken == c.Token && rec.Attempt == c.Attempt && rec.Status == status
}

// Alert statuses: the bookkeeping of the one alert email per recipient of
// an exhausted delivery.
const (
	AlertSending = "sending" // a sender holds the claim, under a lease
	AlertFailed  = "failed"  // a send failed and its sender released the claim
	AlertSent    = "sent"    // every recipient has had the email (final)
)

// CanClaimAlert reports whether a sender may take the alert of a pair,
// given its status ("" when it has no record yet) and, while it is being
// sent, the claim's lease: a new alert, a released one, or one whose sender
// abandoned it (its lease ran out). Leases are compared at millisecond
// precision, as they are stored.
func CanClaimAlert(status string, leaseUntil, now time.Time) bool {
	switch status {
	case "", AlertFailed:
		return true
	case AlertSending:
		return leaseUntil.UnixMilli() < now.UnixMilli()
	}
	return false
}
