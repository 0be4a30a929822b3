package main

import (
	"context"
	"fmt"
	"github.com/postloadhooks/hooks/scripts/devkit/syncbuf"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/postloadhooks/hooks/scripts/devkit/eventsource"
	kit "github.com/postloadhooks/hooks/scripts/devkit/receiver"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/notify"
)

// burstLoads is the size of the burst: one backfill landing on one hook.
const burstLoads = 500

// TestInFlightCapHoldsUnderABurst: 500 loads to one hook, on the emulators,
// through three dispatcher instances, each fed by its own event sources
// (several concurrent pollers on each queue, as Lambda's mapping scales
// up), to a slow receiver that counts the requests it is answering at once.
// That count never passes the hook's cap of 20, every load is delivered
// exactly once, and at attempt 1: deferral used up no attempt.
func TestInFlightCapHoldsUnderABurst(t *testing.T) {
	t.Parallel()
	rcv := newSlowReceiver(t, 100*time.Millisecond)
	s := newStack(t, rcv.caFile, testDelays)
	const cid = 1401
	_, hk := s.seed(t, cid, rcv.url+"/burst")
	ctx, stop := context.WithCancel(context.Background())
	var running sync.WaitGroup
	t.Cleanup(func() { stop(); running.Wait() })

	logs := &syncbuf.Buffer{} // every instance's log, for the deferrals
	// Three dispatcher instances.
	for range 3 {
		h, err := newHandler(s.h.cfg, quietAWSConfig(t), testLogger(logs), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{s.queues.Notifications, s.queues.Retry} {
			p, err := eventsource.New(ctx, s.sqs, q, "us-east-1", eventsource.Handler(h.handle), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			p.Wait, p.VisibilityTimeout, p.MaxConcurrency = time.Second, receiveVisibility, 4
			running.Go(func() { p.Run(ctx) })
		}
	}
	ids := map[string]string{} // webhook-id -> load id
	for i := 0; i < burstLoads; i += 10 {
		var entries []types.SendMessageBatchRequestEntry
		for j := i; j < i+10; j++ {
			loadID := fmt.Sprintf("burst-%03d", j)
			ids[hook.WebhookID(cid, loadID, hk.ID)] = loadID
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(j)),
				MessageBody: aws.String(load(cid, loadID)), MessageGroupId: aws.String(notify.MessageGroupID(cid))})
		}
		out, err := s.sqs.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(s.queues.Notifications), Entries: entries})
		if err != nil || len(out.Failed) > 0 {
			t.Fatalf("send burst: %v %v", err, out)
		}
	}

	deadline := time.Now().Add(3 * time.Minute)
	for rcv.distinct() < burstLoads {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d loads delivered after 3 min", rcv.distinct(), burstLoads)
		}
		time.Sleep(250 * time.Millisecond)
	}
	// Every record is final before the event sources stop.
	var retried []string
	for wid, loadID := range ids {
		for {
			d, err := s.st.GetDelivery(context.Background(), delivery.Key{ClientID: cid, LoadID: loadID, HookID: hk.ID})
			if err == nil && d.Status == delivery.StatusDelivered {
				// A deferral records no attempt and keeps the attempt
				// number: every attempt of the record is a request the
				// dispatcher made, and only the last succeeded. More than
				// one happens only when a request itself failed (on this
				// loaded machine, a connection or a timeout); never
				// because of the cap.
				for i, a := range d.Attempts {
					if (a.Outcome == delivery.OutcomeSuccess) != (i == len(d.Attempts)-1) {
						t.Errorf("%s: attempts %+v; want failures, then one success", loadID, d.Attempts)
						break
					}
				}
				if len(d.Attempts) > 1 {
					retried = append(retried, fmt.Sprintf("%s %s", loadID, d.Attempts[0].Outcome))
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s (%s): %+v, %v; want delivered", loadID, wid, d, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	stop()
	running.Wait()

	got := rcv.all()
	seen := map[string]int{}
	for _, wid := range got {
		seen[wid]++
		if _, ok := ids[wid]; !ok {
			t.Errorf("a request with an unknown webhook-id %s", wid)
		}
	}
	for wid, n := range seen {
		if n != 1 {
			t.Errorf("load %s received %d times", ids[wid], n)
		}
	}
	if len(retried) > 0 {
		t.Logf("%d loads needed a retry because a request failed (first outcome): %v", len(retried), retried)
	}
	most, deferred := rcv.most(), strings.Count(logs.String(), "delivery deferred")
	t.Logf("at most %d requests in flight at once (cap %d); %d deferrals", most, delivery.DefaultMaxInFlight, deferred)
	if most > delivery.DefaultMaxInFlight {
		t.Errorf("the receiver had %d requests in flight at once, above the cap of %d", most, delivery.DefaultMaxInFlight)
	}
	if deferred == 0 {
		t.Errorf("no load was deferred: the burst did not reach the cap, so it proves nothing")
	}
}

// slowReceiver is the dev kit's receiver answering 200 after delay, counting
// the requests it is answering at once.
type slowReceiver struct {
	url, caFile string
	mu          sync.Mutex
	now, max    int
	got         []string // webhook-ids, in order of arrival
}

func newSlowReceiver(t *testing.T, delay time.Duration) *slowReceiver {
	t.Helper()
	r := &slowReceiver{}
	cfg, ca, err := kit.NewTLS()
	if err != nil {
		t.Fatal(err)
	}
	srv := kit.New()
	srv.Handle("", kit.Route{
		Respond: func(d kit.Delivery) kit.Answer {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.now++
			r.max = max(r.max, r.now)
			r.got = append(r.got, d.Header.Get("webhook-id"))
			return kit.Answer{Status: 200, Delay: delay}
		},
		OnDelivery: func(kit.Delivery) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.now--
		},
	})
	l, err := kit.Serve("127.0.0.1:0", srv, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Down)
	r.url = l.URL()
	r.caFile = (&receiver{ca: ca}).caFile(t)
	return r
}

func (r *slowReceiver) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, id := range r.got {
		seen[id] = true
	}
	return len(seen)
}

func (r *slowReceiver) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func (r *slowReceiver) most() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.max
}
