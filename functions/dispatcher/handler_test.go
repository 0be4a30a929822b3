package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/postloadhooks/hooks/scripts/devkit/syncbuf"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store/memstore"
	"github.com/postloadhooks/hooks/shared/webhook"
)

const (
	testClient   = int64(116078)
	retryURL     = "https://sqs.local/retries"
	alertURL     = "https://sqs.local/alerts"
	deadURL      = "https://sqs.local/notifications-dlq"
	loadsARN     = "arn:aws:sqs:us-east-1:123456789012:post-load-notifications"
	retriesARN   = "arn:aws:sqs:us-east-1:123456789012:post-load-retries"
	testSchedule = "10s,20s,30s,40s,50s"
)

// canonicalBody is the webhook body of loadMessage's notification.
const canonicalBody = `{"version":"1.0","integration_name":"shopify","new_version":false,"source_root_table_name":"orders",` +
	`"destination_root_table_name":"orders","table_version":0,"tables":[{"source_table_name":"orders",` +
	`"destination_table_name":"orders","num_rows":100,"num_rows_rejected":0,"bookmark_metadata":null}]}`

func loadMessage(cid int64, loadID, status string) string {
	return fmt.Sprintf(`{"client_id":%d,"load_id":%q,"status":%q,"notification":{"integration_name":"shopify","new_version":false,`+
		`"source_root_table_name":"orders","destination_root_table_name":"orders","table_version":0,"tables":[{"source_table_name":"orders",`+
		`"destination_table_name":"orders","num_rows":100,"num_rows_rejected":0}]}}`, cid, loadID, status)
}

// Destinations of testClient: hooks 1 and 3 (disabled) are testDest's,
// hook 2 is otherDest's.
const (
	testDest  = 12345
	otherDest = 9
)

// loadMessageTo is loadMessage for a load of destination dest.
func loadMessageTo(cid, dest int64, loadID string) string {
	return strings.Replace(loadMessage(cid, loadID, "succeeded"), `{"client_id":`, fmt.Sprintf(`{"destination_id":%d,"client_id":`, dest), 1)
}

func retryMessage(t *testing.T, cid int64, loadID string, hookID int64, n int) string {
	t.Helper()
	return string(delivery.RetryMessage{Kind: delivery.KindRetry, ClientID: cid, LoadID: loadID, HookID: hookID, Attempt: n,
		WebhookID: hook.WebhookID(cid, loadID, hookID), Body: json.RawMessage(canonicalBody)}.Encode())
}

// sqsEvent is a batch of bodies, each from the queue it belongs on: the
// service's retry messages (which start with their kind) from the retry
// queue, all others from the notifications queue.
func sqsEvent(bodies ...string) events.SQSEvent {
	var ev events.SQSEvent
	for i, b := range bodies {
		arn := loadsARN
		if strings.HasPrefix(b, `{"kind":"retry"`) {
			arn = retriesARN
		}
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("m%d", i), Body: b, EventSourceARN: arn})
	}
	return ev
}

type env struct {
	h       *handler
	store   *memstore.Store
	hooks   *fakeWebhooks
	queue   *fakeQueue
	logs    *syncbuf.Buffer
	metrics *syncbuf.Buffer
	clock   *settable
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s, err := delivery.ParseSchedule(testSchedule)
	if err != nil {
		t.Fatal(err)
	}
	clock := &settable{t: time.Date(2026, 7, 15, 14, 45, 0, 0, time.UTC)}
	disabled := clock.t.Add(-time.Hour)
	st := memstore.New(clock.now)
	st.PutAccount(hook.Account{ClientID: testClient, Plan: "advanced", Destinations: []hook.Destination{{ID: testDest, Type: "s3"}, {ID: otherDest, Type: "snowflake"}}})
	st.PutAccount(hook.Account{ClientID: 7, Plan: "standard"})
	st.PutAccount(hook.Account{ClientID: 8, Plan: "premium"})
	st.SetHooks(testClient, []hook.Hook{
		{ID: 1, ClientID: testClient, DestinationID: testDest, URL: "https://one.example/h", Secret: "whsec_one"},
		{ID: 2, ClientID: testClient, DestinationID: otherDest, URL: "https://two.example/h", Secret: "whsec_two"},
		{ID: 3, ClientID: testClient, DestinationID: testDest, URL: "https://three.example/h", Secret: "whsec_three", DisabledAt: &disabled},
	})
	st.SetHooks(7, []hook.Hook{{ID: 1, ClientID: 7, URL: "https://seven.example/h", Secret: "whsec_seven"}}) // enabled, plan without the feature
	st.SetHooks(8, []hook.Hook{{ID: 1, ClientID: 8, URL: "https://off.example/h", Secret: "whsec_off", DisabledAt: &disabled}})
	e := &env{
		store:   st,
		hooks:   &fakeWebhooks{respond: func(webhook.Request) delivery.Attempt { return delivery.Attempt{Outcome: "success", StatusCode: 204} }},
		queue:   &fakeQueue{},
		logs:    &syncbuf.Buffer{},
		metrics: &syncbuf.Buffer{},
		clock:   clock,
	}
	e.h = &handler{
		cfg: config{Table: "t", RetryQueueURL: retryURL, AlertQueueURL: alertURL, DeadLetterQueueURL: deadURL,
			NotificationsQueueARN: loadsARN, RetryQueueARN: retriesARN, Schedule: s, AttemptTimeout: 30 * time.Second, RunWait: time.Hour},
		accounts: e.store, deliveries: e.store, freshness: e.store, runs: e.store, webhooks: e.hooks, queue: e.queue,
		log: testLogger(e.logs), metrics: newMetrics(e.metrics, clock.now), now: clock.now,
		rand: func() float64 { return 0.5 }, // no jitter
	}
	return e
}

