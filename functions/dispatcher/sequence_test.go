package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// webhook-sequence: one number per distinct load of (account, integration,
// destination root table), the same on every hook and attempt, none for a
// re-sent load, and none lost or repeated when an invocation dies between
// taking the number and recording it.

// loadOf is a load message of table (integration shopify) for hook 1 and 2's
// destinations alike (no destination_id).
func loadOf(loadID, table string) string {
	return strings.ReplaceAll(loadMessage(testClient, loadID, "succeeded"), `"orders"`, fmt.Sprintf("%q", table))
}

// mustFailAll runs a batch that must fail as a whole.
func (e *env) mustFailAll(t *testing.T, body string) {
	t.Helper()
	if ids, err := e.run(t, sqsEvent(body)); err == nil || len(ids) != 1 {
		t.Fatalf("handle = %v, %v; want the record failed", ids, err)
	}
}

// sequences returns, per load id, the webhook-sequence values sent.
func sequences(reqs []webhook.Request) map[string][]int64 {
	out := map[string][]int64{}
	for _, r := range reqs {
		out[r.LoadID] = append(out[r.LoadID], r.Sequence)
	}
	return out
}

func TestSequencePerTableSameOnEveryHook(t *testing.T) {
	e := newEnv(t)
	e.mustRun(t, sqsEvent(loadOf("L1", "orders")))
	e.mustRun(t, sqsEvent(loadOf("L2", "orders"), loadOf("C1", "customers")))
	e.mustRun(t, sqsEvent(loadOf("L1", "orders"))) // re-sent: nothing sent, no number used
	e.mustRun(t, sqsEvent(loadOf("L3", "orders")))
	got := sequences(e.hooks.calls())
	want := map[string][]int64{"L1": {1, 1}, "L2": {2, 2}, "C1": {1, 1}, "L3": {3, 3}}
	for id, w := range want {
		if g := got[id]; !slices.Equal(g, w) {
			t.Errorf("load %s: webhook-sequence %v, want %v (two hooks)", id, g, w)
		}
	}
	if r := e.record(key("L2", 1)); r.Sequence != 2 {
		t.Errorf("record of L2 keeps sequence %d, want 2", r.Sequence)
	}
}

