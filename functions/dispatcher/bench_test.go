package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"

	"github.com/postloadhooks/hooks/scripts/devkit/awsmeter"
	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/scripts/devkit/eventsource"
	kit "github.com/postloadhooks/hooks/scripts/devkit/receiver"
	"github.com/postloadhooks/hooks/shared/coldstart"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/notify"
	"github.com/postloadhooks/hooks/shared/store"
	"github.com/postloadhooks/hooks/shared/store/memstore"
)

// Benchmarks of the delivery path (scripts/bench runs them with
// enough iterations, scripts/test once each so they do not rot).
//
// BenchmarkDelivery: one op is one SQS batch of 10 load messages of an
// account with 10 hooks, i.e. 100 deliveries, through the real handler and
// the real webhook client to a TLS receiver running in a child process (so
// the receiver's CPU is not counted). The floor posts the same 100 bodies
// to the same receiver with a plain keep-alive net/http client.
//
// BenchmarkEndToEnd: one op is one load notification (10 deliveries) put on
// the SQS emulator and carried to the receiver, the benchmark acting as
// Lambda's SQS event source (in process, like the integration tests: it is
// reliable and lets SDK middleware count DynamoDB requests).

const (
	benchClient  = int64(424242)
	benchHooks   = hook.MaxHooks // hooks of the account
	benchRecords = 10            // records per SQS batch (the template's BatchSize)
)

// benchNotification is a realistic load notification (the documented
// webhook body, shared/notify/README.md).
const benchNotification = `{"version":"1.0","minimum_sdc_batched_at":"2026-07-15T14:45:08.026Z","integration_name":"shopify",` +
	`"new_version":false,"source_root_table_name":"orders","destination_root_table_name":"orders","table_version":0,` +
	`"tables":[{"source_table_name":"orders","destination_table_name":"orders","num_rows":100,"num_rows_rejected":11,` +
	`"s3_objects":["stitch-s3-bucket/orders/0_1563294550038.jsonl"],` +
	`"bookmark_metadata":[{"key":"updated_at","max_value":"2026-06-30T00:00:00Z","min_value":"2026-06-01T00:00:00Z"}],` +
	`"max_time_extracted":"2026-07-15T14:43:09.030Z"},` +
	`{"source_table_name":"orders__order_items","destination_table_name":"orders__order_items","num_rows":340,"num_rows_rejected":0,` +
	`"s3_objects":["stitch-s3-bucket/orders__order_items/0_1563294550038.jsonl"],"bookmark_metadata":null}]}`

func benchLoad(cid int64, loadID string) string {
	return fmt.Sprintf(`{"client_id":%d,"load_id":%q,"status":"succeeded","notification":%s}`, cid, loadID, benchNotification)
}

// ---- the receiver, in a child process --------------------------------------

// flakyPrefix is the receiver's path under which the first attempt of each
// webhook id is answered 503 and every later one 204 (the retry path).
const flakyPrefix = "/flaky/"

// downPrefix is the receiver's path under which every attempt is answered
// 502 with downPage (a receiver in an outage).
const downPrefix = "/down/"

// downPage is the down path's answer: an edge proxy's HTML error page of
// about 1.5 KiB, of which the record keeps the first 1 KiB, with the
// request's own id near its top (so no two answers are the same).
func downPage(requestID string) []byte {
	return []byte(`<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="utf-8">
<title>orders-sync.example.com | 502: Bad gateway</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="request-id" content="` + requestID + `">
<style>body{margin:0;font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#404040;background:#fff}
.wrap{max-width:60rem;margin:0 auto;padding:2.5rem 1rem}h1{font-size:2.25rem;font-weight:300;margin:0 0 .5rem}
.code{font-size:1rem;color:#999;letter-spacing:.05em}.status{display:flex;gap:2rem;margin:2rem 0;border-top:1px solid #eee;padding-top:1.5rem}
.status div{flex:1}.ok{color:#2c7a3f}.err{color:#bd2426}footer{font-size:.8rem;color:#777;border-top:1px solid #eee;padding-top:1rem}</style>
</head>
<body><div class="wrap">
<h1>Bad gateway <span class="code">Error code 502</span></h1>
<p>Visit <a href="https://status.example.com">our status page</a> for more information.</p>
<div class="status"><div><h2>You</h2><p class="ok">Browser: Working</p></div><div><h2>Edge, Frankfurt</h2><p class="ok">Working</p></div>
<div><h2>orders-sync.example.com</h2><p class="err">Host: Error</p></div></div>
<h2>What happened?</h2><p>The web server reported a bad gateway error. The origin did not answer in time.</p>
<h2>What can I do?</h2><p>Please try again in a few minutes.</p>
<footer>Request ID: ` + requestID + ` &bull; Performance &amp; security by ExampleEdge</footer>
</div></body></html>
`)
}