// record is the delivery record of k (the zero record when there is none).
func (e *env) record(k delivery.Key) delivery.Record {
	r, _ := e.store.LoadEntry(k)
	return r
}

func (e *env) failWith(code int) {
	e.hooks.respond = func(webhook.Request) delivery.Attempt {
		return delivery.Attempt{At: e.clock.now(), Outcome: "http_status", StatusCode: code, LatencyMs: 5}
	}
}

// run invokes the handler and returns the failed message ids.
func (e *env) run(t *testing.T, ev events.SQSEvent) ([]string, error) {
	t.Helper()
	resp, err := e.h.handle(context.Background(), ev)
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids, err
}

func (e *env) mustRun(t *testing.T, ev events.SQSEvent, wantFailed ...string) {
	t.Helper()
	got, err := e.run(t, ev)
	if err != nil {
		t.Fatalf("handle: %v", err)
	}
	if wantFailed == nil {
		wantFailed = []string{}
	}
	if diff := cmp.Diff(got, wantFailed); diff != "" {
		t.Fatalf("batchItemFailures (-got +want):\n%s", diff)
	}
}

func key(loadID string, hookID int64) delivery.Key {
	return delivery.Key{ClientID: testClient, LoadID: loadID, HookID: hookID}
}

func TestLoadDeliversToEveryEnabledHookOnce(t *testing.T) {
	e := newEnv(t)
	e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded"), loadMessage(testClient, "L2", "succeeded")))

	if got := e.store.Calls("AccountWithHooks"); got != 1 {
		t.Errorf("account reads = %d, want 1 per batch", got)
	}
	var got []string
	for _, r := range e.hooks.calls() {
		if string(r.Body) != canonicalBody {
			t.Errorf("body = %s, want the canonical body", r.Body)
		}
		got = append(got, r.URL+" "+r.WebhookID+" "+r.Secret)
	}
	want := []string{}
	for _, l := range []string{"L1", "L2"} {
		want = append(want, "https://one.example/h "+hook.WebhookID(testClient, l, 1)+" whsec_one",
			"https://two.example/h "+hook.WebhookID(testClient, l, 2)+" whsec_two")
	}
	if diff := cmp.Diff(got, want, cmpSorted); diff != "" {
		t.Errorf("requests (-got +want):\n%s", diff)
	}
	if r := e.record(key("L1", 1)); r.Status != delivery.StatusDelivered || len(r.Attempts) != 1 {
		t.Errorf("record = %+v, want delivered after one attempt", r)
	}
	if m := e.queue.all(); len(m) != 0 {
		t.Errorf("queued %v, want nothing", m)
	}

	// The loader re-sends load L1 (same load_id): nothing is sent twice.
	e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded")))
	if n := len(e.hooks.calls()); n != 4 {
		t.Errorf("requests after the re-sent load = %d, want still 4", n)
	}
}

func TestDuplicateInOneBatchDeliversOnce(t *testing.T) {
	e := newEnv(t)
	e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded"), loadMessage(testClient, "L1", "succeeded")))
	if n := len(e.hooks.calls()); n != 2 {
		t.Errorf("requests = %d, want 2 (one per hook)", n)
	}
}

func TestDuplicatesInOneBatchShareTheirFate(t *testing.T) {
	e := newEnv(t)
	e.failWith(500)
	e.queue.failQueue = map[string]bool{retryURL: true}
	retry := retryMessage(t, testClient, "L9", 1, 2)
	e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded"), loadMessage(testClient, "L1", "succeeded"), retry, retry), "m0", "m1")
	if n := len(e.hooks.calls()); n != 2 {
		t.Errorf("requests = %d, want 2 (one per hook, the retry has no waiting record)", n)
	}
}

