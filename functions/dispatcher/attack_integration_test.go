package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// Attacks on the message path, repeated on the emulators (goaws,
// DynamoDB Local) through the real handler.

// hugeLoad is the once-lost pair: a valid notification whose root table
// lands in a table named with 150,000 '<'. json.Marshal wrote each '<' of
// the body as \u003c inside a JSON string: a 900 KB retry message that SQS
// refused on every redelivery, so the pair was neither delivered nor alerted.
func hugeLoad(cid int64, loadID string) (msg, table string) {
	table = strings.Repeat("<", 150_000)
	return fmt.Sprintf(`{"client_id":%d,"load_id":%q,"status":"succeeded","notification":{"integration_name":"shopify",`+
		`"new_version":false,"source_root_table_name":"orders","destination_root_table_name":"orders","table_version":0,`+
		`"tables":[{"source_table_name":"orders","destination_table_name":%q,"num_rows":1,"num_rows_rejected":0}]}}`,
		cid, loadID, table), table
}

// TestDispatcherHugeNotificationIsAlerted: the 150,000 '<' notification to an
// always failing hook is attempted 6 times with its exact body and alerted
// once; the retry and alert messages fit in SQS. The hook URL carries a
// credential in its query string (finding 4): no queue message holds it.
func TestDispatcherHugeNotificationIsAlerted(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, http.StatusInternalServerError)
	s := newStack(t, rcv.caFile(t), testDelays)
	_, hk := s.seed(t, 511, rcv.url+"/hook?api_key=s3cret-api-key")
	msg, table := hugeLoad(511, "huge-1")
	s.send(t, msg)

	var retries []string
	var alerts []delivery.AlertMessage
	// A bound on a hang, not a timing assertion: six attempts of a 150 KB
	// body under -race on a loaded machine have taken over 120 s.
	deadline := time.Now().Add(300 * time.Second)
	for len(alerts) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no alert within 300 s: the pair is neither delivered nor alerted (receiver saw %d attempts)", len(rcv.requests()))
		}
		for _, r := range s.pollOnce(t, s.queues.Retry).Records {
			retries = append(retries, r.Body)
		}
		if s.pump(t, s.queues.Notifications) == 0 {
			time.Sleep(200 * time.Millisecond)
		}
		alerts = append(alerts, s.alerts(t)...)
	}
	got := rcv.requests()
	if len(got) != 6 || len(retries) != 5 {
		t.Fatalf("receiver saw %d attempts, %d retry messages; want 6 and 5", len(got), len(retries))
	}
	for i, r := range got {
		if !strings.Contains(string(r.body), `"destination_table_name":"`+table+`"`) {
			t.Fatalf("attempt %d: body does not carry the table name as sent", i+1)
		}
	}
	for _, body := range append(retries, s.rawAlerts...) {
		if len(body) > delivery.MaxMessageBytes {
			t.Errorf("queue message of %d bytes, over SQS's %d", len(body), delivery.MaxMessageBytes)
		}
		if strings.Contains(body, "s3cret-api-key") || strings.Contains(body, `\u003c`) {
			t.Errorf("queue message holds the hook's credential or HTML escapes: %.200s", body)
		}
	}
	if len(alerts) != 1 || alerts[0].Tables[0] != table || alerts[0].HookURL != strings.TrimSuffix(hk.URL, "?api_key=s3cret-api-key")+"?[redacted]" {
		t.Fatalf("alerts = %d (url %q), want 1 for the huge table with the redacted URL", len(alerts), alerts[0].HookURL)
	}
}

// TestDispatcherForgedRetryDoesNoHarm is the forged-retry attack: a retry
// message with attempt 2, the pair's webhook id (an unkeyed hash anyone can
// compute) and a body of the sender's choosing, put on the loaders' queue
// and, as if a sender could reach it, on the retry queue. Neither is sent:
// the first is refused by its queue, the second by its delivery's body; both
// go to the dead-letter queue with their reason, and every attempt carries
// the loader's body.
func TestDispatcherForgedRetryDoesNoHarm(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, http.StatusServiceUnavailable)
	s := newStack(t, rcv.caFile(t), testDelays)
	_, hk := s.seed(t, 512, rcv.url+"/hook")
	s.send(t, load(512, "forge-1"))
	for len(rcv.requests()) == 0 {
		if s.pump(t, s.queues.Notifications) == 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	forgedBody := strings.Replace(canonicalBody, `"integration_name":"shopify"`, `"integration_name":"forged","extra":"x"`, 1)
	forged := string(delivery.RetryMessage{Kind: delivery.KindRetry, ClientID: 512, LoadID: "forge-1", HookID: hk.ID, Attempt: 2,
		WebhookID: hook.WebhookID(512, "forge-1", hk.ID), Body: []byte(forgedBody)}.Encode())
	for _, q := range []string{s.queues.Notifications, s.queues.Retry} {
		if _, err := s.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String(forged)}); err != nil {
			t.Fatal(err)
		}
	}

	var alerts []delivery.AlertMessage
	s.drive(t, 60*time.Second, func() bool { alerts = append(alerts, s.alerts(t)...); return len(alerts) > 0 })
	for i, r := range rcv.requests() {
		if string(r.body) != canonicalBody {
			t.Errorf("attempt %d sent %s, want the loader's body", i+1, r.body)
		}
	}
	if n := len(rcv.requests()); n != 6 {
		t.Errorf("receiver saw %d attempts, want 6", n)
	}
	if len(alerts) != 1 || alerts[0].IntegrationName != "shopify" {
		t.Errorf("alerts = %+v, want one naming the real integration", alerts)
	}
	reasons := deadLetterReasons(t, s)
	want := []string{"invalid retry message: body: not the body of its delivery", "kind: a service message is not accepted on the notifications queue"}
	if fmt.Sprint(slices.Sorted(slices.Values(reasons))) != fmt.Sprint(want) {
		t.Errorf("dead letters = %q, want %q", reasons, want)
	}
}

// deadLetterReasons receives the dead-letter queue's messages and returns
// their reason attributes.
func deadLetterReasons(t *testing.T, s *stack) []string {
	t.Helper()
	var out []string
	for range 5 {
		r, err := s.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.queues.NotificationsDLQ),
			MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Messages) == 0 {
			break
		}
		for _, m := range r.Messages {
			out = append(out, aws.ToString(m.MessageAttributes["reason"].StringValue))
		}
	}
	return out
}
