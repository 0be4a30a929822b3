package webhook_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/scripts/devkit/receiver"
	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// TestDeliverReadsRetryAfter: the kit's receiver answers with Retry-After
// and the attempt carries the wait only for 429 and 503, and the
// schedule's decision then waits for it.
func TestDeliverReadsRetryAfter(t *testing.T) {
	srv := receiver.New()
	l, ca := devstack.Receiver(t, srv)
	now := time.Now().UTC().Truncate(time.Second)
	c, err := webhook.NewClient(webhook.Options{AllowPrivate: true, ExtraCAFile: ca, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	secret := "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	header := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}
	tests := []struct {
		name   string
		answer receiver.Answer
		// dateAhead, when set, answers Retry-After with the HTTP date this
		// far ahead of the moment of answering.
		dateAhead time.Duration
		want      time.Duration
	}{
		{"429 with seconds", receiver.Answer{Status: 429, Header: header("Retry-After", "120")}, 0, 2 * time.Minute},
		{"503 with seconds", receiver.Answer{Status: 503, Header: header("Retry-After", "7")}, 0, 7 * time.Second},
		{"503 with a date 5 minutes ahead of its own clock", receiver.Answer{Status: 503}, 5 * time.Minute, 5 * time.Minute},
		{"429 asking for an hour: capped", receiver.Answer{Status: 429, Header: header("Retry-After", "3600")}, 0, 15 * time.Minute},
		{"429 with garbage", receiver.Answer{Status: 429, Header: header("Retry-After", "later")}, 0, 0},
		{"429 with two different fields", receiver.Answer{Status: 429, Header: header("Retry-After", "60", "Retry-After", "120")}, 0, 0},
		{"429 without it", receiver.Answer{Status: 429}, 0, 0},
		{"500 with it: not honoured", receiver.Answer{Status: 500, Header: header("Retry-After", "120")}, 0, 0},
		{"200 with it: not honoured", receiver.Answer{Status: 200, Header: header("Retry-After", "120")}, 0, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/hooks/ra" + string(rune('a'+i))
			got := make(chan receiver.Delivery, 1)
			respond := func(receiver.Delivery) receiver.Answer {
				a := tt.answer
				if tt.dateAhead > 0 {
					a.Header = header("Retry-After", time.Now().UTC().Add(tt.dateAhead).Format(http.TimeFormat))
				}
				return a
			}
			remove := srv.Handle(path, receiver.Route{Secret: secret, Respond: respond, OnDelivery: func(d receiver.Delivery) { got <- d }})
			defer remove()
			a := c.Deliver(context.Background(), webhook.Request{ClientID: 1, URL: l.URL() + path, WebhookID: "msg_ra", Secret: secret, Body: []byte(`{}`)})
			if d := <-got; !d.Verified || d.Answer.Status != tt.answer.Status {
				t.Fatalf("receiver got verified=%v (%s), answered %d, want a verified delivery answered %d", d.Verified, d.Problem, d.Answer.Status, tt.answer.Status)
			}
			if a.StatusCode != tt.answer.Status {
				t.Fatalf("StatusCode %d, want %d", a.StatusCode, tt.answer.Status)
			}
			// A date is measured from the receiver's Date header, written
			// just after the value: a second may tick in between.
			if a.RetryAfter != tt.want && !(tt.dateAhead > 0 && a.RetryAfter == tt.want-time.Second) {
				t.Errorf("RetryAfter %v, want %v", a.RetryAfter, tt.want)
			}
			if tt.answer.Status < 300 {
				return
			}
			// The retry after the first of three attempts waits the longer
			// of its 1 s schedule and Retry-After.
			d := delivery.Schedule{time.Second, time.Second}.Decide(1, a, func() float64 { return 0.5 })
			if want := max(time.Second, a.RetryAfter); d.Action != delivery.Retry || d.Delay != want {
				t.Errorf("Decide = %v after %v, want retry after %v", d.Action, d.Delay, want)
			}
		})
	}
}