func TestFailureQueuesRetryThenAlert(t *testing.T) {
	e := newEnv(t)
	e.store.SetHooks(testClient, e.store.Hooks(testClient)[:1])
	e.failWith(503)
	e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded")))

	wantRetry := func(n int) sent {
		m := delivery.RetryMessage{Kind: "retry", ClientID: testClient, LoadID: "L1", HookID: 1, Attempt: n,
			WebhookID: hook.WebhookID(testClient, "L1", 1), Body: json.RawMessage(canonicalBody)}
		return sent{Queue: retryURL, Body: string(m.Encode()), Delay: int32(n-1) * 10, Group: "116078"}
	}
	if diff := cmp.Diff(e.queue.on(retryURL), []sent{wantRetry(2)}); diff != "" {
		t.Fatalf("retry queue (-got +want):\n%s", diff)
	}
	// Attempts 2..6 arrive from the retry queue; each failure queues the next.
	for n := 2; n <= 6; n++ {
		e.clock.advance(time.Minute)
		last := e.queue.on(retryURL)
		e.mustRun(t, sqsEvent(last[len(last)-1].Body))
		if n < 6 {
			if got := e.queue.on(retryURL); len(got) != n || got[n-1] != wantRetry(n+1) {
				t.Fatalf("after attempt %d retry queue = %v", n, got)
			}
		}
	}
	calls := e.hooks.calls()
	if len(calls) != 6 {
		t.Fatalf("requests = %d, want 6", len(calls))
	}
	for _, c := range calls {
		if c.WebhookID != hook.WebhookID(testClient, "L1", 1) || string(c.Body) != canonicalBody {
			t.Errorf("request %+v: want the same webhook id and body every attempt", c)
		}
	}
	alerts := e.queue.on(alertURL)
	if len(alerts) != 1 {
		t.Fatalf("alerts = %v, want 1", alerts)
	}
	var am delivery.AlertMessage
	if err := json.Unmarshal([]byte(alerts[0].Body), &am); err != nil {
		t.Fatal(err)
	}
	rec := e.record(key("L1", 1))
	want := delivery.AlertMessage{Kind: "exhausted", ClientID: testClient, LoadID: "L1", HookID: 1, HookURL: "https://one.example/h",
		WebhookID: hook.WebhookID(testClient, "L1", 1), IntegrationName: "shopify", Tables: []string{"orders"}, Attempts: rec.Attempts, AttemptCount: 6,
		Event: hook.EventTableLoaded, Sequence: 1} // the headers every attempt carried, for the email's curl command
	if calls[0].Sequence != 1 || rec.Sequence != 1 {
		t.Errorf("webhook-sequence sent %d, recorded %d; want 1", calls[0].Sequence, rec.Sequence)
	}
	if diff := cmp.Diff(am, want); diff != "" {
		t.Errorf("alert (-got +want):\n%s", diff)
	}
	if len(am.Attempts) != 6 || rec.Status != delivery.StatusExhausted {
		t.Errorf("record %+v: want exhausted after 6 attempts", rec)
	}

	// The last retry message is delivered again: no seventh attempt; the
	// alert is queued again (the alerter de-duplicates).
	last := e.queue.on(retryURL)
	e.mustRun(t, sqsEvent(last[len(last)-1].Body))
	if len(e.hooks.calls()) != 6 || len(e.queue.on(alertURL)) != 2 {
		t.Fatalf("after redelivery: %d requests, %d alerts; want 6 and 2", len(e.hooks.calls()), len(e.queue.on(alertURL)))
	}
	// The alert queued again from the record, without an attempt, names
	// the same event and sequence.
	if again := e.queue.on(alertURL)[1]; again.Body != alerts[0].Body {
		t.Errorf("alert queued again:\n%s\nwant the first:\n%s", again.Body, alerts[0].Body)
	}
}

func TestRetryThenSuccess(t *testing.T) {
	e := newEnv(t)
	e.store.SetHooks(testClient, e.store.Hooks(testClient)[:1])
	e.failWith(500)
	e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded")))
	e.hooks.respond = func(webhook.Request) delivery.Attempt { return delivery.Attempt{Outcome: "success", StatusCode: 200} }
	e.mustRun(t, sqsEvent(e.queue.on(retryURL)[0].Body))
	if r := e.record(key("L1", 1)); r.Status != delivery.StatusDelivered || r.Attempt != 2 {
		t.Errorf("record = %+v, want delivered at attempt 2", r)
	}
	if len(e.queue.on(retryURL)) != 1 || len(e.queue.on(alertURL)) != 0 {
		t.Errorf("queued %v, want only the first retry", e.queue.all())
	}
}

