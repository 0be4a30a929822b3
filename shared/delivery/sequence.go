package delivery

import (
	"crypto/sha256"
	"encoding/base64"
	"maps"
	"slices"
)

// Sequence numbers (the webhook-sequence header of table_loaded requests).
//
// Every distinct load of one (account, integration, destination root
// table), a SequenceKey, gets the next number, 1, 2, 3, ...: the same for
// every hook of the load and on every attempt, resend and replay, because
// the load's delivery record keeps it. A load re-sent with the same load_id
// finds its record and its number there, and takes none. A load that
// reaches no hook takes none.
//
// A number is taken in one conditional write of the key's counter, which
// binds it to the load (the counter keeps, for its newest numbers, the
// SequenceHash of the load that took each), before the load's first
// attempt; the number then reaches the delivery record with the attempt's
// results. A dispatcher that dies between the two leaves the number bound in
// the counter only: the message comes back, the takeover asks the counter
// again and gets the same number. So no number is used twice (the counter
// write is atomic and conditional on the load having none) and none is
// skipped, provided the crashed load comes back before SequenceWindow newer
// numbers of the same key are taken (the counter forgets bindings older
// than that; a crashed load's message returns within minutes).

// SequenceKey names the loads one sequence counts.
type SequenceKey struct {
	ClientID        int64
	IntegrationName string
	Table           string // destination_root_table_name
}

// SequenceWindow is how many of its newest numbers a counter keeps bound
// to their loads (at least; a writer forgets older ones as it can).
const SequenceWindow = 32

// SequenceHash is how a counter names the load that took a number: 66 bits
// of SHA-256 of the load id, 11 characters of base64url (a counter keeps
// SequenceWindow of them within one billed kilobyte).
func SequenceHash(loadID string) string {
	sum := sha256.Sum256([]byte(loadID))
	return base64.RawURLEncoding.EncodeToString(sum[:8])[:11]
}

// SequenceForgettable returns the bindings of a counter (hash to number)
// that a writer may forget, given the counter's latest number: those at
// least SequenceWindow older, oldest first, at most limit of them.
func SequenceForgettable(bound map[string]int64, latest int64, limit int) []string {
	var out []string
	for _, h := range slices.Sorted(maps.Keys(bound)) {
		if bound[h] <= latest-SequenceWindow {
			out = append(out, h)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return int(bound[a] - bound[b]) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}
