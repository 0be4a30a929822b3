package main

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	kit "github.com/postloadhooks/hooks/scripts/devkit/receiver"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// switchReceiver answers 503 while down and 200 once up, recording every
// request with its webhook-id and webhook-event and whether it came while
// up.
type switchReceiver struct {
	*receiver
	up   atomic.Bool
	mu   sync.Mutex
	seen []switchSeen
}

type switchSeen struct {
	id, event, body string
	up              bool
}

func newSwitchReceiver(t *testing.T) *switchReceiver {
	t.Helper()
	cfg, ca, err := kit.NewTLS()
	if err != nil {
		t.Fatal(err)
	}
	r := &switchReceiver{receiver: &receiver{ca: ca}}
	srv := kit.New()
	srv.Handle("", kit.Route{Respond: func(d kit.Delivery) kit.Answer {
		up := r.up.Load()
		r.mu.Lock()
		r.seen = append(r.seen, switchSeen{d.Header.Get("webhook-id"), d.Header.Get("webhook-event"), d.Body, up})
		r.mu.Unlock()
		if up {
			return kit.Answer{Status: http.StatusOK}
		}
		return kit.Answer{Status: http.StatusServiceUnavailable}
	}})
	l, err := kit.Serve("127.0.0.1:0", srv, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Down)
	r.url = l.URL()
	return r
}

func (r *switchReceiver) requests() []switchSeen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]switchSeen(nil), r.seen...)
}

