package main

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Step 4: queue what the deliveries left: retry messages (each with its own
// DelaySeconds) and alert messages, one SendMessage call per message, at most
// maxConcurrentSends in flight. A message that could not be queued fails
// exactly its own source records: SQS redelivers them, their claim then finds
// the recorded state and queues the message again.
//
// Why not SendMessageBatch: the local SQS emulator (goaws v0.5.4) ignores
// DelaySeconds on batch entries while it honours it on SendMessage, so
// batched retries would run at once locally and the retry schedule could not
// be exercised there. Single sends behave the same on AWS and locally, and
// only the failure path (retries, alerts) sends anything.

// maxConcurrentSends bounds the SendMessage calls in flight at once. A batch
// leaves at most 100 messages (10 records x 10 hooks).
const maxConcurrentSends = 16

// outgoing is one message to queue.
type outgoing struct {
	srcs     []int // the records that fail if the message cannot be queued
	queueURL string
	queue    string // "retry" or "alert", for the log
	body     string
	delay    time.Duration
}

func (h *handler) enqueue(ctx context.Context, records []events.SQSMessage, results []result, b *batch) {
	var msgs []outgoing
	for _, r := range results {
		if r.failed {
			b.fail(r.srcs...)
		}
		if r.deadLetter != "" {
			for _, src := range r.srcs {
				h.deadLetter(ctx, records[src], r.deadLetter, src, b)
			}
		}
		if r.retry != nil {
			msgs = append(msgs, outgoing{srcs: r.srcs, queueURL: h.cfg.RetryQueueURL, queue: "retry", body: string(r.retry.Encode()), delay: r.delay})
		}
		if r.alert != nil {
			msgs = append(msgs, outgoing{srcs: r.srcs, queueURL: h.cfg.AlertQueueURL, queue: "alert", body: string(r.alert.Encode())})
		}
	}
	sem := make(chan struct{}, maxConcurrentSends)
	var wg sync.WaitGroup
	for _, m := range msgs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := h.send(ctx, m); err != nil {
				h.log.ErrorContext(ctx, "enqueue failed", "messageId", records[m.srcs[0]].MessageId, "queue", m.queue, "error", err.Error())
				b.fail(m.srcs...)
			}
		})
	}
	wg.Wait()
}

// send queues one message, with its delay in whole seconds (the delivery
// schedule already rounds delays to seconds and caps them at SQS's 900).
func (h *handler) send(ctx context.Context, m outgoing) error {
	_, err := h.queue.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:     aws.String(m.queueURL),
		MessageBody:  aws.String(m.body),
		DelaySeconds: int32(m.delay / time.Second),
	})
	return err
}
