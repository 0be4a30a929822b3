package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// Event messages (delivery.EventMessage: the load_overdue notices the
// alerter's freshness check queues) are not delivered to hooks yet. Each one
// is read strictly, a malformed one goes to the dead-letter queue with its
// reason, and a well-formed one is acknowledged with a log line naming it,
// so that notices neither stay on the retry queue nor raise its dead-letter
// alarm. The overdue and back-on-time emails themselves are sent by the
// alerter.
func (h *handler) processEvent(ctx context.Context, r events.SQSMessage) bool {
	m, err := delivery.DecodeEvent([]byte(r.Body))
	if err != nil {
		return h.deadLetter(ctx, r, "invalid event message: "+err.Error())
	}
	h.log.WarnContext(ctx, "event notification not delivered: hooks do not receive event notifications yet",
		"messageId", r.MessageId, "clientId", m.ClientID, "event", m.Event, "eventId", m.EventID)
	return false
}
