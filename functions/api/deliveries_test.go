package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// Tests of the delivery history routes (list, one delivery, resend) on the
// in-memory store.

// fakeQueue records the retry messages a resend or replay queues, with
// their delays (err: every send
// fails).
type fakeQueue struct {
	mu     sync.Mutex
	msgs   []delivery.RetryMessage
	delays []int32
	err    error
}

func (q *fakeQueue) QueueRetry(_ context.Context, m delivery.RetryMessage, delay int32) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.msgs = append(q.msgs, m)
	q.delays = append(q.delays, delay)
	return nil
}

func (q *fakeQueue) sent() []delivery.RetryMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]delivery.RetryMessage(nil), q.msgs...)
}

// seedDelivery keeps a finished delivery of loadID to hook id of clientID
// (a failed one when failed), created at the store's clock.
func seedDelivery(t *testing.T, s *testStore, clientID, id int64, loadID string, failed bool) {
	t.Helper()
	a := delivery.Attempt{At: s.now(), Outcome: delivery.OutcomeSuccess, StatusCode: http.StatusNoContent, LatencyMs: 7}
	if failed {
		a = delivery.Attempt{At: s.now(), Outcome: delivery.OutcomeHTTPStatus, StatusCode: 500, LatencyMs: 9, Snippet: "down"}
	}
	if err := s.RecordTest(context.Background(), delivery.Key{ClientID: clientID, LoadID: loadID, HookID: id}, []byte(exampleNotification), a); err != nil {
		t.Fatal(err)
	}
}

func deliveriesPath(id int64) string { return fmt.Sprintf("%s/%d/deliveries", hooksPath, id) }

type deliveryPage struct {
	Data []struct {
		ID, LoadID, Status, WebhookID string
	}
	NextCursor *string `json:"next_cursor"`
}

func decodePage(t *testing.T, body string) deliveryPage {
	t.Helper()
	var raw struct {
		Data []struct {
			ID        string `json:"id"`
			LoadID    string `json:"load_id"`
			Status    string `json:"status"`
			WebhookID string `json:"webhook_id"`
		} `json:"data"`
		NextCursor *string `json:"next_cursor"`
	}
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatalf("page %s: %v", body, err)
	}
	p := deliveryPage{NextCursor: raw.NextCursor}
	for _, d := range raw.Data {
		p.Data = append(p.Data, struct{ ID, LoadID, Status, WebhookID string }{d.ID, d.LoadID, d.Status, d.WebhookID})
	}
	return p
}

func TestListDeliveries(t *testing.T) {
	api := newTestAPI(t)
	h := api.store.seedHook(clientA, urlA, false)
	base := testNow
	for i := range 3 {
		api.store.now = func() time.Time { return base.Add(time.Duration(i) * time.Minute) }
		seedDelivery(t, api.store, clientA, h.ID, fmt.Sprintf("load-%d", i), i == 1)
	}
	api.store.now = func() time.Time { return testNow }

	want := `{"data":[` +
		`{"id":"bG9hZC0y","load_id":"load-2","integration_name":"shopify","tables":["orders"],"status":"delivered","webhook_id":"` + hook.WebhookID(clientA, "load-2", h.ID) + `","created_at":"2026-07-16T16:49:54Z","attempts":[{"at":"2026-07-16T16:49:54Z","outcome":"success","status_code":204,"latency_ms":7,"response_snippet":""}]},` +
		`{"id":"bG9hZC0x","load_id":"load-1","integration_name":"shopify","tables":["orders"],"status":"exhausted","webhook_id":"` + hook.WebhookID(clientA, "load-1", h.ID) + `","created_at":"2026-07-16T16:48:54Z","attempts":[{"at":"2026-07-16T16:48:54Z","outcome":"http_status","status_code":500,"latency_ms":9,"response_snippet":"down"}]},` +
		`{"id":"bG9hZC0w","load_id":"load-0","integration_name":"shopify","tables":["orders"],"status":"delivered","webhook_id":"` + hook.WebhookID(clientA, "load-0", h.ID) + `","created_at":"2026-07-16T16:47:54Z","attempts":[{"at":"2026-07-16T16:47:54Z","outcome":"success","status_code":204,"latency_ms":7,"response_snippet":""}]}` +
		`],"next_cursor":null}`
	status, body := api.do(t, "GET", deliveriesPath(h.ID), bearer(tokenA), "")
	checkResponse(t, status, body, http.StatusOK, want)

	status, body = api.do(t, "GET", deliveriesPath(h.ID)+"?status=exhausted", bearer(tokenA), "")
	if p := decodePage(t, body); status != http.StatusOK || len(p.Data) != 1 || p.Data[0].LoadID != "load-1" {
		t.Errorf("status=exhausted: got %d %s, want load-1 only", status, body)
	}

	// Paging with limit 1 returns each delivery once, newest first.
	var seen []string
	next := ""
	for range 10 {
		target := deliveriesPath(h.ID) + "?limit=1"
		if next != "" {
			target += "&cursor=" + url.QueryEscape(next)
		}
		status, body := api.do(t, "GET", target, bearer(tokenA), "")
		if status != http.StatusOK {
			t.Fatalf("page: %d %s", status, body)
		}
		p := decodePage(t, body)
		for _, d := range p.Data {
			seen = append(seen, d.LoadID)
		}
		if p.NextCursor == nil {
			break
		}
		next = *p.NextCursor
	}
	if got := strings.Join(seen, ","); got != "load-2,load-1,load-0" {
		t.Errorf("paged %s, want load-2,load-1,load-0", got)
	}

	// Another account's hook, and an empty history.
	status, body = api.do(t, "GET", deliveriesPath(h.ID), bearer(tokenB), "")
	checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
	hb := api.store.seedHook(clientB, urlA, false)
	status, body = api.do(t, "GET", deliveriesPath(hb.ID), bearer(tokenB), "")
	checkResponse(t, status, body, http.StatusOK, `{"data":[],"next_cursor":null}`)
}