// TestLiveOutageDisableProbeRecover: an outage on the emulators with short
// windows (retries 1 s, auto-disable after 3 exhausted deliveries, probes
// every second). The test plays the alerter's health step through the real
// store (count each exhausted delivery, disable when due, queue the first
// probe); the dispatcher does the rest: loads while disabled are kept as
// skipped and not sent, probes ping the endpoint, the first 2xx enables the
// hook again, and every exhausted and skipped delivery is resent exactly
// once, with its webhook-id, followed by the re-enabled message for the
// alerter.
func TestLiveOutageDisableProbeRecover(t *testing.T) {
	t.Parallel()
	rcv := newSwitchReceiver(t)
	s := newStack(t, rcv.caFile(t), testDelays)
	s.h.cfg.Probes = hook.ProbeSchedule{Delays: []time.Duration{time.Second}, For: time.Minute}
	s.h.cfg.ReplayRate = 100
	_, hk := s.seed(t, 601, rcv.url+"/hook")
	ctx := context.Background()
	policy := hook.AutoDisable{After: time.Millisecond, MinExhausted: 3}

	// The outage: 3 loads, each exhausted.
	exhausted := []string{"out-1", "out-2", "out-3"}
	for _, l := range exhausted {
		s.send(t, load(601, l))
	}
	var alerts []delivery.AlertMessage
	s.drive(t, 90*time.Second, func() bool { alerts = append(alerts, s.alerts(t)...); return len(alerts) == len(exhausted) })
	var disabled hook.Hook
	for _, a := range alerts {
		h, err := s.st.NoteHookExhausted(ctx, 601, a.HookID, a.LoadID, len(a.Attempts), a.Attempts[len(a.Attempts)-1].At)
		if err != nil {
			t.Fatal(err)
		}
		acct, _ := s.st.Account(ctx, 601)
		if policy.Due(acct, h, time.Now()) {
			if disabled, _, err = s.st.AutoDisableHook(ctx, 601, h.ID, h.Health.FailingSince, h.Health.FailingSince.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if disabled.DisabledReason() != hook.DisabledForFailing {
		t.Fatalf("not disabled for failing after %d exhausted deliveries: %+v", len(alerts), disabled)
	}
	da := *disabled.DisabledAt
	probe := delivery.ProbeMessage{Kind: delivery.KindProbe, ClientID: 601, HookID: hk.ID, DisabledAt: da, Step: 1, ReplaySince: disabled.Probe.ReplaySince}
	if _, err := s.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(s.queues.Retry), MessageBody: aws.String(string(probe.Encode()))}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.st.SetProbeQueued(ctx, 601, hk.ID, da, 1); err != nil {
		t.Fatal(err)
	}

	// While disabled: loads are kept as skipped, not sent.
	skipped := []string{"skip-1", "skip-2"}
	before := len(rcv.requests())
	for _, l := range skipped {
		s.send(t, load(601, l))
	}
	s.drive(t, 30*time.Second, func() bool {
		for _, l := range skipped {
			if d, err := s.st.GetDelivery(ctx, delivery.Key{ClientID: 601, LoadID: l, HookID: hk.ID}); err != nil || d.Status != delivery.StatusSkipped {
				return false
			}
		}
		return true
	})
	for _, r := range rcv.requests()[before:] {
		if r.event != "ping" {
			t.Errorf("a disabled hook was sent %s", r.id)
		}
	}

	// The endpoint recovers: a probe enables the hook, the replay follows.
	rcv.up.Store(true)
	want := map[string]bool{}
	for _, l := range append(exhausted, skipped...) {
		want[hook.WebhookID(601, l, hk.ID)] = true
	}
	replayedOnce := func() bool {
		n := 0
		for _, r := range rcv.requests() {
			if r.up && want[r.id] {
				n++
			}
		}
		return n >= len(want)
	}
	s.drive(t, 90*time.Second, replayedOnce)
	s.settle(t, 3*time.Second)

	got, err := s.st.GetHook(ctx, 601, hk.ID)
	if err != nil || !got.Enabled() || got.DisabledReason() != "" {
		t.Fatalf("after recovery: enabled %v reason %q (%v)", got.Enabled(), got.DisabledReason(), err)
	}
	counts := map[string]int{}
	pings := 0
	for _, r := range rcv.requests() {
		if r.event == "ping" {
			pings++
			if !strings.HasPrefix(r.body, `{"version":"1.0","type":"ping","hook_id":`) {
				t.Errorf("ping body %s", r.body)
			}
			continue
		}
		if r.up {
			counts[r.id]++
		}
	}
	for id := range want {
		if counts[id] != 1 {
			t.Errorf("%s delivered %d times after the recovery, want exactly once", id, counts[id])
		}
	}
	if pings == 0 {
		t.Error("no ping was sent")
	}
	for _, l := range append(exhausted, skipped...) {
		if d, _ := s.st.GetDelivery(ctx, delivery.Key{ClientID: 601, LoadID: l, HookID: hk.ID}); d.Status != delivery.StatusDelivered {
			t.Errorf("%s: status %q, want delivered", l, d.Status)
		}
	}
	// The alerter is asked for the re-enabled email.
	r, err := s.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.queues.Alerts), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	var reenabled []delivery.ReenabledMessage
	for _, m := range r.Messages {
		if rm, err := delivery.DecodeReenabled([]byte(aws.ToString(m.Body))); err == nil {
			reenabled = append(reenabled, rm)
		}
	}
	if len(reenabled) != 1 || reenabled[0].Replayed != len(want) || !reenabled[0].DisabledAt.Equal(da) {
		t.Errorf("re-enabled messages: %+v", reenabled)
	}
}

// reenableBeforeSkip is the store of a batch that read the hook disabled
// for failing: before the first skip is written, recover runs (a probe
// enables the hook again and its replay looks for deliveries to resend).
type reenableBeforeSkip struct {
	healthStore
	once    sync.Once
	recover func(ctx context.Context)
}

func (r *reenableBeforeSkip) SkipHook(ctx context.Context, c delivery.Claim) error {
	r.once.Do(func() { r.recover(ctx) })
	return r.healthStore.SkipHook(ctx, c)
}

// TestLiveSkipAfterRecoveryIsSentAgain: a retry whose batch read its hook
// disabled for failing writes skipped only after a probe enabled the hook
// again and its replay had looked (and found the delivery still in
// flight). The delivery is sent again all the same, exactly once, with its
// webhook-id.
func TestLiveSkipAfterRecoveryIsSentAgain(t *testing.T) {
	t.Parallel()
	rcv := newSwitchReceiver(t)
	s := newStack(t, rcv.caFile(t), testDelays)
	s.h.cfg.ReplayRate = 100
	_, hk := s.seed(t, 611, rcv.url+"/hook")
	ctx := context.Background()

	// Attempt 1 fails; its retry is due a second later.
	s.send(t, load(611, "race-1"))
	s.drive(t, 30*time.Second, func() bool { return len(rcv.requests()) == 1 })
	// Meanwhile the hook is disabled for failing.
	h, err := s.st.NoteHookExhausted(ctx, 611, hk.ID, "earlier", 6, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	disabled, ok, err := s.st.AutoDisableHook(ctx, 611, hk.ID, h.Health.FailingSince, h.Health.FailingSince.Add(-time.Hour))
	if err != nil || !ok {
		t.Fatalf("AutoDisableHook = %v, %v", ok, err)
	}
	probe := delivery.ProbeMessage{Kind: delivery.KindProbe, ClientID: 611, HookID: hk.ID, DisabledAt: *disabled.DisabledAt, Step: 1, ReplaySince: disabled.Probe.ReplaySince}
	rcv.up.Store(true)
	replayed := false
	s.h.health = &reenableBeforeSkip{healthStore: s.h.health, recover: func(ctx context.Context) {
		if _, ok, err := s.st.ReenableHook(ctx, 611, hk.ID, probe.DisabledAt); err != nil || !ok {
			t.Errorf("ReenableHook = %v, %v", ok, err)
		}
		replayed = s.h.replayRecovered(ctx, s.h.log, disabled, probe)
	}}

	k := delivery.Key{ClientID: 611, LoadID: "race-1", HookID: hk.ID}
	s.drive(t, 30*time.Second, func() bool {
		d, err := s.st.GetDelivery(ctx, k)
		return err == nil && d.Status == delivery.StatusDelivered
	})
	s.settle(t, 3*time.Second)
	if !replayed {
		t.Error("the recovery's replay did not run, or failed")
	}
	id, n := hook.WebhookID(611, "race-1", hk.ID), 0
	for _, r := range rcv.requests() {
		if r.up && r.id == id {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%s delivered %d times after the recovery, want exactly once", id, n)
	}
}
