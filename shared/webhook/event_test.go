package webhook_test

import (
	"context"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/scripts/devkit/receiver"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// TestEventAndLoadIDHeaders: every request names its event type in
// webhook-event (table_loaded when the caller names none) and carries the
// loader's load_id in webhook-load-id, as the repository's receiver sees
// them, with the signature still verifying.
func TestEventAndLoadIDHeaders(t *testing.T) {
	if webhook.EventTableLoaded != hook.EventTableLoaded {
		t.Fatalf("webhook.EventTableLoaded = %q, hook.EventTableLoaded = %q", webhook.EventTableLoaded, hook.EventTableLoaded)
	}
	srv := receiver.New()
	secret := hook.NewSecret()
	got := make(chan receiver.Delivery, 10)
	srv.Handle("/catch", receiver.Route{Secret: secret, Answer: receiver.Answer{Status: 204}, OnDelivery: func(d receiver.Delivery) { got <- d }})
	l, caFile := devstack.Receiver(t, srv)
	c, err := webhook.NewClient(webhook.Options{AllowPrivate: true, ExtraCAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, event, loadID string
		wantEvent           string
	}{
		{"default is table_loaded", "", "b2f6c1d0-1", hook.EventTableLoaded},
		{"table_loaded", hook.EventTableLoaded, "b2f6c1d0-2", hook.EventTableLoaded},
		{"run_completed", hook.EventRunCompleted, "b2f6c1d0-3", hook.EventRunCompleted},
		{"load_overdue", hook.EventLoadOverdue, "b2f6c1d0-4", hook.EventLoadOverdue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := c.Deliver(context.Background(), webhook.Request{ClientID: 1, URL: l.URL() + "/catch", LoadID: tt.loadID,
				Event: tt.event, WebhookID: "msg_" + tt.loadID, Secret: secret, Body: []byte(`{"version":"1.0"}`)})
			if a.Outcome != delivery.OutcomeSuccess {
				t.Fatalf("attempt %+v, want success", a)
			}
			var d receiver.Delivery
			select {
			case d = <-got:
			case <-time.After(10 * time.Second):
				t.Fatal("receiver saw no request")
			}
			if !d.Verified {
				t.Errorf("signature not verified: %s", d.Problem)
			}
			if g := d.Header.Get("webhook-event"); g != tt.wantEvent {
				t.Errorf("webhook-event = %q, want %q", g, tt.wantEvent)
			}
			if g := d.Header.Get("webhook-load-id"); g != tt.loadID {
				t.Errorf("webhook-load-id = %q, want %q", g, tt.loadID)
			}
			if vs := d.Header.Values("webhook-event"); len(vs) != 1 {
				t.Errorf("webhook-event sent %d times, want once", len(vs))
			}
		})
	}
}