func TestListDeliveriesBadQuery(t *testing.T) {
	api := newTestAPI(t)
	h := api.store.seedHook(clientA, urlA, false)
	for i := range 2 {
		seedDelivery(t, api.store, clientA, h.ID, fmt.Sprintf("load-%d", i), false)
	}
	_, body := api.do(t, "GET", deliveriesPath(h.ID)+"?limit=1", bearer(tokenA), "")
	p := decodePage(t, body)
	if p.NextCursor == nil {
		t.Fatalf("no cursor in %s", body)
	}
	cursor := url.QueryEscape(*p.NextCursor)
	for _, tt := range []struct{ query, want string }{
		{"limit=0", bodyInvalidLimit}, {"limit=101", bodyInvalidLimit}, {"limit=abc", bodyInvalidLimit},
		{"limit=", bodyInvalidLimit}, {"limit=-1", bodyInvalidLimit}, {"limit=1.5", bodyInvalidLimit},
		{"limit=1&limit=2", bodyInvalidLimit}, {"limit=01", bodyInvalidLimit},
		{"status=lost", bodyInvalidStatus}, {"status=", bodyInvalidStatus}, {"status=Delivered", bodyInvalidStatus},
		{"cursor=", bodyInvalidCursor}, {"cursor=%%%", bodyInvalidCursor}, {"cursor=bm90LWEtY3Vyc29y", bodyInvalidCursor},
		{"cursor=" + cursor + "&status=delivered", bodyInvalidCursor},
	} {
		t.Run(tt.query, func(t *testing.T) {
			status, body := api.do(t, "GET", deliveriesPath(h.ID)+"?"+tt.query, bearer(tokenA), "")
			checkResponse(t, status, body, http.StatusBadRequest, tt.want)
		})
	}
	// The cursor of hook 1 on another hook, and on another account.
	h2 := api.store.seedHook(clientA, "https://hooks.example.com/two", false)
	status, body := api.do(t, "GET", deliveriesPath(h2.ID)+"?cursor="+cursor, bearer(tokenA), "")
	checkResponse(t, status, body, http.StatusBadRequest, bodyInvalidCursor)
	hb := api.store.seedHook(clientB, urlA, false)
	status, body = api.do(t, "GET", deliveriesPath(hb.ID)+"?cursor="+cursor, bearer(tokenB), "")
	checkResponse(t, status, body, http.StatusBadRequest, bodyInvalidCursor)
}