func TestRetryCancelledQuietly(t *testing.T) {
	tests := []struct {
		name   string
		change func(e *env)
	}{
		{"hook disabled", func(e *env) {
			d := e.clock.now()
			hooks := e.store.Hooks(testClient)
			hooks[0].DisabledAt = &d
			e.store.SetHooks(testClient, hooks)
		}},
		{"hook deleted", func(e *env) { e.store.SetHooks(testClient, e.store.Hooks(testClient)[1:]) }},
		{"plan downgraded", func(e *env) { e.store.PutAccount(hook.Account{ClientID: testClient, Plan: "standard"}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.failWith(503)
			e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded")))
			before := len(e.hooks.calls())
			tt.change(e)
			e.mustRun(t, sqsEvent(retryMessage(t, testClient, "L1", 1, 2)))
			if got := len(e.hooks.calls()); got != before {
				t.Errorf("requests %d -> %d: a cancelled retry must not be sent", before, got)
			}
			if r := e.record(key("L1", 1)); r.Status != delivery.StatusCancelled {
				t.Errorf("record = %+v, want cancelled", r)
			}
			if n := len(e.queue.on(retryURL)); n != 2 { // one per hook from the first attempt
				t.Errorf("retries = %d, want 2 (nothing new)", n)
			}
			if n := len(e.queue.on(alertURL)); n != 0 {
				t.Errorf("alerts = %d, want none", n)
			}
		})
	}
}

func TestLiveLeaseIsReportedAndLaterAcked(t *testing.T) {
	e := newEnv(t)
	k := key("L1", 1)
	// Another invocation claimed attempt 1 and is still making it.
	e.claimFirst(t, k, 35*time.Second)
	e.store.SetHooks(testClient, e.store.Hooks(testClient)[:1])
	e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded"), loadMessage(testClient, "L2", "succeeded")), "m0")
	if n := len(e.hooks.calls()); n != 1 {
		t.Errorf("requests = %d, want 1 (L2 only)", n)
	}
	// The other invocation died: after its lease, the redelivery takes over.
	e.clock.advance(36 * time.Second)
	e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded")))
	if r := e.record(k); r.Status != delivery.StatusDelivered {
		t.Errorf("record = %+v, want delivered", r)
	}
}

func TestEnqueueFailureFailsOnlyItsRecord(t *testing.T) {
	e := newEnv(t)
	e.store.SetHooks(testClient, e.store.Hooks(testClient)[:1])
	e.hooks.respond = func(r webhook.Request) delivery.Attempt {
		if r.WebhookID == hook.WebhookID(testClient, "L1", 1) {
			return delivery.Attempt{Outcome: "timeout"}
		}
		return delivery.Attempt{Outcome: "success", StatusCode: 200}
	}
	e.queue.failQueue = map[string]bool{retryURL: true}
	e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded"), loadMessage(testClient, "L2", "succeeded")), "m0")

	// SQS redelivers m0: the record waits after attempt 1, so the retry is
	// queued again without a second HTTP attempt.
	e.queue.failQueue = nil
	e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded")))
	if n := len(e.hooks.calls()); n != 2 {
		t.Errorf("requests = %d, want 2 (L1 once, L2 once)", n)
	}
	if got := e.queue.on(retryURL); len(got) != 1 || got[0].Delay != 10 || !strings.Contains(got[0].Body, `"attempt":2`) {
		t.Errorf("retries = %v, want one for attempt 2 after 10 s", got)
	}
}

// waitingAt makes the record of k wait for attempt n+1, as after n failed
// attempts.
func (e *env) waitingAt(t *testing.T, k delivery.Key, n int) {
	t.Helper()
	e.waitingWith(t, k, []byte(canonicalBody), n)
}

// waitingWith is waitingAt for a load of body.
func (e *env) waitingWith(t *testing.T, k delivery.Key, body []byte, n int) {
	t.Helper()
	ctx := context.Background()
	c := e.claimWith(t, k, body, time.Second)
	for i := 1; i <= n; i++ {
		if i > 1 {
			c = delivery.NewClaim(k, i)
			if ok, _, err := e.store.ClaimHook(ctx, c, delivery.BodyDigest(body), time.Second); !ok || err != nil {
				t.Fatalf("claim attempt %d: %v %v", i, ok, err)
			}
		}
		if _, errs := e.store.RecordResults(ctx, []delivery.Result{{Claim: c, Attempt: delivery.Attempt{Outcome: "timeout"}, Status: delivery.StatusWaiting}}); errs[0] != nil {
			t.Fatalf("record attempt %d: %v", i, errs[0])
		}
	}
}

// claimFirst claims attempt 1 of k, as another invocation would, for lease.
func (e *env) claimFirst(t *testing.T, k delivery.Key, lease time.Duration) delivery.Claim {
	t.Helper()
	return e.claimWith(t, k, []byte(canonicalBody), lease)
}

func (e *env) claimWith(t *testing.T, k delivery.Key, body []byte, lease time.Duration) delivery.Claim {
	t.Helper()
	l := delivery.Load{ClientID: k.ClientID, LoadID: k.LoadID, IntegrationName: "shopify", Tables: []string{"orders"}, Body: body}
	claims, _, err := e.store.ClaimLoad(context.Background(), l, []int64{k.HookID}, "another", lease)
	if err != nil || len(claims) != 1 {
		t.Fatalf("claim attempt 1 of %+v: %v %v", k, claims, err)
	}
	return claims[0]
}

func TestSendFailureFailsExactlyItsRecords(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(t *testing.T, e *env)
		bodies      []string
		failBody    string // sends whose body holds this fail
		wantFailed  []string
		wantRetries int
		wantAlerts  int
	}{
		{
			name:   "retry",
			bodies: []string{loadMessage(testClient, "L1", "succeeded"), loadMessage(testClient, "L2", "succeeded"), loadMessage(testClient, "L3", "succeeded")},
			// L2's retry for hook 2 fails; hook 1's retry of the same record is queued.
			failBody:   `"load_id":"L2","hook_id":2`,
			wantFailed: []string{"m1"}, wantRetries: 5,
		},
		{
			name: "retry of a load that is twice in the batch",
			bodies: []string{loadMessage(testClient, "L1", "succeeded"), loadMessage(testClient, "L2", "succeeded"),
				loadMessage(testClient, "L3", "succeeded"), loadMessage(testClient, "L2", "succeeded")},
			failBody:   `"load_id":"L2","hook_id":2`,
			wantFailed: []string{"m1", "m3"}, wantRetries: 5,
		},
		{
			name: "alert",
			setup: func(t *testing.T, e *env) {
				e.waitingAt(t, key("L1", 1), 5)
				e.waitingAt(t, key("L2", 1), 5)
			},
			bodies:     []string{retryMessage(t, testClient, "L1", 1, 6), retryMessage(t, testClient, "L2", 1, 6)},
			failBody:   `"kind":"exhausted","client_id":116078,"load_id":"L2"`,
			wantFailed: []string{"m1"}, wantAlerts: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.setup != nil {
				tt.setup(t, e)
			}
			e.failWith(502)
			e.queue.failBody = func(body string) bool { return strings.Contains(body, tt.failBody) }
			e.mustRun(t, sqsEvent(tt.bodies...), tt.wantFailed...)
			if n := len(e.queue.on(retryURL)); n != tt.wantRetries {
				t.Errorf("retries = %d, want %d", n, tt.wantRetries)
			}
			if n := len(e.queue.on(alertURL)); n != tt.wantAlerts {
				t.Errorf("alerts = %d, want %d", n, tt.wantAlerts)
			}
		})
	}
}

