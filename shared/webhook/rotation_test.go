package webhook

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// TestDeliverDuringSecretRotation: while the previous secret is live an
// attempt carries "v1,<new> v1,<old>", and the official Standard Webhooks
// library verifies it with either secret; from its expiry on only the new
// signature is sent and the old secret verifies nothing. The clock is the
// real one (shifted expiries instead), because the library judges the
// timestamp against time.Now.
func TestDeliverDuringSecretRotation(t *testing.T) {
	rc := newReceiver(t, nil, nil)
	now := time.Now().Truncate(time.Second)
	c := newTestClient(t, Options{AllowPrivate: true, ExtraCAFile: rc.caFile, Now: func() time.Time { return now }})
	newSecret, oldSecret := hook.NewSecret(), hook.NewSecret()
	body := []byte(`{"version":"1.0","integration_name":"shopify"}`)

	tests := []struct {
		name      string
		expiresAt time.Time
		previous  string
		wantOld   bool
	}{
		{"overlap", now.Add(24 * time.Hour), oldSecret, true},
		{"last second of the overlap", now.Add(time.Second), oldSecret, true},
		{"at the expiry", now, oldSecret, false},
		{"after the overlap", now.Add(-time.Second), oldSecret, false},
		{"never rotated", time.Time{}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := c.Deliver(context.Background(), Request{URL: rc.URL, WebhookID: "msg_rot", Secret: newSecret,
				PreviousSecret: tt.previous, PreviousSecretExpiresAt: tt.expiresAt, Body: body})
			if a.Outcome != delivery.OutcomeSuccess {
				t.Fatalf("attempt = %+v", a)
			}
			_, h, gotBody := rc.seen()
			wantNew, err := Sign(newSecret, "msg_rot", now, body)
			if err != nil {
				t.Fatal(err)
			}
			want := wantNew
			if tt.wantOld {
				wantOld, err := Sign(oldSecret, "msg_rot", now, body)
				if err != nil {
					t.Fatal(err)
				}
				want = wantNew + " " + wantOld
			}
			if got := h.Get("webhook-signature"); got != want {
				t.Errorf("webhook-signature = %q, want %q", got, want)
			}
			if err := libraryVerify(t, newSecret, gotBody, h); err != nil {
				t.Errorf("the library refuses the new secret: %v", err)
			}
			err = libraryVerify(t, oldSecret, gotBody, h)
			if tt.wantOld && err != nil {
				t.Errorf("the library refuses the old secret during the overlap: %v", err)
			}
			if !tt.wantOld && err == nil {
				t.Error("the library accepts the old secret after the overlap")
			}
			if err := Verify(oldSecret, h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"), gotBody); (err == nil) != tt.wantOld {
				t.Errorf("Verify with the old secret = %v, want success %v", err, tt.wantOld)
			}
		})
	}
}

func libraryVerify(t *testing.T, secret string, body []byte, h http.Header) error {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	return wh.Verify(body, h)
}

// TestDeliverMalformedPreviousSecret: a live previous secret that cannot
// sign sends nothing, as a malformed secret does.
func TestDeliverMalformedPreviousSecret(t *testing.T) {
	rc := newReceiver(t, nil, nil)
	c := newTestClient(t, Options{AllowPrivate: true, ExtraCAFile: rc.caFile})
	a := c.Deliver(context.Background(), Request{URL: rc.URL, WebhookID: "msg_rot", Secret: testSecret,
		PreviousSecret: "whsec_!!", PreviousSecretExpiresAt: time.Now().Add(time.Hour), Body: []byte(`{}`)})
	if a.Outcome != delivery.OutcomeConnection || !strings.Contains(a.Error, "secret") || rc.requests.Load() != 0 {
		t.Errorf("attempt = %+v after %d requests, want a refused secret and none sent", a, rc.requests.Load())
	}
}
