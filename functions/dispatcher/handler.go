package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// The steps of one batch, in order (one file each):
//
//  1. classify.go: every record is a load message, a retry message or
//     malformed (malformed ones go to the dead-letter queue);
//  2. plan.go: one Query per account of the batch, then one job per
//     (load, enabled hook) or per retry message;
//  3. deliver.go: all jobs at once: claim, re-check the hook and plan, one
//     HTTP attempt, record the result;
//  4. enqueue.go: queue the retries (each with its own delay) and the
//     alerts, one SendMessage per message, concurrently.
//
// A record is reported in batchItemFailures when any of its jobs could not
// finish a step that must not be lost (a store or queue error, or an attempt
// another invocation is still making); SQS then redelivers it and the
// delivery records make the replay skip whatever was already done.

// accountReader reads an account and all its hooks in one consistent read.
type accountReader interface {
	AccountWithHooks(ctx context.Context, clientID int64) (hook.Account, []hook.Hook, error)
}

// deliveryStore keeps the delivery records (see package store).
type deliveryStore interface {
	ClaimAttempt(ctx context.Context, c delivery.Claim, webhookID, bodyDigest string, lease time.Duration) (bool, *delivery.Record, error)
	RecordAttempt(ctx context.Context, c delivery.Claim, a delivery.Attempt, status string) (delivery.Record, error)
	Cancel(ctx context.Context, c delivery.Claim) error
}

// webhookSender makes one signed HTTP attempt.
type webhookSender interface {
	Deliver(ctx context.Context, r webhook.Request) delivery.Attempt
}

// messageSender puts one message on an SQS queue; it must be safe for
// concurrent use (the SDK client is).
type messageSender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// leaseMargin is added to the attempt timeout to make the claim's lease:
// the time the store and clock need beyond the HTTP attempt itself.
const leaseMargin = 5 * time.Second

// maxConcurrentJobs bounds the deliveries run at once. It is the most one
// batch can hold (10 records x 10 hooks), so every attempt of a batch runs
// in parallel and a batch of timeouts still ends within one attempt timeout,
// well inside the function's 60 s.
const maxConcurrentJobs = 10 * hook.MaxHooks

// errNothingProcessed is returned (with the response) when every record of a
// non-empty batch failed, so the whole batch is retried.
var errNothingProcessed = errors.New("no record of the batch could be processed")

type handler struct {
	cfg        config
	accounts   accountReader
	deliveries deliveryStore
	webhooks   webhookSender
	queue      messageSender
	log        *slog.Logger
	metrics    *metrics
	now        func() time.Time
	rand       func() float64 // in [0, 1), for retry jitter
}

// batch is the state of one invocation: which records failed.
type batch struct {
	mu     sync.Mutex
	failed map[int]bool // record index -> reported in batchItemFailures
}

func (b *batch) fail(srcs ...int) {
	b.mu.Lock()
	for _, i := range srcs {
		b.failed[i] = true
	}
	b.mu.Unlock()
}

func (h *handler) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	b := &batch{failed: map[int]bool{}}
	work := h.classify(ctx, ev.Records, b)
	jobs := h.plan(ctx, ev.Records, work, b)
	results := h.deliverAll(ctx, jobs)
	h.enqueue(ctx, ev.Records, results, b)

	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, r := range ev.Records {
		if b.failed[i] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	if len(ev.Records) > 0 && len(resp.BatchItemFailures) == len(ev.Records) {
		h.log.ErrorContext(ctx, "batch failed", "records", len(ev.Records))
		return resp, errNothingProcessed
	}
	return resp, nil
}