func TestEveryMessageIsOneBoundedConcurrentSend(t *testing.T) {
	e := newEnv(t)
	var hooks []hook.Hook
	for id := int64(1); id <= 10; id++ {
		hooks = append(hooks, hook.Hook{ID: id, ClientID: testClient, URL: fmt.Sprintf("https://h%d.example/", id), Secret: "whsec_x"})
	}
	e.store.SetHooks(testClient, hooks)
	e.failWith(500)

	// Every send blocks until released: the handler must have exactly
	// maxConcurrentSends of its 20 sends in flight, never more.
	e.queue.hold = make(chan struct{})
	type outcome struct {
		failed []string
		err    error
	}
	done := make(chan outcome, 1)
	go func() {
		failed, err := e.run(t, sqsEvent(loadMessage(testClient, "L1", "succeeded"), loadMessage(testClient, "L2", "succeeded")))
		done <- outcome{failed, err}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for e.queue.sending() < maxConcurrentSends {
		if time.Now().After(deadline) {
			close(e.queue.hold)
			t.Fatalf("sends in flight = %d after 5 s, want %d", e.queue.sending(), maxConcurrentSends)
		}
		time.Sleep(time.Millisecond)
	}
	close(e.queue.hold)
	got := <-done
	if got.err != nil || len(got.failed) != 0 {
		t.Fatalf("handle: %v, failures %v", got.err, got.failed)
	}
	if e.queue.maxInFlight != maxConcurrentSends {
		t.Errorf("most sends in flight = %d, want %d", e.queue.maxInFlight, maxConcurrentSends)
	}

	var want []sent
	for _, l := range []string{"L1", "L2"} {
		for id := int64(1); id <= 10; id++ {
			m := delivery.RetryMessage{Kind: "retry", ClientID: testClient, LoadID: l, HookID: id, Attempt: 2,
				WebhookID: hook.WebhookID(testClient, l, id), Body: json.RawMessage(canonicalBody)}
			want = append(want, sent{Queue: retryURL, Body: string(m.Encode()), Delay: 10, Group: "116078"})
		}
	}
	sortSent := cmpopts.SortSlices(func(a, b sent) bool { return a.Body < b.Body })
	if diff := cmp.Diff(e.queue.all(), want, sortSent); diff != "" {
		t.Errorf("sends (-got +want):\n%s", diff)
	}
}

func TestHooksOfAnotherClientAreNeverSent(t *testing.T) {
	t.Run("foreign hook in the answer", func(t *testing.T) {
		e := newEnv(t)
		// A faulty store answers the read of testClient with a hook of client 8
		// beside its own: it gets neither the load nor a pending retry.
		e.h.accounts = faultyReads{Store: e.store, change: func(_ *hook.Account, hooks *[]hook.Hook) {
			*hooks = append(*hooks, hook.Hook{ID: 4, ClientID: 8, URL: "https://other-tenant.example/h", Secret: "whsec_other"})
		}}
		e.waitingAt(t, key("L0", 4), 1)
		e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded"), retryMessage(t, testClient, "L0", 4, 2)))
		var urls []string
		for _, c := range e.hooks.calls() {
			urls = append(urls, c.URL)
		}
		if diff := cmp.Diff(urls, []string{"https://one.example/h", "https://two.example/h"}, cmpSorted); diff != "" {
			t.Errorf("requests (-got +want):\n%s", diff)
		}
		if r := e.record(key("L0", 4)); r.Status != delivery.StatusCancelled {
			t.Errorf("record of the retry = %+v, want cancelled", r)
		}
		if !strings.Contains(e.logs.String(), `"msg":"foreign hook dropped","clientId":116078,"hookId":4`) {
			t.Errorf("no log line for the foreign hook:\n%s", e.logs.String())
		}
	})
	t.Run("foreign account in the answer", func(t *testing.T) {
		e := newEnv(t)
		e.h.accounts = faultyReads{Store: e.store, change: func(a *hook.Account, _ *[]hook.Hook) {
			if a.ClientID == testClient {
				*a = hook.Account{ClientID: 8, Plan: "advanced"}
			}
		}}
		e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded"), loadMessage(8, "L1", "succeeded")), "m0")
		if n := len(e.hooks.calls()); n != 0 {
			t.Errorf("requests = %d, want none", n)
		}
	})
}

func TestPoisonBesideValid(t *testing.T) {
	e := newEnv(t)
	e.store.SetHooks(testClient, e.store.Hooks(testClient)[:1])
	e.mustRun(t, sqsEvent(`{"client_id":"x"}`, loadMessage(testClient, "L1", "succeeded"), `{"kind":"other"}`, `not json`))
	want := []sent{
		{Queue: deadURL, Body: `{"client_id":"x"}`, Reason: "invalid load message: client_id: must be an integer"},
		{Queue: deadURL, Body: `{"kind":"other"}`, Reason: "kind: a service message is not accepted on the notifications queue"},
		{Queue: deadURL, Body: `not json`, Reason: "invalid load message: not valid JSON"},
	}
	// Records are processed concurrently: their sends come in any order.
	if diff := cmp.Diff(e.queue.on(deadURL), want, cmpopts.SortSlices(func(a, b sent) bool { return a.Body < b.Body })); diff != "" {
		t.Errorf("dead letters (-got +want):\n%s", diff)
	}
	if n := len(e.hooks.calls()); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
	if logs := e.logs.String(); strings.Contains(logs, "not json") || !strings.Contains(logs, `"reason":"kind: a service message is not accepted on the notifications queue"`) {
		t.Errorf("logs must give the reason, never the body:\n%s", logs)
	}
}

func TestMalformedRetryMessages(t *testing.T) {
	good := func(t *testing.T) delivery.RetryMessage {
		var m delivery.RetryMessage
		if err := json.Unmarshal([]byte(retryMessage(t, testClient, "L1", 1, 2)), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	tests := []struct {
		name   string
		change func(*delivery.RetryMessage)
		reason string
	}{
		{"wrong webhook id", func(m *delivery.RetryMessage) { m.WebhookID = "msg_0" }, "invalid retry message: webhook_id: does not match the pair"},
		{"attempt 0", func(m *delivery.RetryMessage) { m.Attempt = 0 }, "invalid retry message: attempt: out of range"},
		{"bad body", func(m *delivery.RetryMessage) { m.Body = json.RawMessage("{}") }, "invalid retry message: body: invalid load message: integration_name: required"},
		{"no hook", func(m *delivery.RetryMessage) { m.HookID = 0 }, "invalid retry message: hook_id: must be a positive integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			m := good(t)
			tt.change(&m)
			e.mustRun(t, sqsEvent(string(m.Encode())))
			if got := e.queue.on(deadURL); len(got) != 1 || got[0].Reason != tt.reason {
				t.Errorf("dead letters = %+v, want reason %q", got, tt.reason)
			}
		})
	}
}

// TestRetryMessageKeyRule is the forged-retry and case-variant-key attacks for retry
// messages: encoding/json read keys without case and let a repeated key win
// ("client_id":116078,"client_id":200 read as 200). Now every such message
// is refused, with its reason, before anything is sent; and a retry message
// is read only from the retry queue.
func TestRetryMessageKeyRule(t *testing.T) {
	good := retryMessage(t, testClient, "L1", 1, 2)
	tests := []struct {
		name, body, arn, reason string
	}{
		{"repeated client_id", strings.Replace(good, `"client_id":116078`, `"client_id":116078,"client_id":200`, 1), retriesARN,
			"invalid retry message: client_id: repeated key"},
		{"case-variant pair", strings.Replace(good, `"client_id":116078`, `"client_id":116078,"Client_ID":200`, 1), retriesARN,
			"invalid retry message: keys differ only in case"},
		{"case-variant alone", strings.Replace(good, `"attempt":2`, `"ATTEMPT":2`, 1), retriesARN,
			"invalid retry message: unknown key"},
		{"on the notifications queue", good, loadsARN,
			"kind: a service message is not accepted on the notifications queue"},
		{"from another queue", good, "arn:aws:sqs:us-east-1:123456789012:elsewhere",
			"event source: not a queue of this function"},
		{"load message on the retry queue", loadMessage(testClient, "L1", "succeeded"), retriesARN,
			"invalid retry message: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.waitingAt(t, key("L1", 1), 1)
			ev := sqsEvent(tt.body)
			ev.Records[0].EventSourceARN = tt.arn
			e.mustRun(t, ev)
			if got := e.queue.on(deadURL); len(got) != 1 || got[0].Reason != tt.reason {
				t.Errorf("dead letters = %+v, want reason %q", got, tt.reason)
			}
			if n := len(e.hooks.calls()); n != 0 {
				t.Errorf("requests = %d, want none", n)
			}
		})
	}
}

func TestSkippedNotifications(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		reason string
	}{
		{"failed load", loadMessage(testClient, "L1", "failed"), skipLoadFailed},
		{"unknown client", loadMessage(999, "L1", "succeeded"), skipUnknownClient},
		{"plan without feature", loadMessage(7, "L1", "succeeded"), skipNoFeature},
		{"no enabled hook", loadMessage(8, "L1", "succeeded"), skipNoEnabledHooks},
		{"unknown destination", loadMessageTo(testClient, 555, "L1"), skipUnknownDestination},
		{"destination of another account", loadMessageTo(8, testDest, "L1"), skipUnknownDestination},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.mustRun(t, sqsEvent(tt.body))
			if n := len(e.hooks.calls()); n != 0 {
				t.Errorf("requests = %d, want none", n)
			}
			var emf map[string]any
			if err := json.Unmarshal([]byte(e.metrics.String()), &emf); err != nil {
				t.Fatalf("metric line %q: %v", e.metrics.String(), err)
			}
			want := map[string]any{
				"NotificationsSkipped": 1.0, "Reason": tt.reason,
				"_aws": map[string]any{"Timestamp": float64(e.clock.now().UnixMilli()), "CloudWatchMetrics": []any{map[string]any{
					"Namespace": "PostLoadHooks", "Dimensions": []any{[]any{"Reason"}},
					"Metrics": []any{map[string]any{"Name": "NotificationsSkipped", "Unit": "Count"}}}}},
			}
			if diff := cmp.Diff(emf, want); diff != "" {
				t.Errorf("metric (-got +want):\n%s", diff)
			}
			if !strings.Contains(e.logs.String(), `"reason":"`+tt.reason+`"`) {
				t.Errorf("no log line with the reason:\n%s", e.logs.String())
			}
		})
	}
}

