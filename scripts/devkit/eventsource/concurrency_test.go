package eventsource

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
)

// gatedFunction plays a function that takes its time, by message body:
// "hang..." blocks until release is closed, "slow..." takes delay, "fail..."
// is reported in batchItemFailures, "error..." fails the invocation; it
// counts invocations in flight and what succeeded.
type gatedFunction struct {
	delay   time.Duration
	release chan struct{}

	mu          sync.Mutex
	inFlight    int
	maxInFlight int
	hanging     int
	succeeded   map[string]int // message id -> invocations that reported it a success
	seen        map[string]int // message id -> invocations that carried it
}

func newGatedFunction(delay time.Duration) *gatedFunction {
	return &gatedFunction{delay: delay, release: make(chan struct{}), succeeded: map[string]int{}, seen: map[string]int{}}
}

func (f *gatedFunction) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ev events.SQSEvent
	if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	hang := false
	for _, rec := range ev.Records {
		f.seen[rec.MessageId]++
		hang = hang || strings.HasPrefix(rec.Body, "hang")
	}
	if hang {
		f.hanging++
	}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		if hang {
			f.hanging--
		}
		f.mu.Unlock()
	}()
	if hang {
		<-f.release
	} else {
		time.Sleep(f.delay)
	}
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	var ok []string
	for _, rec := range ev.Records {
		switch {
		case strings.HasPrefix(rec.Body, "error"):
			w.Write([]byte(`{"errorMessage":"boom","errorType":"errorString"}`))
			return
		case strings.HasPrefix(rec.Body, "fail"):
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		default:
			ok = append(ok, rec.MessageId)
		}
	}
	f.mu.Lock()
	for _, id := range ok {
		f.succeeded[id]++
	}
	f.mu.Unlock()
	json.NewEncoder(w).Encode(resp)
}

func (f *gatedFunction) stats() (inFlight, maxInFlight, hanging int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inFlight, f.maxInFlight, f.hanging
}

// deleteRecorder is the real SQS client, recording which messages the
// poller deleted (by the receipt handles it received them with).
type deleteRecorder struct {
	*sqs.Client
	mu      sync.Mutex
	ids     map[string]string // receipt handle -> message id
	deleted map[string]int    // message id -> deletions
}

func (d *deleteRecorder) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	out, err := d.Client.ReceiveMessage(ctx, in, opts...)
	if err == nil {
		d.mu.Lock()
		for _, m := range out.Messages {
			d.ids[aws.ToString(m.ReceiptHandle)] = aws.ToString(m.MessageId)
		}
		d.mu.Unlock()
	}
	return out, err
}

func (d *deleteRecorder) DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	out, err := d.Client.DeleteMessageBatch(ctx, in, opts...)
	if err == nil {
		d.mu.Lock()
		failed := map[string]bool{}
		for _, f := range out.Failed {
			failed[aws.ToString(f.Id)] = true
		}
		for _, e := range in.Entries {
			if !failed[aws.ToString(e.Id)] {
				d.deleted[d.ids[aws.ToString(e.ReceiptHandle)]]++
			}
		}
		d.mu.Unlock()
	}
	return out, err
}

func (d *deleteRecorder) deletions() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]int{}
	for id, n := range d.deleted {
		out[id] = n
	}
	return out
}

// concurrentSetup is a poller on a fresh notifications queue with the given
// visibility timeout, feeding fn, with its SQS calls recorded. The caller
// starts it with start.
func concurrentSetup(t *testing.T, visibility int, fn http.Handler) (*Poller, *deleteRecorder, devstack.Queues) {
	t.Helper()
	client, q := devstack.SQS(t)
	ctx := context.Background()
	if _, err := client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl:   aws.String(q.Notifications),
		Attributes: map[string]string{"VisibilityTimeout": fmt.Sprint(visibility)},
	}); err != nil {
		t.Fatalf("set visibility timeout: %v", err)
	}
	srv := httptest.NewServer(fn)
	t.Cleanup(srv.Close)
	rec := &deleteRecorder{Client: client, ids: map[string]string{}, deleted: map[string]int{}}
	p, err := New(ctx, rec, q.Notifications, devstack.Region, &Invoker{URL: srv.URL, Client: srv.Client()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	p.Wait = time.Second
	return p, rec, q
}

// start runs the poller until the test ends, and waits for its workers then.
func start(t *testing.T, p *Poller) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("workers did not stop within 10 s of the end")
		}
	})
}

