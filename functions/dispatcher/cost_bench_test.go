package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postloadhooks/hooks/scripts/devkit/awsmeter"
	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/shared/coldstart"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

// BenchmarkDeliveryCost counts what a successful delivery is billed for,
// on DynamoDB Local, through the real handler. One op is one SQS
// batch of 10 load messages:
//
//   - hooks=10: an account with 10 hooks, every first attempt succeeds;
//   - hooks=1: an account with 1 hook;
//   - hooks=10,tables=10: as hooks=10, but each load of a batch is of its
//     own table, so each takes its webhook-sequence in its own counter write
//     (the loads of one table in one batch share one);
//   - hooks=10,freshness: hooks=10 with a freshness rule on the loads'
//     table: the batch records its table's last load (one write, shared
//     by the batch's loads of that table);
//   - hooks=10,freshness,10-tables: each load of a batch is of another
//     ruled table, so each load records its own (the most it costs);
//   - hooks=10,run: hooks=10, every hook also subscribed to run_completed,
//     and each batch's 10 loads one run of 10 tables: each load adds its
//     run write, the run's first load queues its timer, its last claims
//     and queues the summary, which the benchmark hands back to the handler
//     (10 more deliveries, not counted as deliveries here), and so is the
//     timer, due at once (HOOKS_RUN_WAIT 1 ns), which finds the run
//     claimed: so the figures are what a run adds per table delivery;
//   - retry: 10 hooks on the receiver's flaky path, so every delivery fails
//     once (a result, a retry message) and succeeds on its retry, which the
//     benchmark hands back to the handler in batches of 10 as the retry
//     queue's event source would;
//   - outage: 10 hooks on the receiver's down path, which answers every
//     attempt 502 with a 1.5 KiB error page (the record keeps its first
//     1 KiB): every pair's 6 attempts fail and its last sends one alert.
//     Nothing is delivered, so its figures are per exhausted pair (the
//     "delivery" of its metric names).
//
// DynamoDB requests and capacity units are counted by the dev kit's SDK
// meter (awsmeter, which asks for ReturnConsumedCapacity); retry messages by
// the fake queue, whose payloads the meter's 64 KiB rule turns into chunks.
// The handler's duration, its log bytes (the production logger and metric
// lines) and its invocations are measured per successful delivery, for the
// Lambda and CloudWatch Logs parts of the cost (scripts/devkit/cmd/bench).
// No CPU is reported: BenchmarkDelivery measures that without the meter.
func BenchmarkDeliveryCost(b *testing.B) {
	rcv := startBenchReceiver(b, false)
	db, table := devstack.DynamoDB(b)
	st := store.New(db, table, time.Now)
	urls := func(prefix string, n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("%s%s%d", rcv.url, prefix, i+1))
		}
		return out
	}
	cases := []struct {
		name  string
		cid   int64
		urls  []string
		retry bool
		// outage: every attempt fails; retries are handed back until each
		// pair is exhausted.
		outage bool
		// tables: each load of a batch is of its own table (benchTable).
		tables bool
		rules  int  // freshness rules on tables orders, orders1, ...
		runs   bool // every hook subscribed to run_completed; each batch one run
	}{
		{"hooks=10", benchClient + 1, urls("/hooks/", benchHooks), false, false, false, 0, false},
		{"hooks=1", benchClient + 2, urls("/hooks/", 1), false, false, false, 0, false},
		{"hooks=10,tables=10", benchClient + 4, urls("/hooks/", benchHooks), false, false, true, 0, false},
		{"retry", benchClient + 3, urls(flakyPrefix, benchHooks), true, false, false, 0, false},
		{"outage", benchClient + 8, urls(downPrefix, benchHooks), false, true, false, 0, false},
		{"hooks=10,freshness", benchClient + 5, urls("/hooks/", benchHooks), false, false, false, 1, false},
		{"hooks=10,freshness,10-tables", benchClient + 6, urls("/hooks/", benchHooks), false, false, true, benchRecords, false},
		{"hooks=10,run", benchClient + 7, urls("/hooks/", benchHooks), false, false, false, 0, true},
	}
	calls := 0 // b.Run may call a case more than once: load ids stay unique
	for _, c := range cases {
		seedAccount(b, st, c.cid, c.urls)
		if c.rules > 0 {
			var rules []hook.FreshnessRule
			for i := range c.rules {
				rules = append(rules, hook.FreshnessRule{IntegrationName: "shopify", Table: benchTable(i), MaxInterval: "2h", Interval: 2 * time.Hour})
			}
			if _, err := st.PutFreshnessRules(context.Background(), hook.Principal{ClientID: c.cid, MemberID: "bench"}, rules); err != nil {
				b.Fatal(err)
			}
		}
		if c.runs {
			subscribeAllToRuns(b, st, c.cid)
		}
		b.Run(c.name, func(b *testing.B) {
			calls++
			meter := awsmeter.New()
			awsCfg := quietAWSConfig(b)
			awsCfg.APIOptions = append(awsCfg.APIOptions, meter.Middleware)
			var logs byteCounter
			h, err := newHandler(benchConfig(b, table, rcv.caFile, fakeQueues()), awsCfg,
				coldstart.NewLogger(func(string) string { return "" }, &logs), &logs)
			if err != nil {
				b.Fatal(err)
			}
			q := &fakeQueue{}
			h.queue = q
			h.cfg.RunWait = time.Nanosecond // the run's timer is due when handed back
			r := costRun{b: b, h: h, q: q, cid: c.cid, hooks: len(c.urls), retry: c.retry, outage: c.outage, tables: c.tables, runs: c.runs}
			r.batch(fmt.Sprintf("cost%d-warm", calls), 0) // opens the connections
			before, logs0, sent0 := meter.Snapshot(), logs.n.Load(), len(q.all())
			r.invocations, r.records, r.busy = 0, 0, 0
			b.ResetTimer()
			for i := range b.N {
				r.batch(fmt.Sprintf("cost%d", calls), i)
			}
			b.StopTimer()
			got := meter.Snapshot().Sub(before)
			deliveries := float64(b.N * benchRecords * len(c.urls))
			chunks := 0
			for _, m := range q.all()[sent0:] {
				chunks += awsmeter.Chunks(int64(len(m.Body)))
			}
			b.ReportMetric(float64(got.Service("DynamoDB"))/deliveries, "ddb-req/delivery")
			b.ReportMetric(got.WriteUnits/deliveries, "ddb-wcu/delivery")
			b.ReportMetric(got.ReadUnits/deliveries, "ddb-rcu/delivery")
			b.ReportMetric(float64(got.FailedConditions)/deliveries, "ddb-failed-conditions/delivery")
			b.ReportMetric(float64(got.Unreported)/deliveries, "ddb-unreported/delivery")
			b.ReportMetric(float64(len(q.all())-sent0)/deliveries, "sqs-sends/delivery")
			b.ReportMetric(float64(chunks)/deliveries, "sqs-send-chunks/delivery")
			b.ReportMetric(float64(r.records)/deliveries, "records/delivery")
			b.ReportMetric(float64(r.invocations)/deliveries, "invocations/delivery")
			b.ReportMetric(float64(r.busy.Microseconds())/1000/deliveries, "lambda-ms/delivery")
			b.ReportMetric(float64(logs.n.Load()-logs0)/deliveries, "log-bytes/delivery")
		})
	}
}

