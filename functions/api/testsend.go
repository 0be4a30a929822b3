package main

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// testSendTimeout bounds the one attempt of a test notification: well
// within API Gateway's 29 s and the function's own timeout, so the member
// always gets the attempt back (a slower endpoint is a timeout).
const testSendTimeout = 10 * time.Second

// exampleNotification is the body of a test notification: the documented
// example of the webhook body (version 1.0), byte for byte.
const exampleNotification = `{"version":"1.0","minimum_sdc_batched_at":"2026-07-15T14:45:08.026Z","integration_name":"shopify",` +
	`"new_version":false,"source_root_table_name":"orders","destination_root_table_name":"orders","table_version":0,` +
	`"tables":[{"source_table_name":"orders","destination_table_name":"orders","num_rows":100,"num_rows_rejected":11,` +
	`"s3_objects":["stitch-s3-bucket/orders/0_1563294550038.jsonl"],"primary_keys":["order_id"],` +
	`"bookmark_metadata":[{"key":"updated_at","max_value":"2026-06-30T00:00:00Z","min_value":"2026-06-01T00:00:00Z"}],` +
	`"max_time_extracted":"2026-07-15T14:43:09.030Z"}]}`

// webhookSender makes one webhook attempt (*webhook.Client, the client the
// dispatcher delivers with: public addresses only, no redirects, bounded).
type webhookSender interface {
	Deliver(ctx context.Context, r webhook.Request) delivery.Attempt
}

// testSender is what a test notification reads from the store.
type testSender interface {
	accountGetter
	GetHook(ctx context.Context, clientID, id int64) (hook.Hook, error)
}

// testRecorder keeps a test notification's attempt in the history.
type testRecorder interface {
	RecordTest(ctx context.Context, k delivery.Key, body []byte, a delivery.Attempt) error
}

// handleTestSend serves POST .../hooks/{id}/test, without a body: one
// signed example notification sent now, answered 200 with
// {"attempt":{...}}. No retry follows and no alert is sent, whatever the
// outcome. It needs the feature and an enabled hook.
func handleTestSend(log *slog.Logger, s interface {
	memberAuth
	testSender
	testRecorder
}, send webhookSender) http.Handler {
	return onHookWithoutBody(log, s, func(w http.ResponseWriter, r *http.Request, p hook.Principal, id int64) error {
		a, err := sendTest(r.Context(), s, send, p.ClientID, id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, testSendJSON{Attempt: newAttemptJSON(a)})
		return nil
	})
}

// sendTest is how a member tests a hook, through the JSON API or the web
// page alike. It returns hook.ErrNotFound (no such hook in the account),
// hook.ErrNoAccess (the plan lacks the feature; it wins over a disabled
// hook) or hook.ErrDisabled, else the attempt, which the history keeps as a
// test delivery (final at once: delivered or exhausted).
func sendTest(ctx context.Context, s interface {
	testSender
	testRecorder
}, send webhookSender, clientID, id int64) (delivery.Attempt, error) {
	h, err := hookUsable(ctx, s, clientID, id)
	if err != nil {
		return delivery.Attempt{}, err
	}
	loadID := delivery.TestLoadPrefix + rand.Text()
	body := []byte(exampleNotification)
	a := send.Deliver(ctx, webhook.Request{
		ClientID: clientID, URL: h.URL, LoadID: loadID, Event: hook.EventTableLoaded, WebhookID: hook.WebhookID(clientID, loadID, h.ID),
		Secret: h.Secret, PreviousSecret: h.PreviousSecret, PreviousSecretExpiresAt: h.PreviousSecretExpiresAt,
		Body: body,
	}).Bounded()
	if err := s.RecordTest(ctx, delivery.Key{ClientID: clientID, LoadID: loadID, HookID: h.ID}, body, a); err != nil {
		return delivery.Attempt{}, err
	}
	return a, nil
}

// testSendJSON is the answer of a test notification.
type testSendJSON struct {
	Attempt attemptJSON `json:"attempt"`
}

// attemptJSON is one attempt as the API shows it: status_code is null when
// no response came, response_snippet the first 1 KiB of the response body
// ("" when it had none).
type attemptJSON struct {
	At              string `json:"at"`
	Outcome         string `json:"outcome"`
	StatusCode      *int   `json:"status_code"`
	LatencyMs       int64  `json:"latency_ms"`
	ResponseSnippet string `json:"response_snippet"`
}

func newAttemptJSON(a delivery.Attempt) attemptJSON {
	j := attemptJSON{At: formatTime(a.At), Outcome: a.Outcome, LatencyMs: a.LatencyMs, ResponseSnippet: a.Snippet}
	if a.StatusCode != 0 {
		j.StatusCode = &a.StatusCode
	}
	return j
}