// TestBenchReceiverProcess is not a test: it is the webhook receiver the
// benchmarks start as a child process (the os/exec helper-process pattern):
// the dev kit's receiver, answering 204 to any path (but see flakyPrefix). It serves HTTPS on a
// loopback port, writes its certificate to
// $HOOKS_BENCH_RECEIVER_DIR/ca.pem, prints its URL on stdout, and with
// HOOKS_BENCH_RECEIPTS=1 prints "R <webhook-id> <unix nanos>" per request;
// it prints "+conn" per accepted connection. It exits when its stdin closes.
func TestBenchReceiverProcess(t *testing.T) {
	dir := os.Getenv("HOOKS_BENCH_RECEIVER_DIR")
	if dir == "" {
		t.Skip("helper process of the benchmarks")
	}
	out := bufio.NewWriter(os.Stdout)
	receipts := make(chan string, 4096)
	logReceipts := os.Getenv("HOOKS_BENCH_RECEIPTS") == "1"
	cfg, ca, err := kit.NewTLS()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := kit.New()
	var failed sync.Map // webhook ids a flaky path has failed once
	srv.Handle("", kit.Route{Respond: func(d kit.Delivery) kit.Answer {
		if logReceipts {
			receipts <- "R " + d.Header.Get("webhook-id") + " " + strconv.FormatInt(d.At.UnixNano(), 10)
		}
		if strings.HasPrefix(d.Path, flakyPrefix) {
			if _, again := failed.LoadOrStore(d.Header.Get("webhook-id"), true); !again {
				return kit.Answer{Status: http.StatusServiceUnavailable}
			}
		}
		if strings.HasPrefix(d.Path, downPrefix) {
			return kit.Answer{Status: http.StatusBadGateway, Body: downPage(fmt.Sprintf("%016x", rand.Uint64()))}
		}
		return kit.Answer{Status: http.StatusNoContent}
	}})
	l := kit.NewListener("127.0.0.1:0", srv, cfg)
	l.OnConn = func() { receipts <- "+conn" }
	if err := l.Up(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), ca, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintln(out, l.URL())
	out.Flush()
	go func() {
		for line := range receipts {
			fmt.Fprintln(out, line)
			if len(receipts) == 0 {
				out.Flush()
			}
		}
	}()
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// benchReceiver is the running child process.
type benchReceiver struct {
	url    string
	caFile string
	roots  *x509.CertPool
	pid    int          // the child process
	conns  atomic.Int64 // connections the receiver accepted
	mu     sync.Mutex
	onRecv func(webhookID string, at time.Time)
}

func startBenchReceiver(tb testing.TB, receipts bool) *benchReceiver {
	tb.Helper()
	dir := tb.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchReceiverProcess$")
	cmd.Env = append(os.Environ(), "HOOKS_BENCH_RECEIVER_DIR="+dir, "GOMAXPROCS=1")
	if receipts {
		cmd.Env = append(cmd.Env, "HOOKS_BENCH_RECEIPTS=1")
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	lines := bufio.NewScanner(stdout)
	urlc := make(chan string, 1)
	r := &benchReceiver{caFile: filepath.Join(dir, "ca.pem"), pid: cmd.Process.Pid}
	go func() {
		first := true
		for lines.Scan() {
			line := lines.Text()
			if first {
				urlc <- line
				first = false
				continue
			}
			if line == "+conn" {
				r.conns.Add(1)
				continue
			}
			id, nanos, ok := strings.Cut(strings.TrimPrefix(line, "R "), " ")
			n, err := strconv.ParseInt(nanos, 10, 64)
			if !ok || err != nil {
				continue
			}
			r.mu.Lock()
			f := r.onRecv
			r.mu.Unlock()
			if f != nil {
				f(id, time.Unix(0, n))
			}
		}
		close(urlc)
	}()
	select {
	case u, ok := <-urlc:
		if !ok {
			tb.Fatal("receiver process ended before printing its URL")
		}
		r.url = u
	case <-time.After(30 * time.Second):
		tb.Fatal("receiver process did not start within 30s")
	}
	ca, err := os.ReadFile(r.caFile)
	if err != nil {
		tb.Fatal(err)
	}
	r.roots = x509.NewCertPool()
	r.roots.AppendCertsFromPEM(ca)
	return r
}

func (r *benchReceiver) hookURL(i int) string { return r.url + "/hooks/" + strconv.Itoa(i) }

// floorClient is the physical floor: net/http with keep-alive, enough idle
// connections for a whole batch, nothing else.
func (r *benchReceiver) floorClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: r.roots},
		MaxIdleConnsPerHost: benchRecords * benchHooks,
		ForceAttemptHTTP2:   true,
	}}
}