// costRun hands batches to the handler and keeps the invocation figures.
type costRun struct {
	b           *testing.B
	h           *handler
	q           *fakeQueue
	cid         int64
	hooks       int // of the account
	retry       bool
	outage      bool // every attempt fails: handed back until exhausted
	tables      bool // each load of a batch of another table (benchTable)
	runs        bool // the batch is one run: its timer and summary are handed back
	seen        int  // messages of q already handed back
	invocations int
	records     int
	busy        time.Duration // the handler's time in its invocations
}

// batch handles batch i of 10 loads and, on the retry path, the retry
// messages it left (every delivery must leave exactly one); in an outage it
// hands the retries back, round after round, until every pair has run out
// of attempts and sent its one alert. Nothing else may be sent.
func (r *costRun) batch(prefix string, i int) {
	ev := benchBatchOf(r.cid, prefix, i)
	if r.tables {
		for j := range ev.Records {
			ev.Records[j].Body = strings.Replace(ev.Records[j].Body, `"destination_root_table_name":"orders"`,
				`"destination_root_table_name":"`+benchTable(j)+`"`, 1)
		}
	}
	if r.runs {
		for j := range ev.Records {
			ev.Records[j].Body = strings.Replace(ev.Records[j].Body, `{"client_id":`,
				fmt.Sprintf(`{"run":{"id":"%s-%d","tables":%d},"client_id":`, prefix, i, len(ev.Records)), 1)
		}
	}
	r.invoke(ev)
	if r.runs {
		r.runFollowUps(i)
	}
	deliveries := len(ev.Records) * r.hooks
	retries, alerts := r.sent(i)
	switch {
	case alerts > 0:
		r.b.Fatalf("batch %d: %d alerts after first attempts", i, alerts)
	case !r.retry && !r.outage:
		if len(retries) > 0 {
			r.b.Fatalf("batch %d: %d retries on the success path", i, len(retries))
		}
		return
	case len(retries) != deliveries:
		r.b.Fatalf("batch %d: %d retry messages for %d failed deliveries", i, len(retries), deliveries)
	}
	for len(retries) > 0 {
		for len(retries) > 0 {
			n := min(benchRecords, len(retries))
			r.invoke(events.SQSEvent{Records: retries[:n]})
			retries = retries[n:]
		}
		var more int
		retries, more = r.sent(i)
		alerts += more
		if !r.outage && (len(retries) > 0 || alerts > 0) {
			r.b.Fatalf("batch %d: the retries sent %d retries and %d alerts", i, len(retries), alerts)
		}
	}
	if r.outage && alerts != deliveries {
		r.b.Fatalf("batch %d: %d alerts for %d exhausted pairs", i, alerts, deliveries)
	}
}