// TestLoadsReachOnlyTheirDestinationsHooks: a message naming a destination
// is sent to that destination's enabled hooks only; a message naming none
// (an older loader) to every enabled hook; a hook stored before
// destinations (destination 0) to every load of its account.
func TestLoadsReachOnlyTheirDestinationsHooks(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		legacy bool // add hook 4, stored before destinations
		want   []string
	}{
		{"first destination", loadMessageTo(testClient, testDest, "L1"), false, []string{"https://one.example/h"}},
		{"second destination", loadMessageTo(testClient, otherDest, "L1"), false, []string{"https://two.example/h"}},
		{"no destination: every enabled hook", loadMessage(testClient, "L1", "succeeded"), false, []string{"https://one.example/h", "https://two.example/h"}},
		{"hook without destination gets every load", loadMessageTo(testClient, otherDest, "L1"), true, []string{"https://two.example/h", "https://four.example/h"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.legacy {
				e.store.PutHook(hook.Hook{ID: 4, ClientID: testClient, URL: "https://four.example/h", Secret: "whsec_four"})
			}
			e.mustRun(t, sqsEvent(tt.body))
			var got []string
			for _, r := range e.hooks.calls() {
				got = append(got, r.URL)
			}
			if diff := cmp.Diff(got, tt.want, cmpSorted); diff != "" {
				t.Errorf("hooks sent to (-got +want):\n%s", diff)
			}
		})
	}
}