func floorPost(c *http.Client, url, webhookID string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", webhookID)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// ---- measuring ---------------------------------------------------------------

// cpuMeter measures process CPU time (user+system, all threads) and heap
// allocations around a loop.
type cpuMeter struct {
	cpu      time.Duration
	mallocs  uint64
	wall     time.Time
	rcv      *benchReceiver
	conns    int64
	awsDials *atomic.Int64 // connections the AWS SDK clients opened; nil without them
	dials    int64
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startMeter(rcv *benchReceiver, awsDials *atomic.Int64) cpuMeter {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := cpuMeter{cpu: processCPU(), mallocs: ms.Mallocs, wall: time.Now(), rcv: rcv, conns: rcv.conns.Load(), awsDials: awsDials}
	if awsDials != nil {
		m.dials = awsDials.Load()
	}
	return m
}

// report adds cpu-µs/delivery, allocs/delivery, deliveries/s and the
// receiver's new connections per delivery (0 when every one is reused) to b,
// and the AWS SDK's new connections per delivery when they are counted.
func (m cpuMeter) report(b *testing.B, deliveries int) {
	time.Sleep(50 * time.Millisecond) // let the receiver's last lines arrive
	b.ReportMetric(float64(m.rcv.conns.Load()-m.conns)/float64(deliveries), "conns/delivery")
	if m.awsDials != nil {
		b.ReportMetric(float64(m.awsDials.Load()-m.dials)/float64(deliveries), "aws-conns/delivery")
	}
	wall := time.Since(m.wall)
	cpu := processCPU() - m.cpu
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(cpu.Microseconds())/float64(deliveries), "cpu-µs/delivery")
	b.ReportMetric(float64(ms.Mallocs-m.mallocs)/float64(deliveries), "allocs/delivery")
	b.ReportMetric(float64(deliveries)/wall.Seconds(), "deliveries/s")
}

// ---- BenchmarkDelivery --------------------------------------------------------

func benchConfig(tb testing.TB, table, ca string, q devstack.Queues) config {
	tb.Helper()
	env := map[string]string{
		"HOOKS_TABLE":                 table,
		"HOOKS_RETRY_QUEUE_URL":       q.Retry,
		"HOOKS_ALERT_QUEUE_URL":       q.Alerts,
		"HOOKS_DEAD_LETTER_QUEUE_URL": q.NotificationsDLQ,
		// The benchmark builds its records itself, from the notifications
		// queue (the end-to-end one receives them from it).
		"HOOKS_NOTIFICATIONS_QUEUE_ARN": loadsARN,
		"HOOKS_RETRY_QUEUE_ARN":         retriesARN,
		"HOOKS_ALLOW_PRIVATE_TARGETS":   "true",
		"HOOKS_EXTRA_CA_FILE":           ca,
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

func fakeQueues() devstack.Queues {
	return devstack.Queues{Retry: retryURL, Alerts: alertURL, NotificationsDLQ: deadURL}
}

// benchBatch is batch i of the benchmark: 10 fresh loads.
func benchBatch(prefix string, i int) events.SQSEvent { return benchBatchOf(benchClient, prefix, i) }

// benchBatchOf is batch i of 10 fresh loads of account cid.
func benchBatchOf(cid int64, prefix string, i int) events.SQSEvent {
	var ev events.SQSEvent
	for r := range benchRecords {
		id := fmt.Sprintf("%s-%d-%d", prefix, i, r)
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: id, Body: benchLoad(cid, id), EventSourceARN: loadsARN})
	}
	return ev
}

// runHandlerBatches hands b.N batches to h, each must deliver every job.
// awsDials, when not nil, counts the connections h's AWS clients open.
func runHandlerBatches(b *testing.B, h *handler, rcv *benchReceiver, prefix string, awsDials *atomic.Int64) {
	b.Helper()
	ctx := context.Background()
	// A first batch outside the measurement opens the connections.
	if resp, err := h.handle(ctx, benchBatch(prefix+"-warm", 0)); err != nil || len(resp.BatchItemFailures) > 0 {
		b.Fatalf("warm-up batch: %v %v", err, resp.BatchItemFailures)
	}
	b.ResetTimer()
	m := startMeter(rcv, awsDials)
	for i := range b.N {
		resp, err := h.handle(ctx, benchBatch(prefix, i))
		if err != nil || len(resp.BatchItemFailures) > 0 {
			b.Fatalf("batch %d: %v %v", i, err, resp.BatchItemFailures)
		}
	}
	b.StopTimer()
	m.report(b, b.N*benchRecords*benchHooks)
}

func BenchmarkDelivery(b *testing.B) {
	rcv := startBenchReceiver(b, false)
	msg, err := notify.Parse([]byte(benchLoad(benchClient, "x")))
	if err != nil {
		b.Fatal(err)
	}
	body := msg.Body

	b.Run("floor", func(b *testing.B) {
		c := rcv.floorClient()
		defer c.CloseIdleConnections()
		post := func(i int) {
			var wg sync.WaitGroup
			var failed atomic.Int32
			for r := range benchRecords {
				for k := range benchHooks {
					wg.Go(func() {
						id := hook.WebhookID(benchClient, fmt.Sprintf("floor-%d-%d", i, r), int64(k+1))
						if err := floorPost(c, rcv.hookURL(k+1), id, body); err != nil {
							failed.Add(1)
						}
					})
				}
			}
			wg.Wait()
			if failed.Load() > 0 {
				b.Fatalf("floor batch %d: %d posts failed", i, failed.Load())
			}
		}
		post(-1)
		b.ResetTimer()
		m := startMeter(rcv, nil)
		for i := range b.N {
			post(i)
		}
		b.StopTimer()
		m.report(b, b.N*benchRecords*benchHooks)
	})

	b.Run("handler/store=fake", func(b *testing.B) {
		h, err := newHandler(benchConfig(b, "bench", rcv.caFile, fakeQueues()), aws.Config{Region: "us-east-1"}, testLogger(io.Discard), io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		var hooks []hook.Hook
		for i := range benchHooks {
			hooks = append(hooks, hook.Hook{ID: int64(i + 1), ClientID: benchClient, URL: rcv.hookURL(i + 1), Secret: hook.NewSecret()})
		}
		st := memstore.New(time.Now)
		st.PutAccount(hook.Account{ClientID: benchClient, Plan: "advanced"})
		st.SetHooks(benchClient, hooks)
		h.accounts, h.deliveries = st, st
		h.queue = &fakeQueue{}
		runHandlerBatches(b, h, rcv, "fake", nil)
	})

	b.Run("handler/store=dynamodb", func(b *testing.B) {
		awsCfg := quietAWSConfig(b)
		var dials atomic.Int64
		awsCfg.HTTPClient = awsCfg.HTTPClient.(*awshttp.BuildableClient).WithDialerOptions(func(d *net.Dialer) {
			d.Control = func(string, string, syscall.RawConn) error { dials.Add(1); return nil }
		})
		db, table := devstack.DynamoDB(b)
		seedBenchAccount(b, store.New(db, table, time.Now), benchClient, rcv)
		h, err := newHandler(benchConfig(b, table, rcv.caFile, fakeQueues()), awsCfg, testLogger(io.Discard), io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		h.queue = &fakeQueue{}
		runHandlerBatches(b, h, rcv, "ddb", &dials)
	})
}

// quietAWSConfig is the configuration the function itself builds
// (coldstart.AWSConfig: its HTTP client and connection limits are part of
// what is measured), after devstack.AWSConfig's check that the emulators
// are there, and without the SDK's warnings (DynamoDB Local's answers make it
// warn about unread response bodies), which would break the lines of the
// benchmark output.
func quietAWSConfig(tb testing.TB) aws.Config {
	tb.Helper()
	devstack.AWSConfig(tb)
	cfg, err := coldstart.AWSConfig(context.Background(), slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Logger = logging.Nop{}
	return cfg
}

// seedBenchAccount creates an account with the feature and 10 hooks on rcv.
func seedBenchAccount(tb testing.TB, st *store.Store, cid int64, rcv *benchReceiver) {
	tb.Helper()
	var urls []string
	for i := range benchHooks {
		urls = append(urls, rcv.hookURL(i+1))
	}
	seedAccount(tb, st, cid, urls)
}

// seedAccount creates an account with the feature and one hook per URL.
func seedAccount(tb testing.TB, st *store.Store, cid int64, urls []string) {
	tb.Helper()
	ctx := context.Background()
	if _, err := st.CreateAccount(ctx, hook.Account{ClientID: cid, Plan: "advanced", AlertEmails: []string{"ops@example.com"}, Destinations: []hook.Destination{{ID: testDest, Type: "s3"}}}); err != nil {
		tb.Fatal(err)
	}
	m, _, err := st.CreateMember(ctx, cid, "dev@example.com")
	if err != nil {
		tb.Fatal(err)
	}
	for _, u := range urls {
		if _, err := st.CreateHook(ctx, hook.Principal{ClientID: cid, MemberID: m.ID}, testDest, u, hook.NewSecret()); err != nil {
			tb.Fatal(err)
		}
	}
}

// ---- BenchmarkEndToEnd ------------------------------------------------------

// e2eTimeout bounds one end-to-end run, whatever b.N.
const e2eTimeout = 3 * time.Minute

// e2eConcurrency is the event source's concurrency: the template's
// MaximumConcurrency would allow more, but ten batches in flight (a
// function concurrency of 10) already keep this 2-core machine's emulators
// busy. The event source runs as scripts/dev runs it (eventsource.Run:
// five workers, growing with the backlog). Each side runs in that many
// environments (see environments), started cold for each run.
const e2eConcurrency = 10

// environments are a function's execution environments: Lambda runs one
// invocation at a time in each, with the environment's own clients and
// connection pools, so a burst at a concurrency of n runs in n of them.
type environments[T any] struct {
	all  []T
	free chan T
}

func newEnvironments[T any](n int, start func() T) *environments[T] {
	e := &environments[T]{free: make(chan T, n)}
	for range n {
		v := start()
		e.all = append(e.all, v)
		e.free <- v
	}
	return e
}

func (e *environments[T]) take() T  { return <-e.free }
func (e *environments[T]) give(v T) { e.free <- v }

func (e *environments[T]) each(f func(T)) {
	for _, v := range e.all {
		f(v)
	}
}

// e2eRun is one end-to-end run: b.N loads enqueued, consumed by consume.
type e2eRun struct {
	sqs      *sqs.Client
	queueURL string
	rcv      *benchReceiver
	consume  func(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse
}

// run enqueues b.N loads and waits until every delivery reached the
// receiver; it reports deliveries/s and enqueue->receipt percentiles and
// returns how many batches the pollers handed over.
func (e e2eRun) run(b *testing.B, prefix string) int {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()

	total := b.N * benchHooks
	enqueued := make(map[string]time.Time, total) // webhook id -> enqueue time
	var mu sync.Mutex
	var latencies []time.Duration
	seen := map[string]bool{}
	var last time.Time
	done := make(chan struct{})
	e.rcv.mu.Lock()
	e.rcv.onRecv = func(id string, at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		t0, ok := enqueued[id]
		if !ok || seen[id] {
			return
		}
		seen[id] = true
		latencies = append(latencies, at.Sub(t0))
		last = at
		if len(seen) == total {
			close(done)
		}
	}
	e.rcv.mu.Unlock()
	defer func() {
		e.rcv.mu.Lock()
		e.rcv.onRecv = nil
		e.rcv.mu.Unlock()
	}()

	var batches, left atomic.Int64 // batches handed over; records left for redelivery
	var pollers sync.WaitGroup
	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	var timed e2eTimes
	p := e.poller(b, &timed)
	p.OnBatch = func(res eventsource.BatchResult, err error) {
		switch {
		case errors.Is(err, eventsource.ErrNotDeleted):
			b.Logf("poll: %v", err) // a stale receipt handle: the message was received again
		case err != nil && res.Received > 0:
			b.Errorf("poll: %v", err) // the batch ran; deleting it failed
		case err != nil:
			if pollCtx.Err() == nil {
				b.Logf("receive: %v", err)
			}
		case res.Failed:
			b.Errorf("invocation failed: batch of %d left", res.Received)
		}
		if res.Received > 0 {
			batches.Add(1)
		}
		left.Add(int64(len(res.Left)))
	}
	pollers.Go(func() { p.Run(pollCtx) })

	b.ResetTimer()
	start := time.Now()
	cpu := e.cpuNow()
	conns := e.rcv.conns.Load()
	for i := 0; i < b.N; i += benchRecords {
		var entries []sqstypes.SendMessageBatchRequestEntry
		var ids []string
		for r := i; r < min(i+benchRecords, b.N); r++ {
			id := fmt.Sprintf("%s-%d", prefix, r)
			ids = append(ids, id)
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(r - i)), MessageBody: aws.String(benchLoad(benchClient, id))})
		}
		now := time.Now()
		mu.Lock()
		for _, id := range ids {
			for k := range benchHooks {
				enqueued[hook.WebhookID(benchClient, id, int64(k+1))] = now
			}
		}
		mu.Unlock()
		out, err := e.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(e.queueURL), Entries: entries})
		if err != nil || len(out.Failed) > 0 {
			b.Fatalf("enqueue: %v %v", err, out)
		}
	}
	select {
	case <-done:
		cpu = e.cpuSince(cpu)
	case <-ctx.Done():
		mu.Lock()
		got := len(seen)
		mu.Unlock()
		b.Fatalf("only %d of %d deliveries arrived within %v (%d batches, %d records left for redelivery)", got, total, e2eTimeout, batches.Load(), left.Load())
	}
	b.StopTimer()
	stopPolling()
	pollers.Wait()

	mu.Lock()
	defer mu.Unlock()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		i := min(len(latencies)-1, int(p*float64(len(latencies))))
		return float64(latencies[i].Microseconds()) / 1000
	}
	b.ReportMetric(float64(total)/last.Sub(start).Seconds(), "deliveries/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	// Where the time goes: the function's own time per batch, the wall time
	// of the receives that brought messages, and the most batches in flight.
	b.ReportMetric(timed.mean(&timed.invoke), "invoke-ms/batch")
	b.ReportMetric(timed.mean(&timed.receive), "receive-ms/batch")
	b.ReportMetric(float64(p.Function.Most()), "most-in-flight")
	b.ReportMetric(float64(left.Load())/float64(b.N), "left/load")
	// A burst on cold environments opens its connections to the receiver:
	// each TLS handshake costs both ends far more CPU than a delivery.
	b.ReportMetric(float64(e.rcv.conns.Load()-conns)/float64(total), "conns/delivery")
	for name, d := range cpu {
		b.ReportMetric(float64(d.Microseconds())/float64(total), name+"-cpu-µs/delivery")
	}
	return int(batches.Load())
}

