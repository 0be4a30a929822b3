package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

// TestAdversarialReplayOnSQS: on DynamoDB Local and the SQS emulator, a
// replay by another account is 404 and queues nothing; the owner's replay
// puts exactly the retry messages of the hook's exhausted deliveries of the
// window on the retry queue (none of another hook's, none of a delivered
// one), paced (rate 2: the third arrives a second later), and a second
// replay queues nothing more.
func TestAdversarialReplayOnSQS(t *testing.T) {
	db, table := devstack.DynamoDB(t)
	client, queues := devstack.SQS(t)
	st := store.New(db, table, time.Now)
	srv := httptest.NewServer(testRoutes(t, discardLogger(), newDynamoStore(st), tokenAdmin(adminToken),
		hooksConfig{sender: &fakeSender{}, retries: sqsRetryQueue{client: client, url: queues.Retry}, replayRate: 2}))
	t.Cleanup(srv.Close)
	s := &advStack{integrationAPI: &integrationAPI{url: srv.URL, client: srv.Client()}, db: db, table: table}
	tokA := s.newMember(t, advClientA, "advanced")
	tokB := s.newMember(t, advClientB, "advanced")
	var h, other apiHook
	s.mustDo(t, "POST", hooksPath, tokA, hookBody("https://hooks.example.com/replay"), http.StatusOK, &h)
	s.mustDo(t, "POST", hooksPath, tokA, hookBody("https://hooks.example.com/other"), http.StatusOK, &other)
	start := time.Now().Add(-time.Minute)
	for i := range 3 {
		recordLoad(t, st, time.Now(), advClientA, fmt.Sprintf("load-%d", i), delivery.StatusExhausted, h.ID, other.ID)
	}
	recordLoad(t, st, time.Now(), advClientA, "load-ok", delivery.StatusDelivered, h.ID)
	body := `{"since":"` + start.UTC().Format(time.RFC3339) + `"}`

	status, got := s.do(t, "POST", hookPath(h.ID)+"/replay", tokB, body)
	checkResponse(t, status, got, http.StatusNotFound, bodyNotFound)
	status, got = s.do(t, "POST", hookPath(h.ID)+"/replay", tokA, body)
	checkResponse(t, status, got, http.StatusAccepted, `{"replayed":3}`)
	status, got = s.do(t, "POST", hookPath(h.ID)+"/replay", tokA, body)
	checkResponse(t, status, got, http.StatusAccepted, `{"replayed":0}`)

	var loads []string
	for tries := 0; len(loads) < 4 && tries < 4; tries++ {
		out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queues.Retry), MaxNumberOfMessages: 10, WaitTimeSeconds: 2,
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range out.Messages {
			m, err := delivery.DecodeRetry([]byte(aws.ToString(msg.Body)))
			if err != nil {
				t.Fatal(err)
			}
			if m.ClientID != advClientA || m.HookID != h.ID || m.Attempt != 1 || m.WebhookID != hook.WebhookID(advClientA, m.LoadID, h.ID) {
				t.Errorf("queued %+v, want attempt 1 to hook %d with its webhook id", m, h.ID)
			}
			loads = append(loads, m.LoadID)
		}
	}
	sort.Strings(loads)
	if fmt.Sprint(loads) != "[load-0 load-1 load-2]" {
		t.Errorf("retry queue held %v, want the three exhausted loads once each", loads)
	}
}
