package delivery

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/postloadhooks/hooks/shared/notify"
	"github.com/postloadhooks/hooks/shared/strictjson"
)

// Integration runs: the table loads of one run of an integration, summed
// up as one run_completed notification when all the run's table
// notifications have arrived, or when the wait for the missing ones is
// over (see the dispatcher's README). The store keeps one run item per
// RunKey; these are its facts and the timer message that ends its wait.

// RunKey names one integration run of an account.
type RunKey struct {
	ClientID        int64
	IntegrationName string
	RunID           string
}

// EventID is the stable id of the run's summary: "run-" and 32 hex digits
// of SHA-256 of the key, the same however often the summary is queued, so
// the summary's delivery record sends it once.
func (k RunKey) EventID() string {
	h := sha256.New()
	h.Write([]byte(strconv.FormatInt(k.ClientID, 10)))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(len(k.IntegrationName))))
	h.Write([]byte{0})
	h.Write([]byte(k.IntegrationName))
	h.Write([]byte(k.RunID))
	return "run-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Limits of a run item, so that every write of it stays a few write units
// and its summary a small body.
const (
	// RunMaxLoads is the most distinct loads a run counts. A run that
	// announces more is summed up by its timer (complete false) with the
	// first RunMaxLoads.
	RunMaxLoads = 1000
	// RunTablesBudget bounds the tables a run lists: their names and a
	// fixed RunTableOverhead each, in bytes. Tables that arrive beyond it
	// are counted with their load but not listed.
	RunTablesBudget = 8 << 10
	// RunTableOverhead is what one listed table costs besides its name.
	RunTableOverhead = 32
)

// RunTableSize is what table t takes of RunTablesBudget.
func RunTableSize(t notify.RunTable) int64 {
	return int64(len(t.DestinationTableName)) + RunTableOverhead
}

// RunLoad is one table notification arriving for a run.
type RunLoad struct {
	LoadID        string
	DestinationID int64 // the message's destination; 0 for none
	Expected      int64 // the run's announced count of table notifications
	At            time.Time
	Tables        []notify.RunTable // root table first
}

// Run is a run item as the store keeps it.
type Run struct {
	Key           RunKey
	DestinationID int64 // the first arrival's destination (0: none)
	Expected      int64 // as the first arrival announced it
	Loads         int64 // distinct loads added
	StartedAt     time.Time
	FinishedAt    time.Time         // the last added arrival
	Tables        []notify.RunTable // in arrival order, within RunTablesBudget
	// FirstLoad and LastLoad are SequenceHash of the load ids of the
	// arrival that started the run (it queues the timer) and of the last
	// one added (with a complete claim, the one that completed the run).
	FirstLoad, LastLoad string
	Claimed             bool // the summary is claimed
	Complete            bool // claimed with every load in
}

// Full reports whether the run has counted all the loads it will count.
func (r Run) Full() bool { return r.Loads >= min(r.Expected, RunMaxLoads) }

// CompleteNow reports whether a claim now would be a complete one: all
// the announced loads are in.
func (r Run) CompleteNow() bool { return r.Loads >= r.Expected }

// Summary is the run's run_completed body, as claimed.
func (r Run) Summary() notify.RunCompleted {
	return notify.RunCompleted{IntegrationName: r.Key.IntegrationName, RunID: r.Key.RunID, Complete: r.Complete,
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Tables: r.Tables}
}

// RunTablesWithin returns the longest prefix of tables whose sizes add up
// to at most budget bytes (RunTableSize), and its size; with first set
// (the run's first arrival) it holds at least one table, so a summary
// always lists one.
func RunTablesWithin(tables []notify.RunTable, budget int64, first bool) ([]notify.RunTable, int64) {
	var used int64
	for i, t := range tables {
		if used+RunTableSize(t) > budget && !(first && i == 0) {
			return tables[:i], used
		}
		used += RunTableSize(t)
	}
	return tables, used
}

// KindRunTimer is a RunTimerMessage, on the retry queue.
const KindRunTimer = "run_timer"

// RunTimerMessage ends a run's wait: at DueAt the run's summary is claimed
// with what arrived (complete false), unless it is claimed already. One
// that arrives before DueAt is put back, delayed by what is left (at most
// MaxDigestDelay: a longer wait is a chain).
//
//	{"kind":"run_timer","client_id":116078,"integration_name":"shopify",
//	 "run_id":"r1","due_at":"2026-07-15T15:45:08Z"}
type RunTimerMessage struct {
	Kind            string    `json:"kind"` // KindRunTimer
	ClientID        int64     `json:"client_id"`
	IntegrationName string    `json:"integration_name"`
	RunID           string    `json:"run_id"`
	DueAt           time.Time `json:"due_at"`
}

// Key is the run the timer ends.
func (m RunTimerMessage) Key() RunKey {
	return RunKey{ClientID: m.ClientID, IntegrationName: m.IntegrationName, RunID: m.RunID}
}

// Encode is the message as queued.
func (m RunTimerMessage) Encode() []byte { return encode(m) }

var runTimerKeys = []string{"kind", "client_id", "integration_name", "run_id", "due_at"}

// DecodeRunTimer reads a run timer under package strictjson's key rule,
// with no key but its own. Every error is a *strictjson.Error.
func DecodeRunTimer(raw []byte) (RunTimerMessage, error) {
	var m RunTimerMessage
	o, err := strictjson.Parse(raw)
	if err != nil {
		return m, err
	}
	if err := o.Exactly(runTimerKeys...); err != nil {
		return m, err
	}
	if m.Kind, err = kindOf(o, KindRunTimer); err != nil {
		return m, err
	}
	if m.ClientID, err = o.Positive("client_id"); err != nil {
		return m, err
	}
	if m.IntegrationName, err = o.Name("integration_name"); err != nil {
		return m, err
	}
	if m.RunID, err = o.Name("run_id"); err != nil {
		return m, err
	}
	if len(m.RunID) > 4*notify.MaxLoadIDLength { // a run id's characters, at most 4 bytes each
		return m, &strictjson.Error{Field: "run_id", Reason: "too long"}
	}
	m.DueAt, err = o.Time("due_at")
	return m, err
}

const runTimerPrefix = `{"kind":"` + KindRunTimer + `",`

// IsRunTimer reports whether a message of the retry queue is a run timer
// as Encode writes it (the dispatcher then reads it with DecodeRunTimer,
// which checks everything).
func IsRunTimer(raw []byte) bool { return bytes.HasPrefix(raw, []byte(runTimerPrefix)) }