// cpuNow is the CPU time so far of each process an end-to-end run keeps
// busy: the benchmark (producer, event source, handler or raw client), the
// receiver, and the emulators scripts/bench names in HOOKS_BENCH_CPU_PIDS
// ("goaws=PID dynamodb=PID"), so a slow run shows which one was busy.
func (e e2eRun) cpuNow() map[string]time.Duration {
	pids := map[string]int{"receiver": e.rcv.pid}
	for _, f := range strings.Fields(os.Getenv("HOOKS_BENCH_CPU_PIDS")) {
		name, pid, _ := strings.Cut(f, "=")
		if n, err := strconv.Atoi(pid); err == nil {
			pids[name] = n
		}
	}
	out := map[string]time.Duration{"bench": processCPU()}
	for name, pid := range pids {
		if d, ok := procCPU(pid); ok {
			out[name] = d
		}
	}
	return out
}

// cpuSince is each process's CPU time since before.
func (e e2eRun) cpuSince(before map[string]time.Duration) map[string]time.Duration {
	now := e.cpuNow()
	for name, d := range now {
		now[name] = d - before[name]
	}
	return now
}

// procCPU is a process's user and system CPU time from /proc/PID/stat, in
// clock ticks of 10 ms (Linux's USER_HZ on every architecture Go supports).
func procCPU(pid int) (time.Duration, bool) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name in parentheses may hold spaces; the fields after it
	// start at the state (field 3): utime and stime are fields 14 and 15.
	i := strings.LastIndexByte(string(stat), ')')
	f := strings.Fields(string(stat[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, true
}

// e2eCalls adds up the wall time of the handler's AWS calls by operation,
// retries included (what the invocation waits for).
type e2eCalls struct {
	mu    sync.Mutex
	total map[string]time.Duration
}

func (c *e2eCalls) middleware(s *middleware.Stack) error {
	return s.Initialize.Add(middleware.InitializeMiddlewareFunc("e2eCalls", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		start := time.Now()
		out, md, err := next.HandleInitialize(ctx, in)
		d := time.Since(start)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.total[awsmiddleware.GetServiceID(ctx)+"."+awsmiddleware.GetOperationName(ctx)] += d
		return out, md, err
	}), middleware.After)
}

func (c *e2eCalls) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total = map[string]time.Duration{}
}

