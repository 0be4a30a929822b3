package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/notify"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// Run summaries on the fakes (run.go): counted once per load, claimed
// once, queued through the event path, a timer that chains and claims an
// incomplete run, and nothing at all for hooks that do not subscribe.

// runLoadMessage is a load of table of client cid's destination testDest, in run runID
// of n tables.
func runLoadMessage(cid int64, loadID, table, runID string, n int) string {
	m := strings.ReplaceAll(loadMessageTo(cid, testDest, loadID), `"orders"`, fmt.Sprintf("%q", table))
	return strings.Replace(m, `{"destination_id":`, fmt.Sprintf(`{"run":{"id":%q,"tables":%d},"destination_id":`, runID, n), 1)
}

// subscribeRuns makes hook 1 of testClient (destination testDest) receive
// run summaries beside table loads; hook 2 (otherDest) subscribes to them
// too, and must never get testDest's.
func subscribeRuns(e *env) {
	for _, id := range []int64{1, 2} {
		h, _ := e.store.Hook(testClient, id)
		h.EventTypes = []string{hook.EventTableLoaded, hook.EventRunCompleted}
		e.store.PutHook(h)
	}
}

// queued returns the messages queued on the retry queue since from, split
// by kind.
func (e *env) queuedRuns(from int) (timers, summaries []sent) {
	for _, m := range e.queue.on(retryURL)[from:] {
		switch {
		case delivery.IsRunTimer([]byte(m.Body)):
			timers = append(timers, m)
		case delivery.IsEvent([]byte(m.Body)):
			summaries = append(summaries, m)
		}
	}
	return timers, summaries
}

// runSummaryRequests are the run_completed requests made so far.
func (e *env) runSummaryRequests() []webhook.Request {
	var out []webhook.Request
	for _, r := range e.hooks.calls() {
		if r.Event == notify.EventRunCompleted {
			out = append(out, r)
		}
	}
	return out
}

var runSchema *jsonschema.Schema

