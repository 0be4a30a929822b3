package delivery

import "time"

// Receiver protection: at most a hook's cap of requests are in flight to it
// at once, across every dispatcher instance. An invocation takes the slots
// its batch needs for each hook in one lease (one write per account and
// batch, however many hooks and records), makes at most that many attempts,
// and gives the lease back when the batch ends. A lease names how many
// slots of each hook it holds and when it expires, so the slots of an
// invocation that was killed come back once its lease has run out. What a
// batch could not get a slot for is deferred: queued again with a delay,
// with the same attempt number, so deferral never uses up an attempt.

// DefaultMaxInFlight is a hook's cap of requests in flight when operators
// have not set one.
const DefaultMaxInFlight = 20

// MaxMaxInFlight is the highest cap operators may set: a batch never needs
// more than this many slots of one hook, so a higher cap would change
// nothing.
const MaxMaxInFlight = 100

// DeferDelay is how long a deferred attempt waits on the retry queue before
// it asks for a slot again. Slots come back when a batch ends, within an
// attempt timeout.
const DeferDelay = 5 * time.Second

// SlotRequest asks for Want slots of one hook whose cap is Cap.
type SlotRequest struct {
	HookID int64
	Want   int
	Cap    int
}

// Lease is what an invocation holds: its id, how many slots of each hook it
// was granted (hooks granted none are absent), and when it expires.
type Lease struct {
	ID        string
	ClientID  int64
	Granted   map[int64]int
	ExpiresAt time.Time
}

// Holds reports whether the lease holds any slot.
func (l Lease) Holds() bool {
	for _, n := range l.Granted {
		if n > 0 {
			return true
		}
	}
	return false
}

// LeaseSlots is the in-flight state of one hook as a store keeps it: the
// slots each lease holds and when each lease expires.
type LeaseSlots struct {
	Granted   map[int64]int
	ExpiresAt time.Time
}

// Grants decides how many slots of each request a new lease may take,
// given the leases already held (by id) and the time: live leases count
// against each hook's cap, expired ones do not (their holder died; the
// store removes them in the same write). It returns the grants (only
// positive ones) and the ids of the expired leases. Leases are compared at
// millisecond precision, as they are stored.
func Grants(reqs []SlotRequest, held map[string]LeaseSlots, now time.Time) (map[int64]int, []string) {
	live := map[int64]int{}
	var expired []string
	for id, l := range held {
		if l.ExpiresAt.UnixMilli() < now.UnixMilli() {
			expired = append(expired, id)
			continue
		}
		for h, n := range l.Granted {
			live[h] += n
		}
	}
	grants := map[int64]int{}
	for _, r := range reqs {
		if g := min(r.Want, CapOf(r.Cap)-live[r.HookID]); g > 0 {
			grants[r.HookID] = g
		}
	}
	return grants, expired
}

// CapOf is a hook's cap as set (0 when operators never set one).
func CapOf(set int) int {
	if set <= 0 {
		return DefaultMaxInFlight
	}
	return set
}
