package main

import (
	"context"
	"errors"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postloadhooks/hooks/shared/deadletter"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/notify"
	"github.com/postloadhooks/hooks/shared/strictjson"
)

// Classifying a record by the queue it came from (its event source ARN,
// which SQS sets and no sender can choose): a record of the notifications
// queue must be a load message from a loader, a record of the retry queue
// must be a RetryMessage this function queued. Anything else (a retry
// message put on the notifications queue, a load message on the retry
// queue, a record of another queue, a malformed body) goes to the
// dead-letter queue with its reason. Loaders can send only to the
// notifications queue (IAM), so no loader can make a retry message.

// work is one valid record that may lead to deliveries.
type work struct {
	load   *notify.Message // a load message, or
	retry  *retryWork      // a retry message, or
	event  *eventWork      // an event message (event.go)
	digest string          // delivery.BodyDigest of the body to send
}

type retryWork struct {
	msg          delivery.RetryMessage
	notification notify.Notification // decoded from msg.Body, for the alert
	event        string              // the body's event type; "" for a table load
}

func (w work) clientID() int64 {
	switch {
	case w.load != nil:
		return w.load.ClientID
	case w.event != nil:
		return w.event.msg.ClientID
	}
	return w.retry.msg.ClientID
}

// classify returns the record's work, or why it is malformed.
func (h *handler) classify(r events.SQSMessage) (work, string) {
	return h.classifyOne(r.EventSourceARN, []byte(r.Body))
}

// classifyOne returns the record's work, or why it is malformed (a reason
// safe to log: it never holds a value of the message).
func (h *handler) classifyOne(source string, body []byte) (work, string) {
	switch source {
	case h.cfg.NotificationsQueueARN:
		return parseLoad(body)
	case h.cfg.RetryQueueARN:
		if delivery.IsEvent(body) {
			e, reason := parseEvent(body)
			if reason != "" {
				return work{}, reason
			}
			return work{event: e, digest: delivery.BodyDigest(e.msg.Body)}, ""
		}
		r, reason := parseRetry(body)
		if reason != "" {
			return work{}, reason
		}
		return work{retry: r, digest: delivery.BodyDigest(r.msg.Body)}, ""
	}
	return work{}, "event source: not a queue of this function"
}

// parseLoad validates a load message. A body with a "kind" key is one of the
// service's own messages, which loaders can never send.
func parseLoad(body []byte) (work, string) {
	var m notify.Message
	o, err := strictjson.Parse(body)
	if err == nil {
		if _, ok, err := o.Get("kind"); ok || err != nil {
			return work{}, "kind: a service message is not accepted on the notifications queue"
		}
		m, err = notify.ParseObject(o)
	} else {
		m, err = notify.Parse(body) // fails as strictjson did, in a load message's words
	}
	if err != nil {
		var ve *notify.ValidationError
		if errors.As(err, &ve) {
			return work{}, ve.Error()
		}
		return work{}, "invalid load message"
	}
	w := work{load: &m}
	if m.Body != nil {
		w.digest = delivery.BodyDigest(m.Body)
	}
	return w, ""
}

// parseRetry validates a retry message: strict keys, every field present
// and consistent (the webhook id is the pair's), the body a valid
// notification. Whether the body is the pair's own is checked at the claim
// (the delivery record keeps its digest).
func parseRetry(body []byte) (*retryWork, string) {
	m, err := delivery.DecodeRetry(body)
	if err != nil {
		return nil, "invalid retry message: " + err.Error()
	}
	if m.WebhookID != hook.WebhookID(m.ClientID, m.LoadID, m.HookID) {
		return nil, "invalid retry message: webhook_id: does not match the pair"
	}
	event, n, err := parseBody(m.Body)
	if err != nil {
		return nil, "invalid retry message: body: " + err.Error()
	}
	return &retryWork{msg: m, notification: n, event: event}, ""
}

// parseBody reads the webhook body a retry carries: a table load's
// notification, or an event notification's body, told apart without a
// parse of their own (notify.IsEventBody, then the type that follows: a
// run_completed summary or a load_overdue notice). For an event, n holds
// what its alert names: its integration and tables.
func parseBody(body []byte) (event string, n notify.Notification, err error) {
	if notify.IsRunCompletedBody(body) {
		rc, err := notify.ParseRunCompleted(body)
		if err != nil {
			return "", n, err
		}
		return notify.EventRunCompleted, rc.Notification(), nil
	}
	if notify.IsEventBody(body) {
		ov, err := notify.ParseOverdue(body)
		if err != nil {
			return "", n, err
		}
		return notify.EventLoadOverdue, ov.Notification(), nil
	}
	n, err = notify.ParseBody(body)
	return "", n, err
}

// deadLetter moves a malformed record to the dead-letter queue with its
// reason, and acknowledges it (package deadletter). If that send fails the
// record fails (reported true), so SQS redelivers it (and its own redrive
// policy ends the loop).
func (h *handler) deadLetter(ctx context.Context, r events.SQSMessage, reason string) bool {
	h.log.WarnContext(ctx, "malformed message", "messageId", r.MessageId, "reason", reason)
	h.metrics.count(metricMalformed, "", "")
	if err := deadletter.Send(ctx, h.queue, h.cfg.DeadLetterQueueURL, r.Body, reason); err != nil {
		h.log.ErrorContext(ctx, "dead-letter send failed", "messageId", r.MessageId, "error", err.Error())
		return true
	}
	return false
}

// skip acknowledges a record that sends nothing, with a log line and a metric.
func (h *handler) skip(ctx context.Context, messageID string, clientID int64, loadID, reason string) {
	h.log.InfoContext(ctx, "notification skipped", "messageId", messageID, "clientId", clientID, "loadId", loadID, "reason", reason)
	h.metrics.count(metricSkipped, "Reason", reason)
}
