package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/store"
)

// Resend and replay on DynamoDB Local where they can go wrong: a test
// notification's delivery is refused, and a retry queue that fails leaves
// the delivery as it had ended.

// newResendStack is the API on DynamoDB Local with its retry queue at
// queue, one member of advClientA and one hook.
func newResendStack(t *testing.T, queue retryQueuer) (*advStack, *store.Store, string, apiHook) {
	t.Helper()
	db, table := devstack.DynamoDB(t)
	st := store.New(db, table, time.Now)
	srv := httptest.NewServer(testRoutes(t, discardLogger(), newDynamoStore(st), tokenAdmin(adminToken),
		hooksConfig{sender: &fakeSender{}, retries: queue, replayRate: 2}))
	t.Cleanup(srv.Close)
	s := &advStack{integrationAPI: &integrationAPI{url: srv.URL, client: srv.Client()}, db: db, table: table}
	tok := s.newMember(t, advClientA, "advanced")
	var h apiHook
	s.mustDo(t, "POST", hooksPath, tok, hookBody("https://hooks.example.com/resend"), http.StatusOK, &h)
	return s, st, tok, h
}

// failingSQS is an SQS client whose endpoint answers every call 503.
func failingSQS(t *testing.T) *sqs.Client {
	t.Helper()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"__type":"ServiceUnavailable","message":"down"}`, http.StatusServiceUnavailable)
	}))
	t.Cleanup(down.Close)
	return sqs.NewFromConfig(devstack.AWSConfig(t), func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(down.URL)
		o.RetryMaxAttempts = 1
	})
}

// TestResendOfATestDeliveryOnDynamoDB: a test notification is a test: its
// delivery is never resent (400, nothing queued, the record unchanged), and
// replay leaves it out.
func TestResendOfATestDeliveryOnDynamoDB(t *testing.T) {
	client, queues := devstack.SQS(t)
	s, st, tok, h := newResendStack(t, sqsRetryQueue{client: client, url: queues.Retry})
	since := time.Now().Add(-time.Minute).UTC()
	// The fake sender answers 500: the test is recorded as exhausted.
	s.mustDo(t, "POST", hookPath(h.ID)+"/test", tok, "", http.StatusOK, nil)
	var page struct {
		Data []deliveryJSON `json:"data"`
	}
	s.mustDo(t, "GET", hookPath(h.ID)+"/deliveries", tok, "", http.StatusOK, &page)
	if len(page.Data) != 1 || !delivery.IsTest(page.Data[0].LoadID) {
		t.Fatalf("history %+v, want the one test delivery", page.Data)
	}
	test := page.Data[0]
	before, err := st.GetDelivery(context.Background(), delivery.Key{ClientID: advClientA, LoadID: test.LoadID, HookID: h.ID})
	if err != nil {
		t.Fatal(err)
	}

	status, body := s.do(t, "POST", hookPath(h.ID)+"/deliveries/"+test.ID+"/resend", tok, "")
	checkResponse(t, status, body, http.StatusBadRequest, bodyTestDelivery)
	status, body = s.do(t, "POST", hookPath(h.ID)+"/replay", tok, `{"since":"`+since.Format(time.RFC3339)+`"}`)
	checkResponse(t, status, body, http.StatusAccepted, `{"replayed":0}`)

	after, err := st.GetDelivery(context.Background(), before.Key)
	if err != nil || after.Status != before.Status || len(after.Attempts) != len(before.Attempts) {
		t.Errorf("test delivery after the refused resend: %+v, %v; want as before (%s)", after, err, before.Status)
	}
	out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queues.Retry), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 0 {
		t.Errorf("retry queue holds %d messages, want none", len(out.Messages))
	}
}

// TestResendQueueFailureOnDynamoDB: when the retry queue's endpoint fails,
// resend and replay answer 500 and the deliveries are exhausted again, as
// they were (not left waiting for a message that never comes), so they can
// be resent once the queue is back.
func TestResendQueueFailureOnDynamoDB(t *testing.T) {
	s, st, tok, h := newResendStack(t, sqsRetryQueue{client: failingSQS(t), url: "https://sqs.us-east-1.amazonaws.com/123456789012/retry"})
	since := time.Now().Add(-time.Minute).UTC()
	for _, id := range []string{"load-1", "load-2"} {
		recordLoad(t, st, time.Now(), advClientA, id, delivery.StatusExhausted, h.ID)
	}
	check := func(when string) {
		t.Helper()
		for _, id := range []string{"load-1", "load-2"} {
			d, err := st.GetDelivery(context.Background(), delivery.Key{ClientID: advClientA, LoadID: id, HookID: h.ID})
			if err != nil || d.Status != delivery.StatusExhausted {
				t.Errorf("%s: %s is %q (%v), want exhausted as before", when, id, d.Status, err)
			}
		}
	}
	status, body := s.do(t, "POST", hookPath(h.ID)+"/deliveries/"+delivery.ID("load-1")+"/resend", tok, "")
	checkResponse(t, status, body, http.StatusInternalServerError, bodyInternal)
	check("after the failed resend")
	status, body = s.do(t, "POST", hookPath(h.ID)+"/replay", tok, `{"since":"`+since.Format(time.RFC3339)+`"}`)
	checkResponse(t, status, body, http.StatusInternalServerError, bodyInternal)
	check("after the failed replay")

	// The queue is back: the same deliveries resend.
	client, queues := devstack.SQS(t)
	srv := httptest.NewServer(testRoutes(t, discardLogger(), newDynamoStore(st), tokenAdmin(adminToken),
		hooksConfig{sender: &fakeSender{}, retries: sqsRetryQueue{client: client, url: queues.Retry}, replayRate: 2}))
	t.Cleanup(srv.Close)
	back := &advStack{integrationAPI: &integrationAPI{url: srv.URL, client: srv.Client()}}
	status, body = back.do(t, "POST", hookPath(h.ID)+"/replay", tok, `{"since":"`+since.Format(time.RFC3339)+`"}`)
	checkResponse(t, status, body, http.StatusAccepted, `{"replayed":2}`)
}