// sent returns the retry messages (as the retry queue's event source would
// hand them back) and counts the alerts sent since the last call; batch i
// may send nothing else.
func (r *costRun) sent(i int) (retries []events.SQSMessage, alerts int) {
	msgs := r.q.all()
	for _, m := range msgs[r.seen:] {
		switch {
		case m.Queue == retryURL:
			retries = append(retries, events.SQSMessage{MessageId: fmt.Sprintf("retry-%d", len(retries)), Body: m.Body, EventSourceARN: retriesARN})
		case m.Queue == alertURL && r.outage:
			alerts++
		default:
			r.b.Fatalf("batch %d: a message to %s: %s", i, m.Queue, m.Body)
		}
	}
	r.seen = len(msgs)
	return retries, alerts
}

// runFollowUps hands the run's timer and summary (exactly one each) back
// to the handler in one invocation, as the retry queue's event source
// would; the summary's deliveries must leave nothing queued.
func (r *costRun) runFollowUps(i int) {
	var timers, summaries []events.SQSMessage
	for _, m := range r.q.all()[r.seen:] {
		rec := events.SQSMessage{MessageId: fmt.Sprintf("run-%d", len(timers)+len(summaries)), Body: m.Body, EventSourceARN: retriesARN}
		switch {
		case delivery.IsRunTimer([]byte(m.Body)):
			timers = append(timers, rec)
		case delivery.IsEvent([]byte(m.Body)):
			summaries = append(summaries, rec)
		default:
			r.b.Fatalf("batch %d: a message other than the run's: %s", i, m.Body)
		}
	}
	if len(timers) != 1 || len(summaries) != 1 {
		r.b.Fatalf("batch %d: %d timers and %d summaries, want 1 and 1", i, len(timers), len(summaries))
	}
	r.seen = len(r.q.all())
	r.invoke(events.SQSEvent{Records: append(timers, summaries...)})
	r.seen = len(r.q.all())
}

// subscribeAllToRuns subscribes every hook of cid to table loads and run
// summaries.
func subscribeAllToRuns(tb testing.TB, st *store.Store, cid int64) {
	tb.Helper()
	ctx := context.Background()
	hooks, err := st.ListHooks(ctx, cid)
	if err != nil {
		tb.Fatal(err)
	}
	for _, hk := range hooks {
		if _, err := st.SetHookSubscription(ctx, hook.Principal{ClientID: cid, MemberID: "bench"}, hk.ID,
			hook.SubscriptionUpdate{Events: []string{hook.EventTableLoaded, hook.EventRunCompleted}}); err != nil {
			tb.Fatal(err)
		}
	}
}

// invoke is one invocation; it must succeed for every record.
func (r *costRun) invoke(ev events.SQSEvent) {
	t0 := time.Now()
	resp, err := r.h.handle(context.Background(), ev)
	r.busy += time.Since(t0)
	r.invocations++
	r.records += len(ev.Records)
	if err != nil || len(resp.BatchItemFailures) > 0 {
		r.b.Fatalf("invocation: %v %v", err, resp.BatchItemFailures)
	}
}

// benchTable is the i-th ruled table of the freshness cases.
func benchTable(i int) string {
	if i == 0 {
		return "orders"
	}
	return fmt.Sprintf("orders%d", i)
}

// byteCounter is an io.Writer that counts and drops the log lines it is
// given, as many bytes as they would take in Lambda: there the logger
// (lambdacontext's, see coldstart.NewLogger) adds the invocation's
// requestId to every line, which the bench's logger, outside Lambda, cannot.
type byteCounter struct{ n atomic.Int64 }

// lambdaRequestID is what lambdacontext's logger adds to each line:
// ,"requestId":"<a 36-character UUID>".
const lambdaRequestID = len(`,"requestId":""`) + 36

func (c *byteCounter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p) + lambdaRequestID*bytes.Count(p, []byte("\n"))))
	return len(p), nil
}