func TestGetDelivery(t *testing.T) {
	api := newTestAPI(t)
	h := api.store.seedHook(clientA, urlA, false)
	seedDelivery(t, api.store, clientA, h.ID, "load-7", true)
	path := deliveriesPath(h.ID) + "/" + delivery.ID("load-7")
	body, _ := json.Marshal(exampleNotification)
	want := `{"id":"bG9hZC03","load_id":"load-7","integration_name":"shopify","tables":["orders"],"status":"exhausted","webhook_id":"` +
		hook.WebhookID(clientA, "load-7", h.ID) + `","created_at":"2026-07-16T16:47:54Z","attempts":[{"at":"2026-07-16T16:47:54Z","outcome":"http_status","status_code":500,"latency_ms":9,"response_snippet":"down"}],"body":` + string(body) + `}`
	status, got := api.do(t, "GET", path, bearer(tokenA), "")
	checkResponse(t, status, got, http.StatusOK, want)

	hb := api.store.seedHook(clientB, urlA, false)
	h2 := api.store.seedHook(clientA, "https://hooks.example.com/two", false)
	for _, tt := range []struct{ name, token, path string }{
		{"another account", tokenB, path},
		{"another account's hook of the same id", tokenB, deliveriesPath(hb.ID) + "/" + delivery.ID("load-7")},
		{"another hook", tokenA, deliveriesPath(h2.ID) + "/" + delivery.ID("load-7")},
		{"unknown delivery", tokenA, deliveriesPath(h.ID) + "/" + delivery.ID("load-8")},
		{"malformed id", tokenA, deliveriesPath(h.ID) + "/bG9hZC03="},
		{"unknown hook", tokenA, deliveriesPath(9) + "/" + delivery.ID("load-7")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := api.do(t, "GET", tt.path, bearer(tt.token), "")
			checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
		})
	}
}

func TestTestSendKeptInHistory(t *testing.T) {
	api := newTestAPI(t)
	h := api.store.seedHook(clientA, urlA, false)
	status, body := api.do(t, "POST", hooksPath+"/1/test", bearer(tokenA), "")
	if status != http.StatusOK {
		t.Fatalf("test: %d %s", status, body)
	}
	sent := api.sender.sent()
	if len(sent) != 1 {
		t.Fatalf("sent %d requests, want 1", len(sent))
	}
	_, body = api.do(t, "GET", deliveriesPath(h.ID), bearer(tokenA), "")
	p := decodePage(t, body)
	if len(p.Data) != 1 || p.Data[0].LoadID != sent[0].LoadID || !strings.HasPrefix(p.Data[0].LoadID, "test-") ||
		p.Data[0].Status != delivery.StatusDelivered || p.Data[0].WebhookID != sent[0].WebhookID {
		t.Errorf("history %s, want the test %s delivered", body, sent[0].LoadID)
	}
	status, got := api.do(t, "GET", deliveriesPath(h.ID)+"/"+p.Data[0].ID, bearer(tokenA), "")
	var d struct {
		Body string `json:"body"`
	}
	if status != http.StatusOK || json.Unmarshal([]byte(got), &d) != nil || d.Body != exampleNotification {
		t.Errorf("test delivery %d %s, want the example body", status, got)
	}
}

