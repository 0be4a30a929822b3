package main

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hookurl"
	"github.com/postloadhooks/hooks/shared/notify"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// Queueing what a record's deliveries leave: retry messages (each with its
// own DelaySeconds) and alert messages, one SendMessage call per message,
// concurrently. A message that could not be queued fails its record: SQS
// redelivers it, its claim then finds the recorded state and queues the
// message again.
//
// Why not SendMessageBatch: the local SQS emulator (goaws v0.5.4) ignores
// DelaySeconds on batch entries while it honours it on SendMessage, so
// batched retries would run at once locally and the retry schedule could not
// be exercised there. Single sends behave the same on AWS and locally, and
// only the failure path (retries, alerts) sends anything.

// maxConcurrentSends bounds the SendMessage calls of one invocation in
// flight at once. A batch leaves at most 100 messages (10 records x 10
// hooks).
const maxConcurrentSends = 16

// outgoing is one message to queue.
type outgoing struct {
	queueURL string
	queue    string // "retry" or "alert", for the log
	body     string
	delay    time.Duration
	group    string // the SQS MessageGroupId: the account's (notify.MessageGroupID)
}

// enqueue queues msgs and reports whether every one was queued.
func (h *handler) enqueue(ctx context.Context, inv *invocation, messageID string, msgs []outgoing) bool {
	if len(msgs) == 0 {
		return true
	}
	sem := inv.sends
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := true
	for _, m := range msgs {
		sem <- struct{}{}
		goWork(&wg, func() { // workers.go
			defer func() { <-sem }()
			if err := h.send(ctx, m); err != nil {
				h.log.ErrorContext(ctx, "enqueue failed", "messageId", messageID, "queue", m.queue, "error", err.Error())
				mu.Lock()
				ok = false
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return ok
}

// send queues one message, with its delay in whole seconds (the delivery
// schedule already rounds delays to seconds and caps them at SQS's 900) and
// its account's message group, for SQS fair queues.
func (h *handler) send(ctx context.Context, m outgoing) error {
	_, err := h.queue.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:       aws.String(m.queueURL),
		MessageBody:    aws.String(m.body),
		DelaySeconds:   int32(m.delay / time.Second),
		MessageGroupId: aws.String(m.group),
	})
	return err
}

// retryOut is the retry message asking for attempt n of p, after delay.
func (h *handler) retryOut(p *pair, n int, delay time.Duration) outgoing {
	m := delivery.RetryMessage{
		Kind:      delivery.KindRetry,
		ClientID:  p.key.ClientID,
		LoadID:    p.key.LoadID,
		HookID:    p.key.HookID,
		Attempt:   n,
		WebhookID: p.webhookID(),
		Body:      p.body,
	}
	return outgoing{queueURL: h.cfg.RetryQueueURL, queue: "retry", body: string(m.Encode()), delay: delay, group: notify.MessageGroupID(m.ClientID)}
}

// alertOut is the alert message of p's exhausted delivery, rec its record.
// It names the webhook-event and webhook-sequence the attempts carried, for
// the email's curl command: the sequence as the record keeps it, since an
// alert queued again without an attempt (onConflict) has no number in p.
func (h *handler) alertOut(p *pair, rec delivery.Record) outgoing {
	m := delivery.AlertMessage{
		Kind:            delivery.KindExhausted,
		ClientID:        p.key.ClientID,
		LoadID:          p.key.LoadID,
		HookID:          p.key.HookID,
		HookURL:         hookurl.Redact(p.hook.URL),
		WebhookID:       p.webhookID(),
		IntegrationName: p.notification.IntegrationName,
		Tables:          p.notification.TableNames(),
		Attempts:        delivery.LastAttempts(rec.Attempts),
		AttemptCount:    len(rec.Attempts),
		Event:           webhook.EventOf(p.event),
		Sequence:        rec.Sequence,
	}
	return outgoing{queueURL: h.cfg.AlertQueueURL, queue: "alert", body: string(m.Encode()), group: notify.MessageGroupID(m.ClientID)}
}
