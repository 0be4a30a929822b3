package main

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// The in-flight cap (inflight.go) on memstore: what the cap leaves over is
// deferred to the retry queue with the same attempt, never used up; a dead
// invocation's slots come back when its lease runs out.

// oneHookWithCap leaves testClient one enabled hook (id 1) of cap max.
func (e *env) oneHookWithCap(max int) {
	hooks := e.store.Hooks(testClient)[:1]
	hooks[0].MaxInFlight = max
	e.store.SetHooks(testClient, hooks)
}

func loads(prefix string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, loadMessage(testClient, fmt.Sprintf("%s%d", prefix, i), "succeeded"))
	}
	return out
}

func TestInFlightCapDefersWithoutUsingAnAttempt(t *testing.T) {
	e := newEnv(t)
	e.oneHookWithCap(3)
	e.mustRun(t, sqsEvent(loads("L", 5)...))
	if n := len(e.hooks.calls()); n != 3 {
		t.Fatalf("requests = %d, want the cap of 3", n)
	}
	msgs := e.queue.all()
	if len(msgs) != 2 {
		t.Fatalf("queued %d messages, want 2 deferrals", len(msgs))
	}
	var again []string
	for _, m := range msgs {
		r, err := delivery.DecodeRetry([]byte(m.Body))
		if err != nil || m.Queue != retryURL {
			t.Fatalf("deferral %+v: %v", m, err)
		}
		if r.Attempt != 1 || r.WebhookID != hook.WebhookID(testClient, r.LoadID, 1) {
			t.Errorf("deferral = attempt %d, webhook-id %s; want attempt 1 and the pair's id", r.Attempt, r.WebhookID)
		}
		if m.Delay < 5 || m.Delay > 10 {
			t.Errorf("deferral delay = %d s, want 5 to 10", m.Delay)
		}
		if rec := e.record(key(r.LoadID, 1)); rec.Status != delivery.StatusWaiting || rec.Attempt != 0 || len(rec.Attempts) != 0 {
			t.Errorf("deferred entry = %+v, want waiting for attempt 1", rec)
		}
		again = append(again, m.Body)
	}
	if got, _ := e.store.InFlight(context.Background(), testClient); len(got) != 0 {
		t.Errorf("in flight after the batch = %v, want every slot given back", got)
	}
	e.mustRun(t, sqsEvent(again...))
	for i := range 5 {
		if rec := e.record(key(fmt.Sprintf("L%d", i), 1)); rec.Status != delivery.StatusDelivered || len(rec.Attempts) != 1 {
			t.Errorf("L%d = %+v, want delivered at attempt 1", i, rec)
		}
	}
	if n := len(e.hooks.calls()); n != 5 {
		t.Errorf("requests = %d, want 5: each load once", n)
	}
}

func TestInFlightCapCountsOtherInstances(t *testing.T) {
	e := newEnv(t)
	e.oneHookWithCap(0) // the default, 20
	ctx := context.Background()
	other, err := e.store.AcquireInFlight(ctx, testClient, "other-instance", []delivery.SlotRequest{{HookID: 1, Want: 18}}, inFlightLease)
	if err != nil || other.Granted[1] != 18 {
		t.Fatalf("other instance's lease = %+v, %v", other, err)
	}
	// A retry at attempt 3 is deferred as attempt 3.
	e.waitingAt(t, key("R", 1), 2)
	e.store.ResetCalls()
	bodies := append(loads("L", 3), retryMessage(t, testClient, "R", 1, 3))
	e.mustRun(t, sqsEvent(bodies...))
	if n := len(e.hooks.calls()); n != 2 {
		t.Fatalf("requests = %d, want the 2 slots left", n)
	}
	if n := len(e.queue.all()); n != 2 {
		t.Fatalf("queued %d, want 2 deferrals", n)
	}
	for _, m := range e.queue.all() {
		r, _ := delivery.DecodeRetry([]byte(m.Body))
		want := 1
		if r.LoadID == "R" {
			want = 3
			if rec := e.record(key("R", 1)); rec.Status != delivery.StatusWaiting || rec.Attempt != 2 {
				t.Errorf("deferred retry's entry = %+v, want still waiting after attempt 2", rec)
			}
		}
		if r.Attempt != want {
			t.Errorf("deferral of %s asks for attempt %d, want %d", r.LoadID, r.Attempt, want)
		}
	}

	// The other instance dies: once its lease has run out, its slots come back.
	e.clock.advance(inFlightLease + time.Millisecond)
	e.mustRun(t, sqsEvent(loads("M", 10)...))
	if n := len(e.hooks.calls()); n != 12 {
		t.Errorf("requests = %d, want 12: the dead instance's slots came back", n)
	}
}

