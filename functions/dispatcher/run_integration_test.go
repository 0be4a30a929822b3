package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/scripts/devkit/awsmeter"
	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/notify"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// Run summaries end to end on the emulators (DynamoDB Local, goaws, the
// TLS receiver), through the real handler and store: exactly one summary
// per run and subscribed hook, whatever the loaders and the queues repeat
// or reorder.

// runStack is a stack whose account has two hooks of destination testDest:
// /runs subscribed to table loads and run summaries, /loads to table loads
// only.
func runStack(t *testing.T, cid int64, wait time.Duration) (*stack, *receiver, hook.Hook) {
	t.Helper()
	rcv := newReceiver(t, 200)
	s := newStack(t, rcv.caFile(t), testDelays)
	s.h.cfg.RunWait = wait
	p, runs := s.seed(t, cid, rcv.url+"/runs")
	ctx := context.Background()
	runs, err := s.st.SetHookSubscription(ctx, p, runs.ID, hook.SubscriptionUpdate{Events: []string{hook.EventTableLoaded, hook.EventRunCompleted}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.st.CreateHook(ctx, p, testDest, rcv.url+"/loads", hook.NewSecret()); err != nil {
		t.Fatal(err)
	}
	return s, rcv, runs
}

// summaries are the run_completed requests rcv got, each checked against
// the schema and hk's signature.
func summaries(t *testing.T, rcv *receiver, hk hook.Hook) []notify.RunCompleted {
	t.Helper()
	var out []notify.RunCompleted
	for _, r := range rcv.requests() {
		if r.event != notify.EventRunCompleted {
			continue
		}
		if r.path != "/runs" {
			t.Errorf("a run summary reached %s, a hook not subscribed to it", r.path)
			continue
		}
		checkRunSchema(t, r.body)
		if err := webhook.Verify(hk.Secret, r.id, r.ts, r.sig, r.body); err != nil {
			t.Errorf("summary signature: %v", err)
		}
		rc, err := notify.ParseRunCompleted(r.body)
		if err != nil {
			t.Fatalf("summary %s: %v", r.body, err)
		}
		out = append(out, rc)
	}
	return out
}

func tableNames(rc notify.RunCompleted) string {
	var names []string
	for _, t := range rc.Tables {
		names = append(names, t.DestinationTableName)
	}
	return strings.Join(names, ",")
}

// Duplicates, reordering, arrivals across batches and invocations, a
// load twice in one batch, a late table: one complete summary, to the
// subscribed hook only; every table load delivered to both hooks.
func TestDispatcherRunSummaryExactlyOnce(t *testing.T) {
	t.Parallel()
	const cid = 1501
	s, rcv, hk := runStack(t, cid, time.Hour)
	msg := func(id, table string) string { return runLoadMessage(cid, id, table, "r1", 3) }
	s.send(t, msg("L3", "products")) // the last table first
	s.pump(t)
	s.send(t, msg("L1", "orders"))
	s.send(t, msg("L1", "orders")) // a loader sending it twice
	s.pump(t)
	s.send(t, msg("L3", "products")) // and re-sending one after a while
	s.send(t, msg("L2", "customers"))
	s.drive(t, 30*time.Second, func() bool { return len(summaries(t, rcv, hk)) > 0 })
	s.send(t, msg("L4", "late")) // after the summary: a table load only
	s.settle(t, 3*time.Second)

	got := summaries(t, rcv, hk)
	if len(got) != 1 {
		t.Fatalf("summaries = %+v, want exactly one", got)
	}
	if rc := got[0]; !rc.Complete || rc.RunID != "r1" || rc.IntegrationName != "shopify" || len(rc.Tables) != 3 ||
		!strings.HasPrefix(tableNames(rc), "products,") || rc.FinishedAt.Before(rc.StartedAt) {
		t.Errorf("summary = %+v, want complete with products first and 3 tables", rc)
	}
	loads := map[string]int{}
	for _, r := range rcv.requests() {
		if r.event == hook.EventTableLoaded {
			loads[r.path+" "+r.loadID]++
		}
	}
	for _, id := range []string{"L1", "L2", "L3", "L4"} {
		for _, path := range []string{"/runs", "/loads"} {
			if loads[path+" "+id] != 1 {
				t.Errorf("table load %s to %s: %d requests, want 1", id, path, loads[path+" "+id])
			}
		}
	}
}

// The wait runs out with one table of three missing: the timer (chained
// through the retry queue) sends what arrived, complete false; the missing
// table, arriving after, is a table load only.
func TestDispatcherRunTimerSendsWhatArrived(t *testing.T) {
	t.Parallel()
	const cid = 1502
	s, rcv, hk := runStack(t, cid, 3*time.Second)
	start := time.Now()
	s.send(t, runLoadMessage(cid, "L1", "orders", "r1", 3))
	s.send(t, runLoadMessage(cid, "L2", "customers", "r1", 3))
	s.drive(t, 30*time.Second, func() bool { return len(summaries(t, rcv, hk)) > 0 })
	if waited := time.Since(start); waited < 2900*time.Millisecond {
		t.Errorf("summary after %v, want at least the 3 s wait", waited)
	}
	s.send(t, runLoadMessage(cid, "L3", "products", "r1", 3))
	s.settle(t, 3*time.Second)
	got := summaries(t, rcv, hk)
	if len(got) != 1 {
		t.Fatalf("summaries = %+v, want one", got)
	}
	if rc := got[0]; rc.Complete || len(rc.Tables) != 2 {
		t.Errorf("summary = %+v, want incomplete with the 2 tables that arrived", rc)
	}
}

// The invocation that completed the run claimed its summary and died
// before queueing it (here the store is brought to that state directly);
// its message comes back, is re-sent by the loader too, and the timer runs
// out: exactly one summary.
func TestDispatcherRunCrashBetweenClaimAndQueue(t *testing.T) {
	t.Parallel()
	const cid = 1503
	s, rcv, hk := runStack(t, cid, 3*time.Second)
	s.send(t, runLoadMessage(cid, "L1", "orders", "r1", 2))
	s.pump(t)
	ctx := context.Background()
	k := delivery.RunKey{ClientID: cid, IntegrationName: "shopify", RunID: "r1"}
	crashed := delivery.RunLoad{LoadID: "L2", DestinationID: testDest, Expected: 2, At: time.Now(),
		Tables: []notify.RunTable{{DestinationTableName: "customers", Status: notify.StatusSucceeded, NumRows: 100}}}
	if _, err := s.st.AddRunLoad(ctx, k, crashed); err != nil {
		t.Fatal(err)
	}
	if _, claimed, err := s.st.ClaimRun(ctx, k); err != nil || !claimed {
		t.Fatalf("ClaimRun = %v, %v", claimed, err)
	}
	s.send(t, runLoadMessage(cid, "L2", "customers", "r1", 2)) // the redelivery
	s.send(t, runLoadMessage(cid, "L2", "customers", "r1", 2)) // the loader's re-send
	s.settle(t, 6*time.Second)                                 // and past the timer
	got := summaries(t, rcv, hk)
	if len(got) != 1 || !got[0].Complete || tableNames(got[0]) != "orders,customers" {
		t.Fatalf("summaries = %+v, want exactly one, complete, orders and customers", got)
	}
}

// A run of two announced tables gets three distinct loads at once: the
// first two counted win, the third is a table load only.
func TestDispatcherRunFirstNWin(t *testing.T) {
	t.Parallel()
	const cid = 1504
	s, rcv, hk := runStack(t, cid, time.Hour)
	for _, id := range []string{"L1", "L2", "L3"} {
		s.send(t, runLoadMessage(cid, id, "t"+id, "r1", 2))
	}
	s.drive(t, 30*time.Second, func() bool { return len(summaries(t, rcv, hk)) > 0 })
	s.settle(t, 2*time.Second)
	got := summaries(t, rcv, hk)
	if len(got) != 1 || !got[0].Complete || len(got[0].Tables) != 2 {
		t.Fatalf("summaries = %+v, want one, complete, with 2 tables", got)
	}
}

// Hooks that take table loads only: a load with a run costs what a load
// without one costs, DynamoDB requests and write units alike, and queues
// nothing; no run item is written.
func TestDispatcherRunCostsNothingUnsubscribed(t *testing.T) {
	t.Parallel()
	const cid = 1505
	rcv := newReceiver(t, 200)
	s := newStack(t, rcv.caFile(t), testDelays)
	s.seed(t, cid, rcv.url+"/loads")
	meter := awsmeter.New()
	awsCfg := devstack.AWSConfig(t)
	awsCfg.APIOptions = append(awsCfg.APIOptions, meter.Middleware)
	h, err := newHandler(s.h.cfg, awsCfg, testLogger(io.Discard), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	batch := func(prefix string, run bool) awsmeter.Counts {
		var ev events.SQSEvent
		for i := range 10 {
			body := loadMessageTo(cid, testDest, fmt.Sprintf("%s-%d", prefix, i))
			if run {
				body = runLoadMessage(cid, fmt.Sprintf("%s-%d", prefix, i), "orders", "r1", 10)
			}
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprint(i), Body: body, EventSourceARN: s.queues.NotificationsARN})
		}
		before := meter.Snapshot()
		resp, err := h.handle(context.Background(), ev)
		if err != nil || len(resp.BatchItemFailures) > 0 {
			t.Fatalf("handle: %v %v", err, resp.BatchItemFailures)
		}
		return meter.Snapshot().Sub(before)
	}
	batch("warm", false)
	plain, withRun := batch("plain", false), batch("run", true)
	if plain.Service("DynamoDB") != withRun.Service("DynamoDB") || plain.WriteUnits != withRun.WriteUnits || withRun.Service("SQS") != 0 {
		t.Errorf("10 loads without a run: %d DynamoDB requests, %.1f WCU; with one: %d, %.1f WCU, %d SQS requests; want the same and no SQS",
			plain.Service("DynamoDB"), plain.WriteUnits, withRun.Service("DynamoDB"), withRun.WriteUnits, withRun.Service("SQS"))
	}
	if _, _, err := s.st.ClaimRun(context.Background(), delivery.RunKey{ClientID: cid, IntegrationName: "shopify", RunID: "r1"}); !errors.Is(err, hook.ErrNotFound) {
		t.Errorf("the run item: %v, want none (ErrNotFound)", err)
	}
	if n := len(rcv.requests()); n != 30 {
		t.Errorf("requests = %d, want the 30 table loads", n)
	}
}

// A malformed run timer on the retry queue goes to the dead-letter queue
// with its reason.
func TestDispatcherMalformedRunTimerIsDeadLettered(t *testing.T) {
	t.Parallel()
	const cid = 1506
	s, _, _ := runStack(t, cid, time.Hour)
	body := `{"kind":"run_timer","client_id":1506,"integration_name":"shopify","run_id":"","due_at":"2026-07-15T15:00:00Z"}`
	if _, err := s.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(s.queues.Retry), MessageBody: aws.String(body)}); err != nil {
		t.Fatal(err)
	}
	s.drive(t, 20*time.Second, func() bool { return s.pump(t, s.queues.Retry) > 0 })
	if got := deadLetterReasons(t, s); len(got) != 1 || got[0] != "invalid run timer message: run_id: must not be empty" {
		t.Errorf("dead letters = %q, want the run timer's reason", got)
	}
}
