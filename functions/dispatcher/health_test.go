package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// withHealth turns hook health on, with the default probe schedule.
func (e *env) withHealth() {
	e.h.health = e.store
	e.h.cfg.Probes = hook.DefaultProbeSchedule()
	e.h.cfg.ReplayRate = 10
}

// disableForFailing makes hook id of testClient fail and disables it for
// failing, as the alerter does; it returns the disable's time.
func (e *env) disableForFailing(t *testing.T, id int64) time.Time {
	t.Helper()
	ctx := context.Background()
	h, err := e.store.NoteHookExhausted(ctx, testClient, id, "old-load", 1, e.clock.now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	h, ok, err := e.store.AutoDisableHook(ctx, testClient, id, h.Health.FailingSince, h.Health.FailingSince.Add(-time.Hour))
	if !ok || err != nil {
		t.Fatalf("AutoDisableHook: %v %v", ok, err)
	}
	return *h.DisabledAt
}

func probeRecord(id string, m delivery.ProbeMessage) events.SQSEvent {
	return events.SQSEvent{Records: []events.SQSMessage{{MessageId: id, Body: string(m.Encode()), EventSourceARN: retriesARN}}}
}

// pings returns the probe requests made.
func (e *env) pings() []webhook.Request {
	var out []webhook.Request
	for _, r := range e.hooks.calls() {
		if r.Event == pingEvent {
			out = append(out, r)
		}
	}
	return out
}

// TestFailingHookSkipsLoads: a load meant for a hook disabled for failing
// is kept as skipped in its history and not sent; the other hooks get it.
func TestFailingHookSkipsLoads(t *testing.T) {
	e := newEnv(t)
	e.withHealth()
	e.disableForFailing(t, 1)
	e.mustRun(t, sqsEvent(loadMessage(testClient, "load-a", "succeeded")))
	if got := e.record(key("load-a", 1)); got.Status != delivery.StatusSkipped {
		t.Errorf("hook 1: status %q, want skipped", got.Status)
	}
	for _, r := range e.hooks.calls() {
		if strings.Contains(r.URL, "one.example") {
			t.Errorf("a disabled hook was sent the load")
		}
	}
	if got := e.record(key("load-a", 2)); got.Status != delivery.StatusDelivered {
		t.Errorf("hook 2: status %q, want delivered", got.Status)
	}
	if got := e.record(key("load-a", 3)); got.Status != "" {
		t.Errorf("hook 3 (disabled by a member) has an entry: %q", got.Status)
	}
}

// TestSkipRedeliveredAfterRecoveryIsResent: a retry whose batch read its
// hook disabled for failing writes skipped, but its read of the hook after
// the skip fails, so the record fails. Meanwhile a probe enables the hook
// again. Delivered again, the message finds its own skip and resends the
// delivery (attempt 1, same webhook-id) instead of leaving it skipped.
func TestSkipRedeliveredAfterRecoveryIsResent(t *testing.T) {
	e := newEnv(t)
	e.withHealth()
	da := e.disableForFailing(t, 1)
	k := key("load-r", 1)
	e.waitingAt(t, k, 1)
	retry := retryMessage(t, testClient, "load-r", 1, 2)
	e.store.Fail("GetHook", errors.New("throttled"))
	e.mustFailAll(t, retry)
	if got := e.record(k); got.Status != delivery.StatusSkipped {
		t.Fatalf("after the skip: status %q, want skipped", got.Status)
	}
	if _, ok, err := e.store.ReenableHook(context.Background(), testClient, 1, da); !ok || err != nil {
		t.Fatalf("ReenableHook: %v %v", ok, err)
	}
	e.store.Fail("GetHook", nil)
	e.mustRun(t, sqsEvent(retry))
	if got := e.record(k); got.Status != delivery.StatusWaiting || got.Attempt != 0 {
		t.Errorf("after the redelivery: %+v, want waiting for attempt 1", got)
	}
	q := e.queue.on(retryURL)
	if len(q) != 1 {
		t.Fatalf("retry queue: %+v, want the resent delivery", q)
	}
	m, err := delivery.DecodeRetry([]byte(q[0].Body))
	if err != nil || m.Attempt != 1 || m.WebhookID != hook.WebhookID(testClient, "load-r", 1) || q[0].Delay != 0 {
		t.Errorf("resent: %+v delay %d, %v", m, q[0].Delay, err)
	}
}

// TestSuccessEndsFailingStreak: a success writes the hook's health only
// when the hook is failing.
func TestSuccessEndsFailingStreak(t *testing.T) {
	e := newEnv(t)
	e.withHealth()
	e.mustRun(t, sqsEvent(loadMessage(testClient, "load-a", "succeeded")))
	if n := e.store.Calls("NoteHookSuccess"); n != 0 {
		t.Errorf("healthy hooks wrote their health %d times", n)
	}
	if _, err := e.store.NoteHookExhausted(context.Background(), testClient, 1, "old", 1, e.clock.now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	e.mustRun(t, sqsEvent(loadMessage(testClient, "load-b", "succeeded")))
	h, _ := e.store.Hook(testClient, 1)
	if h.Health.Failing() || h.Health.LastSuccessAt.IsZero() {
		t.Errorf("after a success: %+v", h.Health)
	}
}

// TestProbesReenableAndReplay walks a disabled hook through its probes on
// the injected clock: an early message waits, a failed ping moves to the
// next step once, a 2xx enables the hook again once, the skipped load is
// resent with its webhook-id, and the alerter is asked for the email. A
// hook disabled by a member is never probed.
func TestProbesReenableAndReplay(t *testing.T) {
	e := newEnv(t)
	e.withHealth()
	da := e.disableForFailing(t, 1)
	e.mustRun(t, sqsEvent(loadMessage(testClient, "load-a", "succeeded")))
	e.queue = &fakeQueue{}
	e.h.queue = e.queue
	p1 := delivery.ProbeMessage{Kind: delivery.KindProbe, ClientID: testClient, HookID: 1, DisabledAt: da, Step: 1, ReplaySince: da.Add(-2 * time.Hour)}

	// Early: put back with what is left, nothing sent.
	e.mustRun(t, probeRecord("p1", p1))
	if q := e.queue.on(retryURL); len(q) != 1 || q[0].Delay != 60 || q[0].Body != string(p1.Encode()) || len(e.pings()) != 0 {
		t.Fatalf("early probe: %+v, pings %d", q, len(e.pings()))
	}
	// Due, answered 503: step 2 queued, 5 minutes on.
	e.clock.advance(time.Minute)
	e.failWith(503)
	e.mustRun(t, probeRecord("p1", p1))
	pings := e.pings()
	if len(pings) != 1 || !strings.HasPrefix(string(pings[0].Body), `{"version":"1.0","type":"ping","hook_id":1,"sent_at":"`) || pings[0].Secret != "whsec_one" {
		t.Fatalf("pings: %+v", pings)
	}
	q := e.queue.on(retryURL)
	p2 := p1
	p2.Step = 2
	if len(q) != 2 || q[1].Body != string(p2.Encode()) || q[1].Delay != 300 {
		t.Fatalf("after a failed probe: %+v", q)
	}
	if h, _ := e.store.Hook(testClient, 1); h.Probe == nil || h.Probe.Step != 2 || !h.Probe.Queued || h.Enabled() {
		t.Fatalf("probe state: %+v", h.Probe)
	}
	// The same step again: nothing.
	e.mustRun(t, probeRecord("p1", p1))
	if len(e.pings()) != 1 || len(e.queue.on(retryURL)) != 2 {
		t.Fatal("a repeated step probed again")
	}
	// Step 2, answered 204: enabled, replayed, email asked for.
	e.clock.advance(5 * time.Minute)
	e.hooks.respond = func(webhook.Request) delivery.Attempt { return delivery.Attempt{Outcome: "success", StatusCode: 204} }
	e.mustRun(t, probeRecord("p2", p2))
	h, _ := e.store.Hook(testClient, 1)
	if !h.Enabled() || h.DisabledReason() != "" || h.Audit[len(h.Audit)-1].Action != hook.ActionAutoEnabled {
		t.Fatalf("after a 2xx probe: enabled %v audit %+v", h.Enabled(), h.Audit)
	}
	var replayed []delivery.RetryMessage
	for _, m := range e.queue.on(retryURL) {
		if strings.HasPrefix(m.Body, `{"kind":"retry"`) {
			rm, err := delivery.DecodeRetry([]byte(m.Body))
			if err != nil {
				t.Fatal(err)
			}
			replayed = append(replayed, rm)
		}
	}
	if len(replayed) != 1 || replayed[0].LoadID != "load-a" || replayed[0].WebhookID != hook.WebhookID(testClient, "load-a", 1) || replayed[0].Attempt != 1 {
		t.Fatalf("replayed: %+v", replayed)
	}
	alerts := e.queue.on(alertURL)
	if len(alerts) != 1 {
		t.Fatalf("alert messages: %+v", alerts)
	}
	rm, err := delivery.DecodeReenabled([]byte(alerts[0].Body))
	if err != nil || rm.Replayed != 1 || !rm.DisabledAt.Equal(da) || rm.HookURL != "https://one.example/h" {
		t.Fatalf("re-enabled message: %+v %v", rm, err)
	}
	// Redelivered: enabled already, nothing resent twice.
	e.mustRun(t, probeRecord("p2", p2))
	if n := len(e.pings()); n != 2 {
		t.Errorf("pings after the redelivery: %d, want 2", n)
	}
	retries := 0
	for _, m := range e.queue.on(retryURL) {
		if strings.HasPrefix(m.Body, `{"kind":"retry"`) {
			retries++
		}
	}
	if retries != 1 {
		t.Errorf("replayed %d times, want once", retries)
	}

	// Hook 3 was disabled by a member: its probe ends, unsent.
	p3 := delivery.ProbeMessage{Kind: delivery.KindProbe, ClientID: testClient, HookID: 3, DisabledAt: da, Step: 1, ReplaySince: da}
	e.mustRun(t, probeRecord("p3", p3))
	for _, r := range e.pings() {
		if strings.Contains(r.URL, "three.example") {
			t.Error("a member-disabled hook was probed")
		}
	}
}

// lostAnswers is the dispatcher's health store with the answers of its
// probe writes lost: each write is applied, and the caller gets the answer
// of the SDK's retry of it, as from DynamoDB when a response is lost after
// the commit (the store's TestLostResponseProbes checks the two agree).
type lostAnswers struct{ healthStore }

func (l lostAnswers) AdvanceProbe(ctx context.Context, clientID, hookID int64, disabledAt time.Time, step int) (bool, error) {
	if _, err := l.healthStore.AdvanceProbe(ctx, clientID, hookID, disabledAt, step); err != nil {
		return false, err
	}
	return l.healthStore.AdvanceProbe(ctx, clientID, hookID, disabledAt, step)
}

func (l lostAnswers) ReenableHook(ctx context.Context, clientID, hookID int64, disabledAt time.Time) (hook.Hook, bool, error) {
	if _, _, err := l.healthStore.ReenableHook(ctx, clientID, hookID, disabledAt); err != nil {
		return hook.Hook{}, false, err
	}
	return l.healthStore.ReenableHook(ctx, clientID, hookID, disabledAt)
}

// TestProbeWritesWithLostAnswers: a probe's write applied whose answer was
// lost (the retry refused) still queues the next step, and still replays
// and asks for the email after the recovery.
func TestProbeWritesWithLostAnswers(t *testing.T) {
	e := newEnv(t)
	e.withHealth()
	e.h.health = lostAnswers{e.store}
	da := e.disableForFailing(t, 1)
	e.mustRun(t, sqsEvent(loadMessage(testClient, "load-a", "succeeded")))
	e.queue = &fakeQueue{}
	e.h.queue = e.queue
	p1 := delivery.ProbeMessage{Kind: delivery.KindProbe, ClientID: testClient, HookID: 1, DisabledAt: da, Step: 1, ReplaySince: da.Add(-2 * time.Hour)}

	e.clock.advance(time.Minute)
	e.failWith(503)
	e.mustRun(t, probeRecord("p1", p1))
	p2 := p1
	p2.Step = 2
	if q := e.queue.on(retryURL); len(q) != 1 || q[0].Body != string(p2.Encode()) {
		t.Fatalf("after a failed probe whose advance lost its answer: queued %+v, want step 2", q)
	}
	if h, _ := e.store.Hook(testClient, 1); h.Probe == nil || h.Probe.Step != 2 || !h.Probe.Queued {
		t.Fatalf("probe state: %+v, want step 2 queued", h.Probe)
	}

	e.clock.advance(5 * time.Minute)
	e.hooks.respond = func(webhook.Request) delivery.Attempt { return delivery.Attempt{Outcome: "success", StatusCode: 204} }
	e.mustRun(t, probeRecord("p2", p2))
	if h, _ := e.store.Hook(testClient, 1); !h.Enabled() {
		t.Fatal("a 2xx probe did not enable the hook")
	}
	replayed := 0
	for _, m := range e.queue.on(retryURL) {
		if strings.HasPrefix(m.Body, `{"kind":"retry"`) && strings.Contains(m.Body, `"load_id":"load-a"`) {
			replayed++
		}
	}
	if alerts := e.queue.on(alertURL); replayed != 1 || len(alerts) != 1 || !strings.HasPrefix(alerts[0].Body, `{"kind":"reenabled"`) {
		t.Fatalf("after a re-enable whose answer was lost: %d replayed, alerts %+v; want load-a once and the email asked for", replayed, alerts)
	}
}

// TestProbesEnd: after the probing period the chain ends and the hook
// stays disabled for failing.
func TestProbesEnd(t *testing.T) {
	e := newEnv(t)
	e.withHealth()
	e.h.cfg.Probes = hook.ProbeSchedule{Delays: []time.Duration{time.Minute}, For: 2 * time.Minute}
	da := e.disableForFailing(t, 1)
	e.failWith(503)
	for step := 1; step <= 2; step++ {
		e.clock.advance(time.Minute)
		e.mustRun(t, probeRecord("p", delivery.ProbeMessage{Kind: delivery.KindProbe, ClientID: testClient, HookID: 1, DisabledAt: da, Step: step, ReplaySince: da}))
	}
	if n := len(e.queue.on(retryURL)); n != 1 {
		t.Errorf("probe messages queued: %d, want 1 (step 2; step 3 is past the period)", n)
	}
	if h, _ := e.store.Hook(testClient, 1); h.DisabledReason() != hook.DisabledForFailing {
		t.Errorf("reason %q", h.DisabledReason())
	}
}

// TestRetryOfFailingHookIsSkipped: a retry in flight when its hook is
// disabled for failing ends skipped (resent at the recovery), not
// cancelled; a member-disabled hook's retry is cancelled as before.
func TestRetryOfFailingHookIsSkipped(t *testing.T) {
	e := newEnv(t)
	e.withHealth()
	e.failWith(503)
	e.mustRun(t, sqsEvent(loadMessage(testClient, "load-r", "succeeded")))
	e.disableForFailing(t, 1)
	e.clock.advance(time.Minute)
	e.mustRun(t, sqsEvent(retryMessage(t, testClient, "load-r", 1, 2)))
	if got := e.record(key("load-r", 1)); got.Status != delivery.StatusSkipped {
		t.Errorf("retry of a failing hook: %q, want skipped", got.Status)
	}
	ds, err := e.store.RecoverableDeliveries(context.Background(), testClient, 1, e.clock.now().Add(-time.Hour), e.clock.now().Add(time.Second), 10)
	if err != nil || len(ds) != 1 {
		t.Errorf("recoverable: %+v %v", ds, err)
	}
}
