package main

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/optout"
	"github.com/postloadhooks/hooks/shared/store/memstore"
)

// Hand-written fakes of the handler's SES client; the store is the
// in-memory store of package memstore, held to the store's contract by the
// store's conformance suite. The integration tests run the same handler on
// DynamoDB Local and the SES emulator.

// fakeSES records every SendEmail and fails the ones its fail function
// picks.
type fakeSES struct {
	mu    sync.Mutex
	calls []*sesv2.SendEmailInput
	// fail returns the error for a send to rcpt (nil: accepted).
	fail func(rcpt string) error
	// delivered counts accepted emails per recipient.
	delivered map[string]int
}

func (f *fakeSES) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, in)
	rcpt := ""
	if in.Destination != nil && len(in.Destination.ToAddresses) == 1 {
		rcpt = in.Destination.ToAddresses[0]
	}
	if f.fail != nil {
		if err := f.fail(rcpt); err != nil {
			return nil, err
		}
	}
	if f.delivered == nil {
		f.delivered = map[string]int{}
	}
	f.delivered[rcpt]++
	return &sesv2.SendEmailOutput{MessageId: aws.String("fake-" + rcpt)}, nil
}

// fakeQueue records every SendMessage; it fails the ones to the DLQ with
// err and those to the alerts queue (digest messages) with digestErr, when
// set.
type fakeQueue struct {
	mu        sync.Mutex
	sent      []*sqs.SendMessageInput
	digested  []*sqs.SendMessageInput
	queuedAt  []time.Time      // when each digest message was queued
	now       func() time.Time // the handler's clock
	err       error
	digestErr error
}

func (f *fakeQueue) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if aws.ToString(in.QueueUrl) == alertsURL {
		f.digested = append(f.digested, in)
		f.queuedAt = append(f.queuedAt, f.now())
		if f.digestErr != nil {
			return nil, f.digestErr
		}
		return &sqs.SendMessageOutput{MessageId: aws.String("digest-1")}, nil
	}
	f.sent = append(f.sent, in)
	if f.err != nil {
		return nil, f.err
	}
	return &sqs.SendMessageOutput{MessageId: aws.String("dlq-1")}, nil
}

// digests returns the digest messages put on the alerts queue, and their
// delays.
func (f *fakeQueue) digests() []*sqs.SendMessageInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*sqs.SendMessageInput(nil), f.digested...)
}

// deadLettered is one message put on a queue: its queue, body and reason.
type deadLettered struct{ Queue, Body, Reason string }

func (f *fakeQueue) all() []deadLettered {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []deadLettered
	for _, in := range f.sent {
		d := deadLettered{Queue: aws.ToString(in.QueueUrl), Body: aws.ToString(in.MessageBody)}
		if v, ok := in.MessageAttributes["reason"]; ok {
			d.Reason = aws.ToString(v.StringValue)
		}
		out = append(out, d)
	}
	return out
}

// alertsARN is the alerts queue's event source ARN in tests, alertsDLQ the
// URL of its dead-letter queue.
const (
	alertsARN = "arn:aws:sqs:us-east-1:123456789012:post-load-alerts"
	alertsDLQ = "http://sqs.example/123456789012/post-load-alerts-dlq"
)

// alertsURL is the alerts queue's URL in tests, appURL the web app's and
// testKey the unsubscribe key.
const (
	alertsURL = "http://sqs.example/123456789012/post-load-alerts"
	appURL    = "https://hooks.example.com"
	testKey   = "0123456789abcdef0123456789abcdef-test-key"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fixture is a handler on fakes and the buffer its JSON logs go to.
type fixture struct {
	h     *handler
	clock *clock
	store *memstore.Store
	ses   *fakeSES
	queue *fakeQueue
	logs  *bytes.Buffer
}

func newFixture(t *testing.T, emails ...string) *fixture {
	t.Helper()
	c := &clock{now: time.Date(2026, 7, 15, 15, 20, 0, 0, time.UTC)}
	now := c.Now
	signer, err := optout.NewSigner([]byte(testKey))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{
		clock: c,
		store: memstore.New(now),
		ses:   &fakeSES{},
		queue: &fakeQueue{now: now},
		logs:  &bytes.Buffer{},
	}
	f.store.PutAccount(hook.Account{ClientID: 116078, Plan: "advanced", AlertEmails: emails})
	f.h = &handler{
		accounts: f.store,
		alerts:   f.store,
		digests:  f.store,
		ses:      f.ses,
		queue:    f.queue,
		from:     "Post-load hooks <alerts@hooks.example.net>",

		alertQueueARN: alertsARN,
		deadLetterURL: alertsDLQ,
		alertQueueURL: alertsURL,
		window:        time.Hour,
		links:         linkMaker{appURL: appURL, signer: signer},
		log:           slog.New(slog.NewJSONHandler(f.logs, nil)),
		now:           now,
	}
	return f
}