// eventually polls cond every 50 ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestHangingBatchDoesNotHoldUpOthers: while one batch hangs in the
// function, every other message is still invoked and deleted.
func TestHangingBatchDoesNotHoldUpOthers(t *testing.T) {
	fn := newGatedFunction(0)
	p, rec, q := concurrentSetup(t, 60, fn)
	p.BatchSize = 1
	start(t, p)
	defer close(fn.release)

	hang := send(t, rec.Client, q.Notifications, "hang")["hang"]
	eventually(t, 10*time.Second, "the hanging batch reaches the function", func() bool {
		_, _, h := fn.stats()
		return h == 1
	})
	var bodies []string
	for i := range 20 {
		bodies = append(bodies, fmt.Sprintf("ok-%d", i))
	}
	ids := send(t, rec.Client, q.Notifications, bodies...)
	eventually(t, 20*time.Second, "the other 20 messages are deleted while one batch hangs", func() bool {
		return len(rec.deletions()) == 20
	})
	got := rec.deletions()
	want := map[string]int{}
	for _, id := range ids {
		want[id] = 1
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("deletions (-got +want):\n%s", diff)
	}
	if _, _, h := fn.stats(); h != 1 {
		t.Errorf("%d batches hanging, want the one", h)
	}
	if got[hang] != 0 {
		t.Error("the hanging message was deleted")
	}
}

// TestConcurrencyScalesAndStaysWithinMaximum: with a backlog the workers
// grow from five to the maximum, the invocations in flight never exceed it,
// and once the queue is empty the extra workers go.
func TestConcurrencyScalesAndStaysWithinMaximum(t *testing.T) {
	const maxConcurrency = 8
	fn := newGatedFunction(500 * time.Millisecond)
	p, rec, q := concurrentSetup(t, 30, fn)
	p.BatchSize, p.MaxConcurrency = 1, maxConcurrency
	if got := p.running(); got != 0 {
		t.Fatalf("%d workers before start", got)
	}
	start(t, p)
	eventually(t, 5*time.Second, "five workers at the start", func() bool { return p.running() == initialWorkers })

	var bodies []string
	for i := range 40 {
		bodies = append(bodies, fmt.Sprintf("ok-%d", i))
	}
	send(t, rec.Client, q.Notifications, bodies...)
	eventually(t, 30*time.Second, "all 40 deleted", func() bool { return len(rec.deletions()) == 40 })
	if _, most, _ := fn.stats(); most != maxConcurrency {
		t.Errorf("at most %d invocations in flight, want exactly the maximum %d (scaled past five, never beyond)", most, maxConcurrency)
	}
	eventually(t, 10*time.Second, "back to five workers once the queue is empty", func() bool { return p.running() == initialWorkers })
}

