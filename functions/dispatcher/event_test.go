package main

import (
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/notify"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// overdueEvent is the event message of an overdue notice of shopify/orders.
func overdueEvent() (delivery.EventMessage, []byte) {
	body := notify.Overdue{State: notify.StateOverdue, IntegrationName: "shopify", Table: "orders", MaxInterval: "2h"}.Encode()
	return delivery.EventMessage{Kind: delivery.KindEvent, ClientID: testClient, Event: notify.EventLoadOverdue,
		EventID: "freshness-overdue-1-0123456789abcdef", Body: body}, body
}

// retryEvent is a batch of bodies from the retry queue.
func retryEvent(bodies ...string) events.SQSEvent {
	ev := sqsEvent(bodies...)
	for i := range ev.Records {
		ev.Records[i].EventSourceARN = retriesARN
	}
	return ev
}

// subscribeOverdue makes hook 1 of testClient subscribe to load_overdue
// beside table loads (hook 2 keeps the default, table loads only).
func subscribeOverdue(e *env) {
	h, _ := e.store.Hook(testClient, 1)
	h.EventTypes = []string{hook.EventTableLoaded, hook.EventLoadOverdue}
	e.store.PutHook(h)
}

// An event message reaches exactly the enabled hooks subscribed to its
// type, with its body byte for byte, webhook-event naming the type, the
// event id as the load id, and no webhook-sequence; queued twice, it is sent
// once.
func TestEventNotificationGoesToSubscribedHooksOnce(t *testing.T) {
	e := newEnv(t)
	subscribeOverdue(e)
	m, body := overdueEvent()
	e.mustRun(t, retryEvent(string(m.Encode())))
	e.mustRun(t, retryEvent(string(m.Encode())))
	calls := e.hooks.calls()
	if len(calls) != 1 {
		t.Fatalf("requests = %+v, want one (hook 1)", calls)
	}
	r := calls[0]
	if r.URL != "https://one.example/h" || r.Event != notify.EventLoadOverdue || string(r.Body) != string(body) ||
		r.LoadID != m.EventID || r.Sequence != 0 || r.WebhookID != hook.WebhookID(testClient, m.EventID, 1) {
		t.Errorf("request = %+v", r)
	}
	if got := e.record(delivery.Key{ClientID: testClient, LoadID: m.EventID, HookID: 1}); got.Status != delivery.StatusDelivered {
		t.Errorf("record = %+v, want delivered", got)
	}
}

// A failed event notification is retried as a load is: the retry message
// carries the same body, and the retry is sent with the event's type and
// the same webhook-id.
func TestEventNotificationIsRetriedWithItsType(t *testing.T) {
	e := newEnv(t)
	subscribeOverdue(e)
	m, body := overdueEvent()
	e.failWith(503)
	e.mustRun(t, retryEvent(string(m.Encode())))
	retries := e.queue.on(retryURL)
	if len(retries) != 1 {
		t.Fatalf("retry messages = %+v, want one", retries)
	}
	e.hooks.respond = func(webhook.Request) delivery.Attempt { return delivery.Attempt{Outcome: "success", StatusCode: 200} }
	e.mustRun(t, retryEvent(retries[0].Body))
	calls := e.hooks.calls()
	if len(calls) != 2 {
		t.Fatalf("requests = %d, want 2", len(calls))
	}
	for _, r := range calls {
		if r.Event != notify.EventLoadOverdue || string(r.Body) != string(body) || r.WebhookID != hook.WebhookID(testClient, m.EventID, 1) {
			t.Errorf("request = %+v", r)
		}
	}
	if got := e.record(delivery.Key{ClientID: testClient, LoadID: m.EventID, HookID: 1}); got.Status != delivery.StatusDelivered {
		t.Errorf("record = %+v, want delivered", got)
	}
}

// An event notification that exhausts its retries is alerted as a load is,
// the alert naming the event's type and its id as the load id, with no
// sequence: the headers its requests carried, for the email's curl command.
func TestEventNotificationAlertNamesItsType(t *testing.T) {
	e := newEnv(t)
	subscribeOverdue(e)
	m, _ := overdueEvent()
	e.failWith(503)
	e.mustRun(t, retryEvent(string(m.Encode())))
	for n := 2; n <= 6; n++ {
		retries := e.queue.on(retryURL)
		e.mustRun(t, retryEvent(retries[len(retries)-1].Body))
	}
	alerts := e.queue.on(alertURL)
	if len(alerts) != 1 {
		t.Fatalf("alerts = %+v, want one", alerts)
	}
	a, err := delivery.DecodeAlert([]byte(alerts[0].Body))
	if err != nil {
		t.Fatal(err)
	}
	if a.Event != notify.EventLoadOverdue || a.Sequence != 0 || a.LoadID != m.EventID || strings.Contains(alerts[0].Body, `"sequence"`) {
		t.Errorf("alert = %s, want event load_overdue, load id %s, no sequence", alerts[0].Body, m.EventID)
	}
}

// A malformed event message is dead-lettered with its reason and sends
// nothing.
func TestMalformedEventMessagesAreDeadLettered(t *testing.T) {
	m, _ := overdueEvent()
	good := string(m.Encode())
	tests := []struct{ name, body, reason string }{
		{"unknown key", strings.Replace(good, `"event":`, `"extra":1,"event":`, 1),
			"invalid event message: unknown key"},
		{"destination not positive", strings.Replace(good, `"event":`, `"destination_id":0,"event":`, 1),
			"invalid event message: destination_id: must be a positive integer"},
		{"no event id", strings.Replace(good, `"event_id":"freshness-overdue-1-0123456789abcdef",`, ``, 1),
			"invalid event message: event_id: required"},
		{"body not an object", strings.SplitN(good, `"body":`, 2)[0] + `"body":[]}`,
			"invalid event message: body: body must be a JSON object"},
		{"body of another type", strings.Replace(good, `"state":"overdue"`, `"state":"late"`, 1),
			"invalid event message: body: invalid load_overdue body: state: must be overdue or back_on_time"},
		{"type not the body's", strings.Replace(good, `"event":"load_overdue"`, `"event":"run_completed"`, 1),
			"invalid event message: event: not the type of its body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			subscribeOverdue(e)
			e.mustRun(t, retryEvent(tt.body))
			if got := e.queue.on(deadURL); len(got) != 1 || got[0].Reason != tt.reason {
				t.Errorf("dead letters = %+v, want reason %q", got, tt.reason)
			}
			if n := len(e.hooks.calls()); n != 0 {
				t.Errorf("requests = %d, want none", n)
			}
		})
	}
}
