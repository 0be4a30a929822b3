package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/notify"
)

// Step 1: classify every record by its content, not by the queue it came
// from: a body whose "kind" is "retry" is a RetryMessage this function
// queued; a body without "kind" is a load message from a loader. Reading the
// content keeps the handler independent of queue ARNs (which differ per stack
// and per local run) and makes a message moved between queues by hand (a DLQ
// redrive) still work. Any other "kind" is malformed.

// maxRetryAttempt bounds the attempt number a retry message may carry. It is
// deliberately above any schedule: a message queued before the schedule was
// shortened still gets its last attempt and its alert.
const maxRetryAttempt = 100

// work is one valid record that may lead to deliveries.
type work struct {
	src   int             // record index
	load  *notify.Message // a load message, or
	retry *retryWork      // a retry message
}

type retryWork struct {
	msg          delivery.RetryMessage
	notification notify.Notification // decoded from msg.Body, for the alert
}

func (w work) clientID() int64 {
	if w.load != nil {
		return w.load.ClientID
	}
	return w.retry.msg.ClientID
}

func (h *handler) classify(ctx context.Context, records []events.SQSMessage, b *batch) []work {
	var out []work
	for i, r := range records {
		w, reason := classifyOne([]byte(r.Body))
		if reason != "" {
			h.deadLetter(ctx, r, reason, i, b)
			continue
		}
		w.src = i
		if w.load != nil && w.load.Status == notify.StatusFailed {
			h.skip(ctx, r.MessageId, w.load.ClientID, w.load.LoadID, skipLoadFailed)
			continue
		}
		out = append(out, w)
	}
	return out
}

// classifyOne returns the record's work, or why it is malformed (a reason
// safe to log: it never holds a value of the message).
func classifyOne(body []byte) (work, string) {
	var probe map[string]json.RawMessage
	if json.Unmarshal(body, &probe) == nil {
		if kind, ok := probe["kind"]; ok {
			if string(kind) != `"`+delivery.KindRetry+`"` {
				return work{}, "kind: must be retry or absent"
			}
			r, reason := parseRetry(body)
			if reason != "" {
				return work{}, reason
			}
			return work{retry: r}, ""
		}
	}
	m, err := notify.Parse(body)
	if err != nil {
		var ve *notify.ValidationError
		if errors.As(err, &ve) {
			return work{}, ve.Error()
		}
		return work{}, "invalid load message"
	}
	return work{load: &m}, ""
}

// parseRetry validates a retry message: every field present and consistent
// (the webhook id is the pair's), the body a valid notification.
func parseRetry(body []byte) (*retryWork, string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var m delivery.RetryMessage
	if err := dec.Decode(&m); err != nil || dec.More() {
		return nil, "invalid retry message: not a retry message object"
	}
	loadIDErr := notify.CheckLoadID(m.LoadID)
	switch {
	case m.ClientID <= 0:
		return nil, "invalid retry message: client_id: must be a positive integer"
	case loadIDErr != nil:
		return nil, "invalid retry message: " + loadIDErr.Error()
	case m.HookID <= 0:
		return nil, "invalid retry message: hook_id: must be a positive integer"
	case m.Attempt < 2 || m.Attempt > maxRetryAttempt:
		return nil, "invalid retry message: attempt: out of range"
	case m.WebhookID != hook.WebhookID(m.ClientID, m.LoadID, m.HookID):
		return nil, "invalid retry message: webhook_id: does not match the pair"
	case m.FirstAttemptAt.IsZero():
		return nil, "invalid retry message: first_attempt_at: required"
	}
	n, err := notify.ParseBody([]byte(m.Body))
	if err != nil {
		return nil, "invalid retry message: body: " + err.Error()
	}
	return &retryWork{msg: m, notification: n}, ""
}

// deadLetter moves a malformed record to the dead-letter queue with its
// reason, and acknowledges it. If that send fails the record is reported as
// failed, so SQS redelivers it (and its own redrive policy ends the loop).
func (h *handler) deadLetter(ctx context.Context, r events.SQSMessage, reason string, i int, b *batch) {
	h.log.WarnContext(ctx, "malformed message", "messageId", r.MessageId, "reason", reason)
	h.metrics.count(metricMalformed, "", "")
	_, err := h.queue.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(h.cfg.DeadLetterQueueURL),
		MessageBody: aws.String(r.Body),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"reason": {DataType: aws.String("String"), StringValue: aws.String(reason)},
		},
	})
	if err != nil {
		h.log.ErrorContext(ctx, "dead-letter send failed", "messageId", r.MessageId, "error", err.Error())
		b.fail(i)
	}
}

// skip acknowledges a record that sends nothing, with a log line and a metric.
func (h *handler) skip(ctx context.Context, messageID string, clientID int64, loadID, reason string) {
	h.log.InfoContext(ctx, "notification skipped", "messageId", messageID, "clientId", clientID, "loadId", loadID, "reason", reason)
	h.metrics.count(metricSkipped, "Reason", reason)
}