func TestSequenceSameOnRetryAndResend(t *testing.T) {
	e := newEnv(t)
	e.store.SetHooks(testClient, e.store.Hooks(testClient)[:1])
	e.mustRun(t, sqsEvent(loadOf("L0", "orders")))
	e.failWith(500)
	e.mustRun(t, sqsEvent(loadOf("L1", "orders")))
	for n := 2; n <= 6; n++ {
		e.mustRun(t, sqsEvent(e.queue.on(retryURL)[n-2].Body))
	}
	k := key("L1", 1)
	if r := e.record(k); r.Status != delivery.StatusExhausted {
		t.Fatalf("record = %+v, want exhausted", r)
	}
	r, err := e.store.Resend(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	e.mustRun(t, sqsEvent(string(r.Message.Encode())))
	got := sequences(e.hooks.calls())["L1"]
	if want := []int64{2, 2, 2, 2, 2, 2, 2}; !slices.Equal(got, want) {
		t.Errorf("attempts and resend of L1 sent webhook-sequence %v, want %v", got, want)
	}
}

// crashingStore is the in-memory store with results that are never written
// while crash is set: the invocation dies after its attempts.
type crashingStore struct {
	deliveryStore
	crash bool
}

var errCrash = errors.New("test: the invocation died")

func (c *crashingStore) RecordResults(ctx context.Context, rs []delivery.Result) ([]delivery.Record, []error) {
	if c.crash {
		errs := make([]error, len(rs))
		for i := range errs {
			errs[i] = errCrash
		}
		return make([]delivery.Record, len(rs)), errs
	}
	return c.deliveryStore.RecordResults(ctx, rs)
}

// A crash after the number was taken and the attempts made, before the
// results (and the number) were recorded; other loads of the table take
// numbers meanwhile; the redelivery, after the lease, sends the number the
// load took first, and no number is skipped or used twice.
func TestSequenceSurvivesACrash(t *testing.T) {
	e := newEnv(t)
	cs := &crashingStore{deliveryStore: e.store, crash: true}
	e.h.deliveries = cs
	e.mustFailAll(t, loadOf("L1", "orders"))
	cs.crash = false
	e.mustRun(t, sqsEvent(loadOf("L2", "orders"), loadOf("L3", "orders")))
	e.mustFailAll(t, loadOf("L1", "orders")) // the lease is live: later
	e.clock.advance(time.Minute)
	e.mustRun(t, sqsEvent(loadOf("L1", "orders")))
	got := sequences(e.hooks.calls())
	if g := got["L1"]; !slices.Equal(g, []int64{1, 1, 1, 1}) {
		t.Errorf("L1 (crashed, then taken over) sent %v, want 1 on both hooks both times", g)
	}
	var all []int64
	for _, id := range []string{"L1", "L2", "L3"} {
		all = append(all, got[id][0])
		if r := e.record(key(id, 1)); r.Sequence != got[id][0] {
			t.Errorf("record of %s keeps %d, sent %d", id, r.Sequence, got[id][0])
		}
	}
	slices.Sort(all)
	if !slices.Equal(all, []int64{1, 2, 3}) {
		t.Errorf("numbers of L1..L3 = %v, want 1, 2, 3 (no gap, no repeat)", all)
	}
}

// A counter that cannot be written fails the record (its claims run out
// with their lease), and the redelivery sends the first number.
func TestSequenceStoreErrorFailsTheRecord(t *testing.T) {
	e := newEnv(t)
	e.store.Fail("AssignSequences", errors.New("dynamodb down"))
	e.mustFailAll(t, loadOf("L1", "orders"))
	if n := len(e.hooks.calls()); n != 0 {
		t.Fatalf("%d requests sent without a number", n)
	}
	e.store.Fail("AssignSequences", nil)
	e.clock.advance(time.Minute)
	e.mustRun(t, sqsEvent(loadOf("L1", "orders")))
	if g := sequences(e.hooks.calls())["L1"]; !slices.Equal(g, []int64{1, 1}) {
		t.Errorf("L1 sent %v, want 1 on both hooks", g)
	}
}

// A message's "run" is read strictly: a malformed one makes the message
// malformed (dead-lettered with its reason, its batch delivered); a valid
// one leaves the load's delivery as it is.
func TestMalformedRunIsDeadLettered(t *testing.T) {
	e := newEnv(t)
	e.store.SetHooks(testClient, e.store.Hooks(testClient)[:1])
	withRun := func(loadID, run string) string {
		return strings.Replace(loadMessage(testClient, loadID, "succeeded"), `{"client_id":`, `{"run":`+run+`,"client_id":`, 1)
	}
	bad := withRun("L1", `{"id":"r1","tables":0}`)
	e.mustRun(t, sqsEvent(bad, withRun("L2", `{"id":"r1","tables":2}`), withRun("L3", `{"id":"","tables":2}`)))
	dl := e.queue.on(deadURL)
	reasons := map[string]string{}
	for _, m := range dl {
		reasons[m.Body] = m.Reason
	}
	if len(dl) != 2 || reasons[bad] != "invalid load message: run.tables: must be a positive integer" ||
		!strings.HasPrefix(reasons[withRun("L3", `{"id":"","tables":2}`)], "invalid load message: run.id: ") {
		t.Errorf("dead letters = %+v, want L1 and L3 with their reasons", dl)
	}
	if got := sequences(e.hooks.calls()); len(got) != 1 || len(got["L2"]) != 1 {
		t.Errorf("requests = %v, want L2's only", got)
	}
}