func (c *e2eCalls) snapshot() map[string]time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.total)
}

// e2eTimes adds up the wall time of the event source's receives that
// brought messages and of its invocations.
type e2eTimes struct {
	mu              sync.Mutex
	invoke, receive e2eSum
}

func (t *e2eTimes) add(what *e2eSum, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	what.n++
	what.total += d
}

// mean is the mean in milliseconds.
func (t *e2eTimes) mean(what *e2eSum) float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if what.n == 0 {
		return 0
	}
	return float64(what.total.Microseconds()) / 1000 / float64(what.n)
}

// e2eSum is how many and how long.
type e2eSum struct {
	n     int
	total time.Duration
}

// timedSQS times the receives that return messages.
type timedSQS struct {
	*sqs.Client
	t *e2eTimes
}

func (c timedSQS) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	start := time.Now()
	out, err := c.Client.ReceiveMessage(ctx, in, opts...)
	if err == nil && len(out.Messages) > 0 {
		c.t.add(&c.t.receive, time.Since(start))
	}
	return out, err
}

// poller is the event source of the run's queue: batches of 10 with a 1 s
// long poll and a short visibility timeout (a receive whose answer is lost on
// the way, as goaws under load drops one now and then, comes back within the
// run instead of after the queue's 360 s); an invocation runs to its end
// even when polling stops.
func (e e2eRun) poller(b *testing.B, timed *e2eTimes) *eventsource.Poller {
	b.Helper()
	fn := eventsource.Handler(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		start := time.Now()
		defer func() { timed.add(&timed.invoke, time.Since(start)) }()
		return e.consume(ctx, ev), nil
	})
	p, err := eventsource.New(context.Background(), timedSQS{e.sqs, timed}, e.queueURL, devstack.Region, fn, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	p.Wait, p.VisibilityTimeout, p.FinishBatches = time.Second, 15, true
	p.MaxConcurrency, p.Function = e2eConcurrency, eventsource.NewLimit(e2eConcurrency)
	return p
}

