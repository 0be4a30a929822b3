package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// The one record per load: a load message is one claim and one result write
// of its record however many hooks it reaches (and a batch one in-flight
// lease per account, taken and given back); a retry claims and writes its
// own hook's entry.

func TestLoadIsOneClaimAndOneResultWrite(t *testing.T) {
	e := newEnv(t)
	var hooks []hook.Hook
	for id := int64(1); id <= 10; id++ {
		hooks = append(hooks, hook.Hook{ID: id, ClientID: testClient, URL: "https://h.example/" + string(rune('a'+id)), Secret: "whsec_x"})
	}
	e.store.SetHooks(testClient, hooks)
	e.store.ResetCalls()
	e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded"), loadMessage(testClient, "L2", "succeeded")))
	if n := len(e.hooks.calls()); n != 20 {
		t.Fatalf("requests = %d, want 20", n)
	}
	// One in-flight lease for the batch, taken and given back once, and one
	// sequence write for the batch's loads of one table.
	for method, want := range map[string]int{"AccountWithHooks": 1, "ClaimLoad": 2, "AssignSequences": 1, "RecordResults": 2, "AcquireInFlight": 1, "ReleaseInFlight": 1, "": 8} {
		if got := e.store.Calls(method); got != want {
			t.Errorf("store calls of %q = %d, want %d", method, got, want)
		}
	}
	for id := int64(1); id <= 10; id++ {
		if r := e.record(key("L2", id)); r.Status != delivery.StatusDelivered || len(r.Attempts) != 1 {
			t.Errorf("hook %d: %+v, want delivered", id, r)
		}
	}
}

func TestResentSequenceStartsAtAttemptOne(t *testing.T) {
	e := newEnv(t)
	e.store.SetHooks(testClient, e.store.Hooks(testClient)[:1])
	e.failWith(500)
	e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded")))
	// As the history's resend does once the delivery has ended.
	k := key("L1", 1)
	for n := 2; n <= 6; n++ {
		e.mustRun(t, sqsEvent(retryMessage(t, testClient, "L1", 1, n)))
	}
	if r := e.record(k); r.Status != delivery.StatusExhausted {
		t.Fatalf("record = %+v, want exhausted", r)
	}
	restart, err := e.store.Resend(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	m := restart.Message
	e.hooks.respond = func(webhook.Request) delivery.Attempt { return delivery.Attempt{Outcome: "success", StatusCode: 200} }
	e.mustRun(t, sqsEvent(string(m.Encode())))
	r := e.record(k)
	if r.Status != delivery.StatusDelivered || len(r.Attempts) != 7 || r.Attempt != 1 {
		t.Errorf("after the resent attempt: %+v, want delivered at attempt 1 of a new sequence, 7 attempts kept", r)
	}
	calls := e.hooks.calls()
	if got := calls[len(calls)-1].WebhookID; got != hook.WebhookID(testClient, "L1", 1) {
		t.Errorf("resent webhook-id = %s, want the pair's", got)
	}
}

func TestOldRetryMessagesAreAccepted(t *testing.T) {
	e := newEnv(t)
	e.store.SetHooks(testClient, e.store.Hooks(testClient)[:1])
	e.failWith(500)
	e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded")))
	// A retry message of an earlier version carries first_attempt_at.
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(retryMessage(t, testClient, "L1", 1, 2)), &m); err != nil {
		t.Fatal(err)
	}
	m["first_attempt_at"] = json.RawMessage(`"2026-07-15T14:45:00Z"`)
	old, err := json.Marshal(m)
	if err != nil || !strings.Contains(string(old), "first_attempt_at") {
		t.Fatal("setup", err)
	}
	e.mustRun(t, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m0", Body: string(old), EventSourceARN: retriesARN}}})
	if r := e.record(key("L1", 1)); r.Attempt != 2 || len(r.Attempts) != 2 {
		t.Errorf("record = %+v, want attempt 2 made", r)
	}
}

// TestResentSequenceExhaustedAgainNamesItsSequence: a delivery resent and
// exhausted again queues a second alert message, naming 12 attempts where
// the first named 6, so the alerter tells the sequences apart (one email
// each) while copies of one message stay one email.
func TestResentSequenceExhaustedAgainNamesItsSequence(t *testing.T) {
	e := newEnv(t)
	e.store.SetHooks(testClient, e.store.Hooks(testClient)[:1])
	e.failWith(500)
	e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded")))
	k := key("L1", 1)
	for n := 2; n <= 6; n++ {
		e.mustRun(t, sqsEvent(retryMessage(t, testClient, "L1", 1, n)))
	}
	restart, err := e.store.Resend(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	e.mustRun(t, sqsEvent(string(restart.Message.Encode())))
	for n := 2; n <= 6; n++ {
		e.mustRun(t, sqsEvent(retryMessage(t, testClient, "L1", 1, n)))
	}
	var counts []int
	for _, m := range e.queue.on(alertURL) {
		a, err := delivery.DecodeAlert([]byte(m.Body))
		if err != nil {
			t.Fatal(err)
		}
		counts = append(counts, a.AttemptCount)
	}
	if len(counts) != 2 || counts[0] != 6 || counts[1] != 12 {
		t.Errorf("alert messages name %v attempts, want [6 12]", counts)
	}
	if delivery.AlertLoadID("L1", 6) == delivery.AlertLoadID("L1", 12) {
		t.Errorf("both sequences alert under one key")
	}
}