// TestInFlightStoreErrorFailsTheRecords: without a lease nothing is sent;
// the records fail and SQS delivers them again.
func TestInFlightStoreErrorFailsTheRecords(t *testing.T) {
	e := newEnv(t)
	e.oneHookWithCap(0)
	e.store.Fail("AcquireInFlight", fmt.Errorf("throttled"))
	got, err := e.run(t, sqsEvent(loads("L", 2)...))
	if err == nil || len(got) != 2 {
		t.Fatalf("failed = %v, %v; want both records failed", got, err)
	}
	if n := len(e.hooks.calls()); n != 0 {
		t.Errorf("requests = %d, want none", n)
	}
}

// TestInFlightCapDefersTheAttemptOfADeadInvocation: an invocation claimed
// attempt 1 of a load and died with its in-flight lease. Its claim runs out
// (35 s) long before its lease (65 s), so the load delivered again finds the
// attempt free to take over but no slot for it: the pair is deferred, as
// attempt 1 (never acknowledged with nothing left to finish it), and its
// deferral takes the attempt over once the slots are back.
func TestInFlightCapDefersTheAttemptOfADeadInvocation(t *testing.T) {
	e := newEnv(t)
	e.oneHookWithCap(1)
	ctx := context.Background()
	k := key("L1", 1)
	dead := e.claimFirst(t, k, e.h.cfg.AttemptTimeout+leaseMargin)
	if l, err := e.store.AcquireInFlight(ctx, testClient, "dead-invocation", []delivery.SlotRequest{{HookID: 1, Want: 1, Cap: 1}}, inFlightLease); err != nil || l.Granted[1] != 1 {
		t.Fatalf("the dead invocation's lease = %+v, %v", l, err)
	}
	e.clock.advance(e.h.cfg.AttemptTimeout + leaseMargin + time.Second)

	e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded")))
	if n := len(e.hooks.calls()); n != 0 {
		t.Fatalf("requests = %d, want none: the slot is still the dead invocation's", n)
	}
	msgs := e.queue.on(retryURL)
	if len(msgs) != 1 {
		t.Fatalf("queued %d retry messages, want the deferral of the dead attempt", len(msgs))
	}
	r, err := delivery.DecodeRetry([]byte(msgs[0].Body))
	if err != nil || r.LoadID != "L1" || r.HookID != 1 || r.Attempt != 1 {
		t.Fatalf("deferral = %+v, %v; want L1 hook 1 attempt 1", r, err)
	}

	e.clock.advance(inFlightLease)
	e.mustRun(t, sqsEvent(msgs[0].Body))
	if rec := e.record(k); rec.Status != delivery.StatusDelivered || rec.Attempt != 1 || len(rec.Attempts) != 1 {
		t.Errorf("record = %+v, want delivered at attempt 1, one attempt", rec)
	}
	if _, errs := e.store.RecordResults(ctx, []delivery.Result{{Claim: dead, Attempt: delivery.Attempt{Outcome: "success", StatusCode: 200}, Status: delivery.StatusDelivered}}); !errors.Is(errs[0], delivery.ErrClaimLost) {
		t.Errorf("the dead invocation's result: %v, want ErrClaimLost", errs[0])
	}
}