func BenchmarkEndToEnd(b *testing.B) {
	awsCfg := quietAWSConfig(b)
	_, queues := devstack.SQS(b)
	// One meter for every client: the producer, the event source and the
	// handler.
	meter := awsmeter.New()
	sqsClient := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, meter.Middleware) })
	rcv := startBenchReceiver(b, true)
	run := 0 // b.Run calls a function more than once; queue names stay unique via prefixes

	b.Run("floor", func(b *testing.B) {
		run++
		clients := newEnvironments(e2eConcurrency, func() *http.Client { return rcv.floorClient() })
		defer clients.each(func(c *http.Client) { c.CloseIdleConnections() })
		e := e2eRun{sqs: sqsClient, queueURL: queues.Notifications, rcv: rcv,
			consume: func(_ context.Context, ev events.SQSEvent) events.SQSEventResponse {
				c := clients.take()
				defer clients.give(c)
				var wg sync.WaitGroup
				for _, r := range ev.Records {
					m, err := notify.Parse([]byte(r.Body))
					if err != nil {
						b.Errorf("parse: %v", err)
						continue
					}
					for k := range benchHooks {
						wg.Go(func() {
							if err := floorPost(c, rcv.hookURL(k+1), hook.WebhookID(m.ClientID, m.LoadID, int64(k+1)), m.Body); err != nil {
								b.Errorf("post: %v", err)
							}
						})
					}
				}
				wg.Wait()
				return events.SQSEventResponse{}
			}}
		e.run(b, fmt.Sprintf("floor%d-%d", run, rand.Int64()))
	})

	b.Run("handler/store=dynamodb", func(b *testing.B) {
		run++
		db, table := devstack.DynamoDB(b)
		cid := benchClient
		st := store.New(db, table, time.Now)
		seedBenchAccount(b, st, cid, rcv)
		// The burst sends each hook up to 100 requests at once. At the
		// default cap of 20 in flight the rest would be deferred to the retry
		// queue, which this benchmark does not read (the raw client has no
		// cap): both sides get the highest cap an operator can set.
		for k := range benchHooks {
			if _, err := st.SetMaxInFlight(context.Background(), cid, int64(k+1), 100); err != nil {
				b.Fatal(err)
			}
		}
		cfg := awsCfg.Copy()
		calls := &e2eCalls{}
		cfg.APIOptions = append(cfg.APIOptions, meter.Middleware, calls.middleware)
		hcfg := benchConfig(b, table, rcv.caFile, queues)
		hcfg.NotificationsQueueARN = queues.NotificationsARN // the event source reads it from the queue
		handlers := newEnvironments(e2eConcurrency, func() *handler {
			h, err := newHandler(hcfg, cfg, testLogger(io.Discard), io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			return h
		})
		e := e2eRun{sqs: sqsClient, queueURL: queues.Notifications, rcv: rcv,
			consume: func(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse {
				h := handlers.take()
				defer handlers.give(h)
				resp, err := h.handle(ctx, ev)
				if err != nil {
					b.Errorf("handle: %v", err)
				}
				return resp
			}}
		before := meter.Snapshot()
		calls.reset()
		batches := e.run(b, fmt.Sprintf("e2e%d-%d", run, rand.Int64()))
		got := meter.Snapshot().Sub(before)
		// The invocation's wait on each AWS operation per batch (the rest of
		// invoke-ms/batch is the attempts and the handler's own work).
		for op, d := range calls.snapshot() {
			b.ReportMetric(float64(d.Microseconds())/1000/float64(batches), op+"-ms/batch")
		}
		ops := func(name string) float64 { return float64(got.Requests[name]) }
		var reads, writes float64
		for name, n := range got.Requests {
			switch name {
			case "DynamoDB.Query", "DynamoDB.GetItem", "DynamoDB.BatchGetItem", "DynamoDB.Scan":
				reads += float64(n)
			default:
				if strings.HasPrefix(name, "DynamoDB.") {
					writes += float64(n)
				}
			}
		}
		deliveries := float64(b.N * benchHooks)
		b.ReportMetric(reads/float64(b.N), "ddb-reads/load")
		b.ReportMetric(reads/float64(batches), "ddb-reads/batch")
		b.ReportMetric(float64(b.N)/float64(batches), "loads/batch")
		b.ReportMetric(writes/deliveries, "ddb-writes/delivery")
		b.ReportMetric(ops("DynamoDB.UpdateItem")/deliveries, "ddb-updateitem/delivery")
		b.ReportMetric(got.WriteUnits/deliveries, "ddb-wcu/delivery")
		b.ReportMetric(float64(got.Service("DynamoDB"))/deliveries, "ddb-req/delivery")
		// SQS: the producer's sends of the loads, and the event source's
		// receives and deletes (Lambda's polling is billed to the account
		// too), per load message it carried; the empty receives of the
		// pollers between batches are in it.
		producer := ops("SQS.SendMessageBatch") + ops("SQS.SendMessage")
		b.ReportMetric(producer/float64(b.N), "sqs-producer-req/load")
		b.ReportMetric((float64(got.Service("SQS"))-producer)/float64(b.N), "sqs-poll-req/record")
		b.ReportMetric(float64(got.SQSChunks)/deliveries, "sqs-chunks/delivery")
		b.ReportMetric(float64(got.Service("SQS"))/deliveries, "sqs-req/delivery")
	})
}