// checkRunSchema fails t unless body is valid under the run_completed
// schema of package notify.
func checkRunSchema(t *testing.T, body []byte) {
	t.Helper()
	if runSchema == nil {
		path := filepath.Join("..", "..", "shared", "notify", "schema", "run_completed.json")
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		c.AssertFormat()
		if err := c.AddResource(path, doc); err != nil {
			t.Fatal(err)
		}
		if runSchema, err = c.Compile(path); err != nil {
			t.Fatal(err)
		}
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	if err := runSchema.Validate(v); err != nil {
		t.Errorf("body %s does not match run_completed: %v", body, err)
	}
}

func TestRunSummaryOnceWhenAllArrive(t *testing.T) {
	e := newEnv(t)
	subscribeRuns(e)
	t0 := e.clock.now()
	// Out of order, the first twice in one batch, the rest in later batches.
	e.mustRun(t, sqsEvent(runLoadMessage(testClient, "L3", "customers", "r1", 3), runLoadMessage(testClient, "L3", "customers", "r1", 3)))
	timers, summaries := e.queuedRuns(0)
	if len(timers) != 1 || len(summaries) != 0 || timers[0].Delay != 900 {
		t.Fatalf("after the first load: timers %+v, summaries %+v; want one timer delayed 900 s", timers, summaries)
	}
	e.clock.advance(2 * time.Second)
	e.mustRun(t, sqsEvent(runLoadMessage(testClient, "L1", "orders", "r1", 3)))
	// Re-sent: adds nothing (it is the run's first load, and queues its
	// timer again, as after a crash).
	e.mustRun(t, sqsEvent(runLoadMessage(testClient, "L3", "customers", "r1", 3)))
	e.clock.advance(3 * time.Second)
	e.mustRun(t, sqsEvent(runLoadMessage(testClient, "L2", "products", "r1", 3)))
	timers, summaries = e.queuedRuns(0)
	if len(timers) != 2 || timers[0].Body != timers[1].Body || len(summaries) != 1 {
		t.Fatalf("after all loads: timers %d, summaries %d; want the same timer twice and 1", len(timers), len(summaries))
	}
	e.mustRun(t, retryEvent(summaries[0].Body))
	reqs := e.runSummaryRequests()
	if len(reqs) != 1 || reqs[0].URL != "https://one.example/h" {
		t.Fatalf("summary requests = %+v, want one, to hook 1 only", reqs)
	}
	k := delivery.RunKey{ClientID: testClient, IntegrationName: "shopify", RunID: "r1"}
	ms := func(d time.Duration) string { return t0.Add(d).UTC().Format("2006-01-02T15:04:05.000Z") }
	want := `{"version":"1.0","type":"run_completed","integration_name":"shopify","run_id":"r1","complete":true,` +
		`"started_at":"` + ms(0) + `","finished_at":"` + ms(5*time.Second) + `","tables":[` +
		`{"destination_table_name":"customers","status":"succeeded","num_rows":100,"num_rows_rejected":0},` +
		`{"destination_table_name":"orders","status":"succeeded","num_rows":100,"num_rows_rejected":0},` +
		`{"destination_table_name":"products","status":"succeeded","num_rows":100,"num_rows_rejected":0}]}`
	if diff := cmp.Diff(string(reqs[0].Body), want); diff != "" {
		t.Errorf("body (-got +want):\n%s", diff)
	}
	if reqs[0].LoadID != k.EventID() || reqs[0].WebhookID != hook.WebhookID(testClient, k.EventID(), 1) || reqs[0].Sequence != 0 {
		t.Errorf("request = %+v, want the run's event id and no sequence", reqs[0])
	}
	checkRunSchema(t, reqs[0].Body)

	// The timer, when due, finds the run claimed complete: nothing more.
	e.clock.advance(time.Hour)
	before := len(e.queue.on(retryURL))
	e.mustRun(t, retryEvent(timers[0].Body, timers[1].Body))
	if n := len(e.queue.on(retryURL)); n != before {
		t.Errorf("the timer of a complete run queued %d messages, want none", n-before)
	}
	// A late table (a fourth load) is a table load as usual, not counted.
	e.mustRun(t, sqsEvent(runLoadMessage(testClient, "L4", "late", "r1", 3)))
	if _, s := e.queuedRuns(before); len(s) != 0 {
		t.Errorf("a late table queued a summary: %+v", s)
	}
	if r := e.record(key("L4", 1)); r.Status != delivery.StatusDelivered {
		t.Errorf("late table's delivery = %+v, want delivered as a table load", r)
	}
}

func TestRunTimerChainsThenSendsWhatArrived(t *testing.T) {
	e := newEnv(t)
	e.h.cfg.RunWait = 40 * time.Minute
	subscribeRuns(e)
	e.mustRun(t, sqsEvent(runLoadMessage(testClient, "L1", "orders", "r1", 3)))
	timers, _ := e.queuedRuns(0)
	if len(timers) != 1 || timers[0].Delay != 900 {
		t.Fatalf("timers = %+v, want one delayed 900 s", timers)
	}
	// Each early arrival is put back for what is left, at most 15 minutes.
	body := timers[0].Body
	for _, want := range []int32{900, 600} {
		e.clock.advance(15 * time.Minute)
		n := len(e.queue.on(retryURL))
		e.mustRun(t, retryEvent(body))
		again, _ := e.queuedRuns(n)
		if len(again) != 1 || again[0].Delay != want || again[0].Body != body {
			t.Fatalf("early timer put back as %+v, want the same timer delayed %d s", again, want)
		}
	}
	e.clock.advance(10 * time.Minute)
	n := len(e.queue.on(retryURL))
	e.mustRun(t, retryEvent(body))
	e.mustRun(t, retryEvent(body)) // a redelivered timer queues the same summary again
	_, summaries := e.queuedRuns(n)
	if len(summaries) != 2 || summaries[0].Body != summaries[1].Body {
		t.Fatalf("summaries = %+v, want the same one twice", summaries)
	}
	e.mustRun(t, retryEvent(summaries[0].Body, summaries[1].Body))
	e.mustRun(t, retryEvent(summaries[0].Body))
	reqs := e.runSummaryRequests()
	if len(reqs) != 1 {
		t.Fatalf("summary requests = %d, want 1", len(reqs))
	}
	rc, err := notify.ParseRunCompleted(reqs[0].Body)
	if err != nil || rc.Complete || len(rc.Tables) != 1 || rc.Tables[0].DestinationTableName != "orders" {
		t.Errorf("summary = %+v, %v; want incomplete with orders", rc, err)
	}
	checkRunSchema(t, reqs[0].Body)
	// What arrives after the wait is a table load only.
	e.mustRun(t, sqsEvent(runLoadMessage(testClient, "L2", "customers", "r1", 3)))
	if _, s := e.queuedRuns(n + 2); len(s) != 0 {
		t.Errorf("a table after the timer's claim queued a summary")
	}
}

// The invocation that completes the run dies between the claim and the
// queueing (here: the summary's send fails): the redelivered load queues the
// same summary, which is sent once.
func TestRunCrashBetweenClaimAndQueue(t *testing.T) {
	e := newEnv(t)
	subscribeRuns(e)
	e.mustRun(t, sqsEvent(runLoadMessage(testClient, "L1", "orders", "r1", 2)))
	e.queue.failBody = func(b string) bool { return delivery.IsEvent([]byte(b)) }
	last := sqsEvent(runLoadMessage(testClient, "L2", "customers", "r1", 2))
	if failed, _ := e.run(t, last); len(failed) != 1 {
		t.Fatalf("failed = %v, want the record that could not queue its summary", failed)
	}
	if _, s := e.queuedRuns(0); len(s) != 0 {
		t.Fatalf("summaries = %+v, want none queued yet", s)
	}
	e.queue.failBody = nil
	e.mustRun(t, last)
	e.mustRun(t, last) // and once more: a loader re-sending the last load
	_, summaries := e.queuedRuns(0)
	if len(summaries) != 2 {
		t.Fatalf("summaries = %d, want 2 (the same one, re-queued)", len(summaries))
	}
	e.mustRun(t, retryEvent(summaries[0].Body))
	e.mustRun(t, retryEvent(summaries[1].Body))
	reqs := e.runSummaryRequests()
	if len(reqs) != 1 {
		t.Fatalf("summary requests = %d, want exactly 1", len(reqs))
	}
	if rc, _ := notify.ParseRunCompleted(reqs[0].Body); !rc.Complete || len(rc.Tables) != 2 {
		t.Errorf("summary = %s, want complete with 2 tables", reqs[0].Body)
	}
	if n := len(e.hooks.calls()); n != 1+2 {
		t.Errorf("requests = %d, want 2 table loads and 1 summary (no load sent twice)", n)
	}
}

// A hook without run_completed costs nothing: no run write, no timer, no
// summary, whatever the messages say.
func TestRunNotTrackedWithoutASubscriber(t *testing.T) {
	e := newEnv(t)
	// hook 2 subscribes, but it is otherDest's: loads of testDest are not tracked.
	h, _ := e.store.Hook(testClient, 2)
	h.EventTypes = []string{hook.EventRunCompleted}
	e.store.PutHook(h)
	e.mustRun(t, sqsEvent(runLoadMessage(testClient, "L1", "orders", "r1", 1), runLoadMessage(testClient, "L2", "customers", "r2", 2)))
	if n := e.store.Calls("AddRunLoad") + e.store.Calls("ClaimRun"); n != 0 {
		t.Errorf("run writes = %d, want none", n)
	}
	if m := e.queue.on(retryURL); len(m) != 0 {
		t.Errorf("queued %+v, want nothing", m)
	}
	if n := len(e.hooks.calls()); n != 2 {
		t.Errorf("requests = %d, want the 2 table loads to hook 1", n)
	}
}

// A run of one table is summed up by its only load, with no timer; a run
// only subscribed to (no table_loaded) still gets its summary.
func TestRunOfOneTableWithoutTableLoads(t *testing.T) {
	e := newEnv(t)
	h, _ := e.store.Hook(testClient, 1)
	h.EventTypes = []string{hook.EventRunCompleted}
	e.store.PutHook(h)
	e.mustRun(t, sqsEvent(runLoadMessage(testClient, "L1", "orders", "r1", 1)))
	timers, summaries := e.queuedRuns(0)
	if len(timers) != 0 || len(summaries) != 1 {
		t.Fatalf("timers %d, summaries %d; want 0 and 1", len(timers), len(summaries))
	}
	if n := len(e.hooks.calls()); n != 0 {
		t.Fatalf("requests = %d, want no table load", n)
	}
	e.mustRun(t, retryEvent(summaries[0].Body))
	if reqs := e.runSummaryRequests(); len(reqs) != 1 || !strings.Contains(string(reqs[0].Body), `"complete":true`) {
		t.Errorf("summary requests = %+v", reqs)
	}
}

func TestMalformedRunTimersAreDeadLettered(t *testing.T) {
	good := string(delivery.RunTimerMessage{Kind: delivery.KindRunTimer, ClientID: testClient, IntegrationName: "shopify",
		RunID: "r1", DueAt: time.Date(2026, 7, 15, 15, 0, 0, 0, time.UTC)}.Encode())
	for _, tt := range []struct{ name, body, reason string }{
		{"unknown key", strings.Replace(good, `"run_id":`, `"x":1,"run_id":`, 1),
			"invalid run timer message: keys are not exactly kind, client_id, integration_name, run_id, due_at"},
		{"no client", strings.Replace(good, `"client_id":116078`, `"client_id":0`, 1),
			"invalid run timer message: client_id: must be a positive integer"},
		{"empty run id", strings.Replace(good, `"run_id":"r1"`, `"run_id":""`, 1),
			"invalid run timer message: run_id: must not be empty"},
		{"bad time", strings.Replace(good, `"2026-07-15T15:00:00Z"`, `"soon"`, 1),
			"invalid run timer message: due_at: must be an RFC 3339 timestamp"},
		{"not JSON", `{"kind":"run_timer",`, "invalid run timer message: not valid JSON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			subscribeRuns(e)
			e.mustRun(t, retryEvent(tt.body))
			if got := e.queue.on(deadURL); len(got) != 1 || got[0].Reason != tt.reason || got[0].Body != tt.body {
				t.Errorf("dead letters = %+v, want the body with reason %q", got, tt.reason)
			}
			if n := e.store.Calls("ClaimRun"); n != 0 {
				t.Errorf("ClaimRun calls = %d, want none", n)
			}
		})
	}
}

