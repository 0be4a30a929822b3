package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// Hand-written fakes of the handler's dependencies.

// fakeAccounts serves accounts from memory and counts reads per client.
type fakeAccounts struct {
	mu       sync.Mutex
	accounts map[int64]hook.Account
	hooks    map[int64][]hook.Hook
	err      error // returned for every read when set
	reads    map[int64]int
}

func (f *fakeAccounts) AccountWithHooks(_ context.Context, cid int64) (hook.Account, []hook.Hook, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.reads == nil {
		f.reads = map[int64]int{}
	}
	f.reads[cid]++
	if f.err != nil {
		return hook.Account{}, nil, f.err
	}
	a, ok := f.accounts[cid]
	if !ok {
		return hook.Account{}, nil, fmt.Errorf("account %d: %w", cid, hook.ErrNotFound)
	}
	return a, append([]hook.Hook(nil), f.hooks[cid]...), nil
}

// fakeDeliveries keeps delivery records in memory with the store's
// conditional logic.
type fakeDeliveries struct {
	mu        sync.Mutex
	now       func() time.Time
	recs      map[delivery.Key]*delivery.Record
	tokens    map[delivery.Key]string // the token of each record's claim
	claimErr  error
	recordErr error
}

func newFakeDeliveries(now func() time.Time) *fakeDeliveries {
	return &fakeDeliveries{now: now, recs: map[delivery.Key]*delivery.Record{}, tokens: map[delivery.Key]string{}}
}

func (f *fakeDeliveries) ClaimAttempt(_ context.Context, cl delivery.Claim, webhookID, bodyDigest string, lease time.Duration) (bool, *delivery.Record, error) {
	k, n := cl.Key, cl.Attempt
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.claimErr != nil {
		return false, nil, f.claimErr
	}
	now := f.now()
	r, ok := f.recs[k]
	switch {
	case !ok && n == 1:
		r = &delivery.Record{Key: k, BodyDigest: bodyDigest}
		f.recs[k] = r
	case !ok:
		return false, nil, nil
	case r.BodyDigest == bodyDigest && r.Status == delivery.StatusWaiting && r.Attempt == n-1:
	case r.BodyDigest == bodyDigest && r.Status == delivery.StatusAttempting && r.Attempt == n && r.LeaseUntil.Before(now):
	default:
		c := *r
		c.Attempts = append([]delivery.Attempt(nil), r.Attempts...)
		return false, &c, nil
	}
	r.Status, r.Attempt, r.LeaseUntil, r.WebhookID = delivery.StatusAttempting, n, now.Add(lease), webhookID
	f.tokens[k] = cl.Token
	return true, nil, nil
}

func (f *fakeDeliveries) RecordAttempt(_ context.Context, cl delivery.Claim, a delivery.Attempt, status string) (delivery.Record, error) {
	k, n := cl.Key, cl.Attempt
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.recordErr != nil {
		return delivery.Record{}, f.recordErr
	}
	r, ok := f.recs[k]
	if !ok || r.Status != delivery.StatusAttempting || r.Attempt != n || f.tokens[k] != cl.Token {
		return delivery.Record{}, delivery.ErrClaimLost
	}
	r.Status, r.LeaseUntil = status, time.Time{}
	r.Attempts = append(r.Attempts, a)
	c := *r
	c.Attempts = append([]delivery.Attempt(nil), r.Attempts...)
	return c, nil
}

func (f *fakeDeliveries) Cancel(_ context.Context, cl delivery.Claim) error {
	k, n := cl.Key, cl.Attempt
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.recs[k]
	if !ok || r.Status != delivery.StatusAttempting || r.Attempt != n || f.tokens[k] != cl.Token {
		return delivery.ErrClaimLost
	}
	r.Status, r.LeaseUntil = delivery.StatusCancelled, time.Time{}
	return nil
}

func (f *fakeDeliveries) get(k delivery.Key) delivery.Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.recs[k]; ok {
		return *r
	}
	return delivery.Record{}
}

// fakeWebhooks answers every attempt with respond and records the requests.
type fakeWebhooks struct {
	mu       sync.Mutex
	respond  func(webhook.Request) delivery.Attempt
	requests []webhook.Request
}

func (f *fakeWebhooks) Deliver(_ context.Context, r webhook.Request) delivery.Attempt {
	f.mu.Lock()
	f.requests = append(f.requests, r)
	f.mu.Unlock()
	return f.respond(r)
}

func (f *fakeWebhooks) calls() []webhook.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]webhook.Request(nil), f.requests...)
}

// sent is one message put on a fake queue.
type sent struct {
	Queue  string
	Body   string
	Delay  int32
	Reason string // the "reason" message attribute, if any
}

// fakeQueue records sent messages. It is safe for concurrent use, as the
// SDK client is. failQueue makes every send to that URL fail, failBody fails
// the sends whose body it matches. When hold is set, every send blocks until
// hold is closed; inFlight and maxInFlight count the sends blocked at once.
type fakeQueue struct {
	mu          sync.Mutex
	msgs        []sent
	failQueue   map[string]bool
	failBody    func(body string) bool
	hold        chan struct{}
	inFlight    int
	maxInFlight int
}

var errQueueDown = errors.New("queue unavailable")

func (f *fakeQueue) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	hold := f.hold
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	f.mu.Unlock()
	if hold != nil {
		<-hold
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inFlight--
	if f.failQueue[aws.ToString(in.QueueUrl)] || f.failBody != nil && f.failBody(aws.ToString(in.MessageBody)) {
		return nil, errQueueDown
	}
	s := sent{Queue: aws.ToString(in.QueueUrl), Body: aws.ToString(in.MessageBody), Delay: in.DelaySeconds}
	if v, ok := in.MessageAttributes["reason"]; ok {
		s.Reason = aws.ToString(v.StringValue)
	}
	f.msgs = append(f.msgs, s)
	return &sqs.SendMessageOutput{}, nil
}

// all returns every message sent, in order.
func (f *fakeQueue) all() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sent(nil), f.msgs...)
}

// sending is the number of sends in progress.
func (f *fakeQueue) sending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inFlight
}

func (f *fakeQueue) on(queue string) []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sent
	for _, m := range f.msgs {
		if m.Queue == queue {
			out = append(out, m)
		}
	}
	return out
}

// syncBuffer is a goroutine-safe bytes.Buffer for logs and metrics.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

// settable is a test clock.
type settable struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settable) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *settable) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