// TestDeletedExactlyWhenSucceeded: with many batches at once, a message is
// deleted once it succeeded and never when it was reported failed or its
// batch failed; the others come back until the queue's redrive moves them to
// the DLQ (after 5 receives), so in the end each message was either deleted
// or dead-lettered, never both, never neither.
func TestDeletedExactlyWhenSucceeded(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 15 s")
	}
	fn := newGatedFunction(100 * time.Millisecond)
	p, rec, q := concurrentSetup(t, 1, fn)
	start(t, p)

	var bodies []string
	for i := range 60 {
		switch {
		case i == 4:
			bodies = append(bodies, "error-4") // fails every batch it is in
		case i%6 == 1:
			bodies = append(bodies, fmt.Sprintf("fail-%d", i))
		default:
			bodies = append(bodies, fmt.Sprintf("ok-%d", i))
		}
	}
	ids := send(t, rec.Client, q.Notifications, bodies...)
	// The DLQ is read as the test goes: a message is accounted for once it
	// was deleted or has reached the DLQ, and the source queue is then empty.
	// A read hides what it got for only a few seconds: under load goaws now
	// and then loses a receive's answer on the way, and the messages it hid
	// must come back within the test's time (dead is a set, so reading a
	// message again changes nothing).
	dead := map[string]bool{}
	accounted := func() bool {
		for {
			out, err := rec.Client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.NotificationsDLQ), MaxNumberOfMessages: 10, VisibilityTimeout: 5})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Messages) == 0 {
				break
			}
			for _, m := range out.Messages {
				dead[aws.ToString(m.MessageId)] = true
			}
		}
		deleted := rec.deletions()
		for _, id := range ids {
			if deleted[id] == 0 && !dead[id] {
				return false
			}
		}
		return queueDepth(t, rec.Client, q.Notifications) == 0
	}
	deadline := time.Now().Add(90 * time.Second)
	for !accounted() {
		if time.Now().After(deadline) {
			t.Fatalf("not every message deleted or dead-lettered within 90 s: source queue holds %d, DLQ holds %d more than the %d read",
				queueDepth(t, rec.Client, q.Notifications), queueDepth(t, rec.Client, q.NotificationsDLQ)-len(dead), len(dead))
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // let deletes in flight land
	deleted := rec.deletions()
	fn.mu.Lock()
	defer fn.mu.Unlock()
	okDeleted := 0
	for b, id := range ids {
		if deleted[id] > 1 || deleted[id] != fn.succeeded[id] {
			t.Errorf("%s: deleted %d times, succeeded %d times, want the same, at most once", b, deleted[id], fn.succeeded[id])
		}
		if (deleted[id] == 1) == dead[id] {
			t.Errorf("%s: deleted %d times, in the DLQ %t: want exactly one of the two", b, deleted[id], dead[id])
		}
		if !strings.HasPrefix(b, "ok") && !dead[id] {
			t.Errorf("%s never succeeded but is not in the DLQ", b)
		}
		if strings.HasPrefix(b, "ok") && deleted[id] == 1 {
			okDeleted++
		}
	}
	// The ok messages batched with error-4 each time fail with it; the
	// rest must have gone through.
	if okDeleted < 30 {
		t.Errorf("%d ok messages deleted, want most of the 49", okDeleted)
	}
	if fn.maxInFlight < 2 {
		t.Errorf("at most %d invocations in flight, want batches at once", fn.maxInFlight)
	}
}

// TestFailingFunctionBacksOff: when every invocation fails (the function is
// down or failing), each worker waits before its next receive instead of
// pulling, and failing, the whole backlog at once: each failed receive
// counts towards the queue's redrive to the DLQ.
func TestFailingFunctionBacksOff(t *testing.T) {
	fn := newGatedFunction(0)
	p, rec, q := concurrentSetup(t, 60, fn)
	var bodies []string
	for i := range 100 {
		bodies = append(bodies, fmt.Sprintf("error-%d", i))
	}
	send(t, rec.Client, q.Notifications, bodies...)
	start(t, p)
	eventually(t, 10*time.Second, "the first batches fail", func() bool {
		fn.mu.Lock()
		defer fn.mu.Unlock()
		return len(fn.seen) > 0
	})
	time.Sleep(700 * time.Millisecond)
	fn.mu.Lock()
	received := len(fn.seen)
	fn.mu.Unlock()
	if most := initialWorkers * 10; received > most {
		t.Errorf("%d of 100 messages received within 0.7 s of the first failure, want at most %d (one failed batch per worker, then a pause)", received, most)
	}
	if got := p.running(); got > initialWorkers {
		t.Errorf("%d workers while every invocation fails, want at most %d", got, initialWorkers)
	}
}