// A failed load is sent to no hook but counted in its run, with its
// tables as failed, when its notification is valid; without one it is in
// no run.
func TestRunCountsFailedLoads(t *testing.T) {
	e := newEnv(t)
	subscribeRuns(e)
	failed := func(loadID, table string) string {
		return strings.Replace(runLoadMessage(testClient, loadID, table, "r1", 3), `"status":"succeeded"`, `"status":"failed"`, 1)
	}
	noNotification := strings.SplitN(failed("L9", "x"), `,"notification":`, 2)[0] + "}"
	e.mustRun(t, sqsEvent(runLoadMessage(testClient, "L1", "orders", "r1", 3), failed("L2", "customers"), noNotification))
	e.mustRun(t, sqsEvent(failed("L3", "products")))
	_, summaries := e.queuedRuns(0)
	if len(summaries) != 1 {
		t.Fatalf("summaries = %d, want 1", len(summaries))
	}
	e.mustRun(t, retryEvent(summaries[0].Body))
	reqs := e.runSummaryRequests()
	if len(reqs) != 1 {
		t.Fatalf("summary requests = %d, want 1", len(reqs))
	}
	rc, err := notify.ParseRunCompleted(reqs[0].Body)
	if err != nil || !rc.Complete {
		t.Fatalf("summary %s: %v, want complete", reqs[0].Body, err)
	}
	var got []string
	for _, tb := range rc.Tables {
		got = append(got, tb.DestinationTableName+":"+tb.Status)
	}
	slices.Sort(got)
	if want := []string{"customers:failed", "orders:succeeded", "products:failed"}; !slices.Equal(got, want) {
		t.Errorf("tables = %v, want %v", got, want)
	}
	checkRunSchema(t, reqs[0].Body)
	if n := len(e.hooks.calls()); n != 2 {
		t.Errorf("requests = %d, want orders' table load and the summary", n)
	}
}

// A run's times are when its loads reached the queue (SentTimestamp, the
// same on every redelivery), not when the dispatcher got to them.
func TestArrivedAt(t *testing.T) {
	now := time.Date(2026, 12, 3, 7, 33, 40, 0, time.UTC)
	rec := func(sent string) events.SQSMessage {
		return events.SQSMessage{Attributes: map[string]string{"SentTimestamp": sent}}
	}
	for _, c := range []struct {
		r    events.SQSMessage
		want time.Time
	}{
		{rec("1796283208013"), time.UnixMilli(1796283208013).UTC()},
		{events.SQSMessage{}, now},
		{rec(""), now},
		{rec("soon"), now},
		{rec("-5"), now},
		{rec("0"), now},
	} {
		if got := arrivedAt(c.r, now); !got.Equal(c.want) {
			t.Errorf("arrivedAt(%v) = %v, want %v", c.r.Attributes, got, c.want)
		}
	}
}
