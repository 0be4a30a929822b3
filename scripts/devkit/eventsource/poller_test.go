package eventsource

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
)

// fakeFunction plays a function behind aws-lambda-rie: it answers as the
// emulator does, by message body: "fail" is reported in batchItemFailures,
// "error" makes the invocation fail; anything else succeeds.
type fakeFunction struct {
	mu     sync.Mutex
	events []events.SQSEvent
}

func (f *fakeFunction) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ev events.SQSEvent
	if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.events = append(f.events, ev)
	f.mu.Unlock()
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, rec := range ev.Records {
		switch rec.Body {
		case "error":
			io.WriteString(w, `{"errorMessage":"boom","errorType":"errorString"}`)
			return
		case "fail":
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	json.NewEncoder(w).Encode(resp)
}

func (f *fakeFunction) lastEvent(t *testing.T) events.SQSEvent {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.events) == 0 {
		t.Fatal("function was never invoked")
	}
	return f.events[len(f.events)-1]
}

// setup returns a poller on a fresh notifications queue (visibility timeout
// 1 s so left messages come back quickly), its SQS client and the queues.
func setup(t *testing.T) (*Poller, *sqs.Client, devstack.Queues, *fakeFunction) {
	t.Helper()
	client, q := devstack.SQS(t)
	ctx := context.Background()
	if _, err := client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl:   aws.String(q.Notifications),
		Attributes: map[string]string{"VisibilityTimeout": "1"},
	}); err != nil {
		t.Fatalf("set visibility timeout: %v", err)
	}
	fn := &fakeFunction{}
	srv := httptest.NewServer(fn)
	t.Cleanup(srv.Close)
	inv := &Invoker{URL: srv.URL, Client: srv.Client()}
	p, err := New(ctx, client, q.Notifications, devstack.Region, inv, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	p.Wait = time.Second
	return p, client, q, fn
}

func send(t *testing.T, c *sqs.Client, queueURL string, bodies ...string) map[string]string {
	t.Helper()
	ids := map[string]string{} // body -> message id
	for _, b := range bodies {
		out, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl:    aws.String(queueURL),
			MessageBody: aws.String(b),
			MessageAttributes: map[string]types.MessageAttributeValue{
				"reason": {DataType: aws.String("String"), StringValue: aws.String("r-" + b)},
			},
		})
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		ids[b] = aws.ToString(out.MessageId)
	}
	return ids
}

// pollUntil polls until a batch arrives or the deadline passes.
func pollUntil(t *testing.T, p *Poller, d time.Duration) BatchResult {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		res, err := p.PollOnce(context.Background())
		if err != nil {
			t.Fatalf("pollOnce: %v", err)
		}
		if res.Received > 0 {
			sort.Strings(res.Deleted)
			sort.Strings(res.Left)
			return res
		}
	}
	t.Fatalf("no batch within %s", d)
	return BatchResult{}
}

// queueDepth is every message the queue holds (0 exactly when it is empty).
func queueDepth(t *testing.T, c *sqs.Client, url string) int {
	t.Helper()
	d, err := devstack.QueueDepth(context.Background(), c, url)
	if err != nil {
		t.Fatal(err)
	}
	return d.Total()
}

