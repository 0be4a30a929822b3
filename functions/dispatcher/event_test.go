package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// An event message on the retry queue is acknowledged with its log line and
// sends nothing; a malformed one is dead-lettered with its reason.
func TestEventMessagesAreAcknowledgedNotSent(t *testing.T) {
	good := string(delivery.EventMessage{Kind: delivery.KindEvent, ClientID: testClient, Event: "load_overdue",
		EventID: "freshness-overdue-1-0123456789abcdef", Body: json.RawMessage(`{"version":"1.0","type":"load_overdue"}`)}.Encode())
	tests := []struct {
		name, body, reason string
	}{
		{"well-formed", good, ""},
		{"unknown key", strings.Replace(good, `"event":`, `"extra":1,"event":`, 1), "invalid event message: keys are not exactly kind, client_id, event, event_id, body"},
		{"body not an object", strings.Replace(good, `"body":{"version":"1.0","type":"load_overdue"}`, `"body":[]`, 1), "invalid event message: body: body must be a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ev := sqsEvent(tt.body)
			ev.Records[0].EventSourceARN = retriesARN
			e.mustRun(t, ev)
			got := e.queue.on(deadURL)
			switch {
			case tt.reason == "" && len(got) != 0:
				t.Errorf("dead letters = %+v, want none", got)
			case tt.reason != "" && (len(got) != 1 || got[0].Reason != tt.reason):
				t.Errorf("dead letters = %+v, want reason %q", got, tt.reason)
			}
			if n := len(e.hooks.calls()); n != 0 {
				t.Errorf("requests = %d, want none", n)
			}
			if tt.reason == "" && !strings.Contains(e.logs.String(), "event notification not delivered") {
				t.Errorf("no log line for the acknowledged event:\n%s", e.logs.String())
			}
		})
	}
}