func TestResend(t *testing.T) {
	q := &fakeQueue{}
	api := newTestAPIHooks(t, hooksConfig{retries: q})
	h := api.store.seedHook(clientA, urlA, false)
	seedDelivery(t, api.store, clientA, h.ID, "load-1", true)
	path := deliveriesPath(h.ID) + "/" + delivery.ID("load-1") + "/resend"
	status, body := api.do(t, "POST", path, bearer(tokenA), "")
	if status != http.StatusAccepted || !strings.Contains(body, `"status":"attempting"`) || strings.Contains(body, `"body"`) {
		t.Fatalf("resend: %d %s, want 202 and the waiting delivery", status, body)
	}
	msgs := q.sent()
	if len(msgs) != 1 {
		t.Fatalf("queued %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.Kind != delivery.KindRetry || m.ClientID != clientA || m.HookID != h.ID || m.LoadID != "load-1" || m.Attempt != 1 ||
		m.WebhookID != hook.WebhookID(clientA, "load-1", h.ID) || string(m.Body) != exampleNotification {
		t.Errorf("queued %+v, want attempt 1 of load-1 with the same webhook id and body", m)
	}

	// Still in progress: answered as it is, nothing queued.
	status, again := api.do(t, "POST", path, bearer(tokenA), "")
	checkResponse(t, status, again, http.StatusAccepted, body)
	if n := len(q.sent()); n != 1 {
		t.Errorf("queued %d messages, want still 1", n)
	}

	status, got := api.do(t, "POST", path, bearer(tokenB), "")
	checkResponse(t, status, got, http.StatusNotFound, bodyNotFound)
	status, got = api.do(t, "POST", deliveriesPath(h.ID)+"/"+delivery.ID("load-2")+"/resend", bearer(tokenA), "")
	checkResponse(t, status, got, http.StatusNotFound, bodyNotFound)
	status, got = api.do(t, "POST", path, bearer(tokenA), "{}")
	checkResponse(t, status, got, http.StatusBadRequest, bodyInvalidPostBody)
}

func TestResendNeedsFeatureAndEnabledHook(t *testing.T) {
	q := &fakeQueue{}
	api := newTestAPIHooks(t, hooksConfig{retries: q})
	off := api.store.seedHook(clientA, urlA, true)
	seedDelivery(t, api.store, clientA, off.ID, "load-1", true)
	status, body := api.do(t, "POST", deliveriesPath(off.ID)+"/"+delivery.ID("load-1")+"/resend", bearer(tokenA), "")
	checkResponse(t, status, body, http.StatusBadRequest, bodyHookDisabled)

	// No feature and disabled: the no-access body wins.
	std := api.store.seedHook(clientStd, urlA, true)
	seedDelivery(t, api.store, clientStd, std.ID, "load-1", true)
	status, body = api.do(t, "POST", deliveriesPath(std.ID)+"/"+delivery.ID("load-1")+"/resend", bearer(tokenStd), "")
	checkResponse(t, status, body, http.StatusBadRequest, bodyNoAccess)
	if n := len(q.sent()); n != 0 {
		t.Errorf("queued %d messages, want none", n)
	}
	// The history itself is readable on any plan.
	status, _ = api.do(t, "GET", deliveriesPath(std.ID), bearer(tokenStd), "")
	if status != http.StatusOK {
		t.Errorf("list on the standard plan: %d, want 200", status)
	}
}

func TestResendQueueFailure(t *testing.T) {
	api := newTestAPIHooks(t, hooksConfig{retries: &fakeQueue{err: errors.New("queue down")}})
	h := api.store.seedHook(clientA, urlA, false)
	seedDelivery(t, api.store, clientA, h.ID, "load-1", true)
	status, body := api.do(t, "POST", deliveriesPath(h.ID)+"/"+delivery.ID("load-1")+"/resend", bearer(tokenA), "")
	checkResponse(t, status, body, http.StatusInternalServerError, bodyInternal)
	if logs := api.logs.String(); !strings.Contains(logs, "queue down") {
		t.Errorf("logs %s, want the queue error", logs)
	}
}

// TestResendQueueFailureUndone: after a failed queue send the delivery is
// exhausted again, and a resend once the queue is back queues it.
func TestResendQueueFailureUndone(t *testing.T) {
	q := &fakeQueue{err: errors.New("queue down")}
	api := newTestAPIHooks(t, hooksConfig{retries: q})
	h := api.store.seedHook(clientA, urlA, false)
	seedDelivery(t, api.store, clientA, h.ID, "load-1", true)
	path := deliveriesPath(h.ID) + "/" + delivery.ID("load-1")
	status, body := api.do(t, "POST", path+"/resend", bearer(tokenA), "")
	checkResponse(t, status, body, http.StatusInternalServerError, bodyInternal)
	if status, body := api.do(t, "GET", path, bearer(tokenA), ""); status != http.StatusOK || !strings.Contains(body, `"status":"exhausted"`) {
		t.Errorf("after the failed resend: %d %s, want it exhausted as before", status, body)
	}
	q.mu.Lock()
	q.err = nil
	q.mu.Unlock()
	status, body = api.do(t, "POST", path+"/resend", bearer(tokenA), "")
	if status != http.StatusAccepted || len(q.sent()) != 1 {
		t.Errorf("resend with the queue back: %d %s, %d queued", status, body, len(q.sent()))
	}
}

// TestResendOfATestDelivery: a test notification's delivery is refused
// with 400 and nothing is queued; an unknown test- id is still 404.
func TestResendOfATestDelivery(t *testing.T) {
	q := &fakeQueue{}
	api := newTestAPIHooks(t, hooksConfig{retries: q})
	h := api.store.seedHook(clientA, urlA, false)
	seedDelivery(t, api.store, clientA, h.ID, delivery.TestLoadPrefix+"abc", true)
	status, body := api.do(t, "POST", deliveriesPath(h.ID)+"/"+delivery.ID(delivery.TestLoadPrefix+"abc")+"/resend", bearer(tokenA), "")
	checkResponse(t, status, body, http.StatusBadRequest, bodyTestDelivery)
	status, body = api.do(t, "POST", deliveriesPath(h.ID)+"/"+delivery.ID(delivery.TestLoadPrefix+"none")+"/resend", bearer(tokenA), "")
	checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
	if n := len(q.sent()); n != 0 {
		t.Errorf("queued %d, want none", n)
	}
}
