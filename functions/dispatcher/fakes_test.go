package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store/memstore"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// Hand-written fakes of the handler's dependencies. The store is the
// in-memory store of package memstore, held to the store's contract by the
// store's conformance suite.

// faultyReads plays a store that breaks its contract: change alters every
// answer of AccountWithHooks of the in-memory store.
type faultyReads struct {
	*memstore.Store
	change func(a *hook.Account, hooks *[]hook.Hook)
}

func (f faultyReads) AccountWithHooks(ctx context.Context, cid int64) (hook.Account, []hook.Hook, error) {
	a, hooks, err := f.Store.AccountWithHooks(ctx, cid)
	if err == nil {
		f.change(&a, &hooks)
	}
	return a, hooks, err
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
	Group  string // MessageGroupId
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
	s := sent{Queue: aws.ToString(in.QueueUrl), Body: aws.ToString(in.MessageBody), Delay: in.DelaySeconds, Group: aws.ToString(in.MessageGroupId)}
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