func TestEventShape(t *testing.T) {
	p, client, q, fn := setup(t)
	ids := send(t, client, q.Notifications, `{"client_id":1}`)

	res := pollUntil(t, p, 5*time.Second)
	if diff := cmp.Diff(res, BatchResult{Received: 1, Deleted: []string{ids[`{"client_id":1}`]}}); diff != "" {
		t.Errorf("batch (-got +want):\n%s", diff)
	}
	rec := fn.lastEvent(t).Records[0]
	sum := md5.Sum([]byte(`{"client_id":1}`))
	if rec.EventSource != "aws:sqs" || rec.AWSRegion != "us-east-1" || rec.MessageId != ids[`{"client_id":1}`] ||
		rec.Body != `{"client_id":1}` || rec.Md5OfBody != hex.EncodeToString(sum[:]) || rec.ReceiptHandle == "" {
		t.Errorf("record = %+v", rec)
	}
	if !strings.HasPrefix(rec.EventSourceARN, "arn:aws:sqs:") || !strings.HasSuffix(rec.EventSourceARN, ":"+q.Notifications[strings.LastIndex(q.Notifications, "/")+1:]) {
		t.Errorf("eventSourceARN = %q, want the ARN of %s", rec.EventSourceARN, q.Notifications)
	}
	for _, k := range []string{"ApproximateReceiveCount", "SentTimestamp", "ApproximateFirstReceiveTimestamp", "SenderId"} {
		if rec.Attributes[k] == "" {
			t.Errorf("attribute %s missing: %v", k, rec.Attributes)
		}
	}
	if got := rec.Attributes["ApproximateReceiveCount"]; got != "1" {
		t.Errorf("ApproximateReceiveCount = %q, want 1", got)
	}
	a := rec.MessageAttributes["reason"]
	if a.DataType != "String" || aws.ToString(a.StringValue) != "r-"+rec.Body {
		t.Errorf("message attribute reason = %+v", a)
	}
	if n := queueDepth(t, client, q.Notifications); n != 0 {
		t.Errorf("queue holds %d messages after a successful batch, want 0", n)
	}
}

func TestPartialFailureAndRedelivery(t *testing.T) {
	p, client, q, fn := setup(t)
	ids := send(t, client, q.Notifications, "ok-1", "fail", "ok-2")

	// goaws may hand out the three messages over more than one receive.
	var deleted, left []string
	for len(deleted)+len(left) < 3 {
		res := pollUntil(t, p, 5*time.Second)
		deleted = append(deleted, res.Deleted...)
		left = append(left, res.Left...)
	}
	sort.Strings(deleted)
	wantDeleted := []string{ids["ok-1"], ids["ok-2"]}
	sort.Strings(wantDeleted)
	if diff := cmp.Diff(deleted, wantDeleted); diff != "" {
		t.Errorf("deleted (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(left, []string{ids["fail"]}); diff != "" {
		t.Errorf("left (-got +want):\n%s", diff)
	}

	// The reported failure comes back after the visibility timeout, counted.
	res := pollUntil(t, p, 10*time.Second)
	if diff := cmp.Diff(res, BatchResult{Received: 1, Left: []string{ids["fail"]}}); diff != "" {
		t.Errorf("redelivered batch (-got +want):\n%s", diff)
	}
	if got := fn.lastEvent(t).Records[0].Attributes["ApproximateReceiveCount"]; got != "2" {
		t.Errorf("ApproximateReceiveCount on redelivery = %q, want 2", got)
	}
}

func TestInvocationErrorLeavesWholeBatch(t *testing.T) {
	p, client, q, _ := setup(t)
	ids := send(t, client, q.Notifications, "error")

	res := pollUntil(t, p, 5*time.Second)
	if diff := cmp.Diff(res, BatchResult{Failed: true, Received: 1, Left: []string{ids["error"]}}); diff != "" {
		t.Errorf("batch (-got +want):\n%s", diff)
	}
	res = pollUntil(t, p, 10*time.Second)
	if diff := cmp.Diff(res, BatchResult{Failed: true, Received: 1, Left: []string{ids["error"]}}); diff != "" {
		t.Errorf("redelivered batch (-got +want):\n%s", diff)
	}
}

// TestRedriveToDLQ shows that goaws moves a message that keeps failing to
// the queue's DLQ after the template's maxReceiveCount (5) receives, so the
// poller does not need to emulate redrive.
func TestRedriveToDLQ(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 10 s")
	}
	p, client, q, fn := setup(t)
	ids := send(t, client, q.Notifications, "fail")

	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := p.PollOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.NotificationsDLQ), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			continue
		}
		if got := aws.ToString(out.Messages[0].MessageId); got != ids["fail"] {
			t.Errorf("DLQ message id = %s, want %s", got, ids["fail"])
		}
		fn.mu.Lock()
		invocations := len(fn.events)
		fn.mu.Unlock()
		if invocations != 5 {
			t.Errorf("function invoked %d times before redrive, want maxReceiveCount = 5", invocations)
		}
		return
	}
	t.Fatal("message never reached the DLQ")
}