func TestStoreErrors(t *testing.T) {
	t.Run("account read fails for the whole batch", func(t *testing.T) {
		e := newEnv(t)
		e.store.Fail("AccountWithHooks", errors.New("throttled"))
		got, err := e.run(t, sqsEvent(loadMessage(testClient, "L1", "succeeded"), loadMessage(testClient, "L2", "succeeded")))
		if !errors.Is(err, errNothingProcessed) {
			t.Errorf("err = %v, want errNothingProcessed", err)
		}
		if diff := cmp.Diff(got, []string{"m0", "m1"}); diff != "" {
			t.Errorf("failures (-got +want):\n%s", diff)
		}
	})
	t.Run("claim fails beside a malformed message", func(t *testing.T) {
		e := newEnv(t)
		e.store.Fail("ClaimLoad", errors.New("throttled"))
		e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded"), `{}`), "m0")
	})
	t.Run("result write fails", func(t *testing.T) {
		e := newEnv(t)
		e.store.Fail("RecordResults", errors.New("throttled"))
		e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded"), loadMessage(testClient, "L2", "failed")), "m0")
	})
	t.Run("dead-letter send fails", func(t *testing.T) {
		e := newEnv(t)
		e.queue.failQueue = map[string]bool{deadURL: true}
		e.mustRun(t, sqsEvent(`{}`, loadMessage(testClient, "L1", "succeeded")), "m0")
	})
}

