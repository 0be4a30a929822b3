package main

import (
	"context"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/notify"
)

// Event notifications: an event message (delivery.EventMessage: the
// load_overdue notices the alerter's freshness check queues on the retry
// queue, and the run_completed summaries of run.go) is sent to every
// enabled hook of its account subscribed to its type (of the message's
// destination, when it names one: a run's summary), as a load is sent: one delivery record keyed by the event id (so a
// notice queued twice is sent once), an in-flight slot per hook, the
// body byte for byte with webhook-event naming the type, and retries,
// resends and the alert as a load's (a retry tells an event body by its
// "type", see parseBody). Filters do not apply: they choose table loads.

// eventWork is a valid event message.
type eventWork struct {
	msg          delivery.EventMessage
	notification notify.Notification // what its alert names (parseBody)
}

// parseEvent validates an event message: strict keys, and a body of its
// type (load_overdue or run_completed).
func parseEvent(body []byte) (*eventWork, string) {
	m, err := delivery.DecodeEvent(body)
	if err != nil {
		return nil, "invalid event message: " + err.Error()
	}
	event, n, err := parseBody(m.Body)
	switch {
	case err != nil:
		return nil, "invalid event message: body: " + err.Error()
	case event != m.Event:
		return nil, "invalid event message: event: not the type of its body"
	}
	return &eventWork{msg: m, notification: n}, ""
}

// deliverEvent sends an event message to the account's enabled hooks that
// subscribe to its type.
func (h *handler) deliverEvent(ctx context.Context, inv *invocation, slot *arrival, msgID string, w work, st accountState) outcome {
	e := w.event
	switch {
	case st.err != nil:
		h.skip(ctx, msgID, e.msg.ClientID, e.msg.EventID, skipUnknownClient)
		return outcome{}
	case !st.account.HasHooks():
		h.skip(ctx, msgID, e.msg.ClientID, e.msg.EventID, skipNoFeature)
		return outcome{}
	}
	pairs := map[int64]*pair{}
	var ids []int64
	for i := range st.hooks {
		hk := &st.hooks[i]
		if !hk.Enabled() || !hk.Subscribes(e.msg.Event) || !hk.SendsLoadsOf(e.msg.DestinationID) {
			continue
		}
		ids = append(ids, hk.ID)
		pairs[hk.ID] = &pair{messageID: msgID, key: delivery.Key{ClientID: e.msg.ClientID, LoadID: e.msg.EventID, HookID: hk.ID},
			n: 1, body: e.msg.Body, digest: w.digest, notification: &e.notification, event: e.msg.Event, hook: hk, active: true}
	}
	if len(ids) == 0 {
		h.skip(ctx, msgID, e.msg.ClientID, e.msg.EventID, skipNoEnabledHooks)
		return outcome{}
	}
	l := delivery.Load{ClientID: e.msg.ClientID, LoadID: e.msg.EventID, IntegrationName: e.notification.IntegrationName,
		Tables: e.notification.TableNames(), Body: e.msg.Body}
	claims, out := h.claimPairs(ctx, slot, msgID, l, ids, pairs)
	if out.failed {
		return out
	}
	cs := make([]*pair, len(claims))
	for i, c := range claims {
		cs[i] = pairs[c.HookID]
	}
	out.add(h.attempt(ctx, inv, claims, cs))
	return out
}
