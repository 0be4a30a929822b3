package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// Replay pacing measured at the receiver: N exhausted deliveries of one
// hook are replayed as the API's replay does (store.Store's
// ExhaustedDeliveries and Resend, each retry message queued with
// DelaySeconds delivery.ReplayDelay(i, rate)), and the real dispatcher,
// through the dev kit's event source on goaws, delivers them to the TLS
// receiver, which records when each arrives.

// replayRun is one measured replay.
type replayRun struct {
	n, rate int
	delays  map[string]int32     // DelaySeconds of each webhook id
	arrived map[string]time.Time // first arrival of each webhook id
	start   time.Time            // when the first retry message was queued
	copies  int                  // requests beyond the first of an id
}

// groups is how many distinct DelaySeconds the replay used.
func (r replayRun) groups() int {
	seen := map[int32]bool{}
	for _, d := range r.delays {
		seen[d] = true
	}
	return len(seen)
}

// span is the time from the first arrival to the last.
func (r replayRun) span() time.Duration {
	var first, last time.Time
	for _, at := range r.arrived {
		if first.IsZero() || at.Before(first) {
			first = at
		}
		if at.After(last) {
			last = at
		}
	}
	return last.Sub(first)
}

// measuredRate is arrivals a second over the replay: n-1 intervals between
// the first arrival and the last.
func (r replayRun) measuredRate() float64 {
	if s := r.span().Seconds(); s > 0 {
		return float64(r.n-1) / s
	}
	return 0
}

// runReplay seeds n exhausted deliveries of a fresh hook (receiver answering
// 200 from now on), replays them at rate a second, and drives the dispatcher
// until every one has arrived.
func runReplay(tb testing.TB, cid int64, n, rate int) replayRun {
	tb.Helper()
	ctx := context.Background()
	rcv := newReceiver(tb, http.StatusOK)
	s := newStack(tb, rcv.caFile(tb), testDelays)
	_, hk := s.seed(tb, cid, rcv.url+"/replay")
	since := time.Now().Add(-time.Minute)
	for i := range n {
		l := delivery.Load{ClientID: cid, LoadID: fmt.Sprintf("replay-%03d", i), IntegrationName: "shopify", Tables: []string{"orders"}, Body: []byte(canonicalBody)}
		claims, conflicts, err := s.st.ClaimLoad(ctx, l, []int64{hk.ID}, delivery.NewToken(), time.Minute)
		if err != nil || len(conflicts) != 0 || len(claims) != 1 {
			tb.Fatalf("ClaimLoad: %v %v", conflicts, err)
		}
		a := delivery.Attempt{At: time.Now(), Outcome: delivery.OutcomeHTTPStatus, StatusCode: 503, LatencyMs: 4, Error: "http_status"}
		if _, errs := s.st.RecordResults(ctx, []delivery.Result{{Claim: claims[0], Attempt: a, Status: delivery.StatusExhausted}}); errs[0] != nil {
			tb.Fatal(errs[0])
		}
	}

	// The replay, as the API's.
	ds, err := s.st.ExhaustedDeliveries(ctx, cid, hk.ID, since, time.Now().Add(time.Second), 1000)
	if err != nil || len(ds) != n {
		tb.Fatalf("ExhaustedDeliveries: %d, %v; want %d", len(ds), err, n)
	}
	run := replayRun{n: n, rate: rate, delays: map[string]int32{}, arrived: map[string]time.Time{}, start: time.Now()}
	for i, d := range ds {
		r, err := s.st.Resend(ctx, d.Key)
		if err != nil {
			tb.Fatal(err)
		}
		delay := delivery.ReplayDelay(i, rate)
		run.delays[r.Message.WebhookID] = delay
		if _, err := s.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(s.queues.Retry),
			MessageBody: aws.String(string(r.Message.Encode())), DelaySeconds: delay}); err != nil {
			tb.Fatal(err)
		}
	}

	s.drive(tb, 60*time.Second, func() bool { return len(rcv.requests()) >= n })
	for _, got := range rcv.requests() {
		if _, ok := run.arrived[got.id]; ok {
			run.copies++
			continue
		}
		run.arrived[got.id] = got.at
	}
	for _, d := range ds {
		if id := hook.WebhookID(cid, d.LoadID, hk.ID); run.arrived[id].IsZero() {
			tb.Errorf("%s (webhook-id %s) never arrived with its original id", d.LoadID, id)
		}
	}
	return run
}

// TestReplayPacingAtTheReceiver: a replay of 50 at 10 a second is queued in
// 5 groups of 10 (DelaySeconds 0 to 4), and arrives so: every delivery once
// with its original webhook-id, none before its group's delay (less the
// second SQS rounds to), and not all inside one rate interval. No speed is
// asserted: the measured rate is logged (and BenchmarkReplayPacing reports
// it).
func TestReplayPacingAtTheReceiver(t *testing.T) {
	t.Parallel() // own table, queues and receiver; mostly waiting on delays
	const n, rate = 50, 10
	run := runReplay(t, 601, n, rate)
	if g := run.groups(); g != n/rate {
		t.Errorf("replay used %d distinct delays, want %d", g, n/rate)
	}
	perDelay := map[int32]int{}
	for _, d := range run.delays {
		perDelay[d]++
	}
	for d, c := range perDelay {
		if c > rate {
			t.Errorf("%d deliveries queued with delay %d s, want at most %d", c, d, rate)
		}
	}
	if run.copies != 0 {
		t.Errorf("receiver got %d copies beyond one per delivery", run.copies)
	}
	// SQS makes a message visible after its delay; nothing may come
	// sooner (a second of slack: goaws counts delays in whole seconds).
	for id, at := range run.arrived {
		if early := time.Duration(run.delays[id])*time.Second - at.Sub(run.start); early > time.Second {
			t.Errorf("%s arrived %v before its %d s delay", id, early, run.delays[id])
		}
	}
	if span := run.span(); span < time.Second {
		t.Errorf("all %d arrivals within %v, inside one rate interval: not paced", n, span)
	}
	// Arrival order follows the delays: the deliveries queued with the
	// largest delay arrive after every one queued with none.
	var first, last []time.Time
	for id, d := range run.delays {
		switch d {
		case 0:
			first = append(first, run.arrived[id])
		case int32(n/rate - 1):
			last = append(last, run.arrived[id])
		}
	}
	if len(first) > 0 && len(last) > 0 && slices.MaxFunc(first, time.Time.Compare).After(slices.MinFunc(last, time.Time.Compare)) {
		t.Errorf("a delivery of the last group arrived before one of the first")
	}
	t.Logf("replay of %d at HOOKS_REPLAY_RATE=%d: %d groups, arrivals over %v, measured %.1f arrivals/s",
		n, rate, run.groups(), run.span().Round(time.Millisecond), run.measuredRate())
}

// BenchmarkReplayPacing reports the arrival rate measured at the receiver
// for a replay of 50 at HOOKS_REPLAY_RATE=10 (one replay per iteration):
// replay_rate/s is the configured rate, arrivals/s the measured one.
func BenchmarkReplayPacing(b *testing.B) {
	const n, rate = 50, 10
	var measured float64
	for i := 0; b.Loop(); i++ {
		measured += runReplay(b, int64(700+i), n, rate).measuredRate()
	}
	b.ReportMetric(float64(rate), "replay_rate/s")
	b.ReportMetric(measured/float64(b.N), "arrivals/s")
}