func TestLogsNeverHoldSecretsOrBodies(t *testing.T) {
	e := newEnv(t)
	e.failWith(500)
	e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded")))
	logs := e.logs.String()
	for _, s := range []string{"whsec_", "shopify", "one.example"} {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain %q:\n%s", s, logs)
		}
	}
	for _, k := range []string{`"messageId":"m0"`, `"clientId":116078`, `"loadId":"L1"`, `"hookId":1`, `"attempt":1`, `"outcome":"http_status"`, `"durationMs":5`} {
		if !strings.Contains(logs, k) {
			t.Errorf("logs lack %s:\n%s", k, logs)
		}
	}
}

var cmpSorted = cmpopts.SortSlices(func(a, b string) bool { return a < b })

// The delivery metrics are written once per invocation from its tally (a
// line per outcome, per result and for the latencies), and a successful
// attempt writes no log line at the default level: a failed one does.
func TestDeliveryMetricsOncePerInvocation(t *testing.T) {
	e := newEnv(t)
	e.hooks.respond = func(r webhook.Request) delivery.Attempt {
		if r.URL == "https://one.example/h" {
			return delivery.Attempt{At: e.clock.now(), Outcome: delivery.OutcomeSuccess, StatusCode: 204, LatencyMs: 7}
		}
		return delivery.Attempt{At: e.clock.now(), Outcome: delivery.OutcomeHTTPStatus, StatusCode: 500, LatencyMs: 5}
	}
	e.mustRun(t, sqsEvent(loadMessageTo(testClient, testDest, "L1"), loadMessageTo(testClient, otherDest, "L2")))

	type line struct {
		name, dim string
		value     any
	}
	var got []line
	for _, l := range strings.Split(strings.TrimSpace(e.metrics.String()), "\n") {
		var emf map[string]any
		if err := json.Unmarshal([]byte(l), &emf); err != nil {
			t.Fatalf("metric line %q: %v", l, err)
		}
		d := asMetricDirective(t, emf)
		name := d["Metrics"].([]any)[0].(map[string]any)["Name"].(string)
		dim := ""
		if dims := d["Dimensions"].([]any)[0].([]any); len(dims) == 1 {
			dim = dims[0].(string) + "=" + emf[dims[0].(string)].(string)
		}
		v := emf[name]
		if vs, ok := v.([]any); ok {
			slices.SortFunc(vs, func(a, b any) int { return int(a.(float64) - b.(float64)) })
		}
		got = append(got, line{name, dim, v})
	}
	want := []line{
		{"DeliveryAttempts", "Outcome=http_status", 1.0},
		{"DeliveryAttempts", "Outcome=success", 1.0},
		{"DeliveryResults", "Result=delivered", 1.0},
		{"DeliveryResults", "Result=retry", 1.0},
		{"AttemptLatency", "", []any{5.0, 7.0}},
	}
	if diff := cmp.Diff(got, want, cmp.AllowUnexported(line{})); diff != "" {
		t.Errorf("metric lines (-got +want):\n%s", diff)
	}
	logs := e.logs.String()
	if strings.Contains(logs, `"outcome":"success"`) || !strings.Contains(logs, `"msg":"delivery attempt","messageId":"m1","clientId":116078,"loadId":"L2","hookId":2,"attempt":1,"outcome":"http_status"`) {
		t.Errorf("logs: want the failed attempt's line only:\n%s", logs)
	}
}

// asMetricDirective returns the one CloudWatchMetrics directive of an
// embedded metric format line.
func asMetricDirective(t *testing.T, emf map[string]any) map[string]any {
	t.Helper()
	aws, _ := emf["_aws"].(map[string]any)
	ds, _ := aws["CloudWatchMetrics"].([]any)
	if len(ds) != 1 {
		t.Fatalf("metric line %v: want one CloudWatchMetrics directive", emf)
	}
	return ds[0].(map[string]any)
}
