package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// Tests of POST .../hooks/{id}/replay on the in-memory store.

// newReplayAPI is newTestAPIHooks with a recording queue, replay rate 2 a
// second and a store clock that advances a second per call (so the seeded
// deliveries have distinct created-at times).
func newReplayAPI(t *testing.T) (*testAPI, *fakeQueue) {
	t.Helper()
	q := &fakeQueue{}
	var mu sync.Mutex
	clock := testNow
	tick := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
	api := newTestAPIHooks(t, hooksConfig{retries: q, replayRate: 2, now: tick})
	api.store.now = tick
	return api, q
}

// loadRecorder is how the dispatcher records a load's deliveries (the real
// store or memstore).
type loadRecorder interface {
	ClaimLoad(ctx context.Context, l delivery.Load, hookIDs []int64, token string, lease time.Duration) ([]delivery.Claim, map[int64]*delivery.Record, error)
	RecordResults(ctx context.Context, rs []delivery.Result) ([]delivery.Record, []error)
}

// seedLoadDelivery records one real (not test) delivery of loadID to the
// hooks, ended with status (exhausted or delivered), on the test store.
func seedLoadDelivery(t *testing.T, s *testStore, clientID int64, loadID, status string, hookIDs ...int64) {
	t.Helper()
	recordLoad(t, s, s.now(), clientID, loadID, status, hookIDs...)
}

// recordLoad is seedLoadDelivery on any store, its attempt made at.
func recordLoad(t *testing.T, s loadRecorder, at time.Time, clientID int64, loadID, status string, hookIDs ...int64) {
	t.Helper()
	ctx := context.Background()
	l := delivery.Load{ClientID: clientID, LoadID: loadID, IntegrationName: "shopify", Tables: []string{"orders"}, Body: []byte(exampleNotification)}
	claims, conflicts, err := s.ClaimLoad(ctx, l, hookIDs, "tok-"+loadID, time.Minute)
	if err != nil || len(conflicts) != 0 {
		t.Fatalf("ClaimLoad: %v %v", conflicts, err)
	}
	var rs []delivery.Result
	for _, c := range claims {
		a := delivery.Attempt{At: at, Outcome: delivery.OutcomeSuccess, StatusCode: 200, LatencyMs: 3}
		if status != delivery.StatusDelivered {
			a = delivery.Attempt{At: at, Outcome: delivery.OutcomeHTTPStatus, StatusCode: 500, LatencyMs: 9, Snippet: "down", Error: "http_status"}
		}
		rs = append(rs, delivery.Result{Claim: c, Attempt: a, Status: status})
	}
	if _, errs := s.RecordResults(ctx, rs); errs[0] != nil {
		t.Fatal(errs[0])
	}
}

func replayPath(id int64) string { return fmt.Sprintf("%s/%d/replay", hooksPath, id) }

func sinceBody(t time.Time) string { return `{"since":"` + t.Format(time.RFC3339) + `"}` }

func TestReplay(t *testing.T) {
	api, q := newReplayAPI(t)
	h := api.store.seedHook(clientA, urlA, false)
	for i := range 7 {
		status := delivery.StatusExhausted
		if i == 3 {
			status = delivery.StatusDelivered
		}
		seedLoadDelivery(t, api.store, clientA, fmt.Sprintf("load-%d", i), status, h.ID)
	}
	seedDelivery(t, api.store, clientA, h.ID, "test-1", true) // a failed test send is not replayed
	status, body := api.do(t, "POST", replayPath(h.ID), bearer(tokenA), sinceBody(testNow))
	checkResponse(t, status, body, http.StatusAccepted, `{"replayed":6}`)
	var ids []string
	for _, m := range q.sent() {
		ids = append(ids, m.LoadID)
		if m.Kind != delivery.KindRetry || m.ClientID != clientA || m.HookID != h.ID || m.Attempt != 1 ||
			m.WebhookID != hook.WebhookID(clientA, m.LoadID, h.ID) || string(m.Body) != exampleNotification {
			t.Errorf("queued %+v, want attempt 1 with the same webhook id and body", m)
		}
	}
	q.mu.Lock()
	delays := fmt.Sprint(q.delays)
	q.mu.Unlock()
	if fmt.Sprint(ids) != "[load-0 load-1 load-2 load-4 load-5 load-6]" || delays != "[0 0 1 1 2 2]" {
		t.Errorf("queued %v with delays %v; want the exhausted ones oldest first, 2 a second", ids, delays)
	}
	// Replayed deliveries wait for their retry: no longer exhausted.
	status, body = api.do(t, "POST", replayPath(h.ID), bearer(tokenA), sinceBody(testNow))
	checkResponse(t, status, body, http.StatusAccepted, `{"replayed":0}`)
	if n := len(q.sent()); n != 6 {
		t.Errorf("queued %d messages, want still 6", n)
	}
}

func TestReplayWindow(t *testing.T) {
	api, q := newReplayAPI(t)
	h := api.store.seedHook(clientA, urlA, false)
	for i := range 4 {
		seedLoadDelivery(t, api.store, clientA, fmt.Sprintf("load-%d", i), delivery.StatusExhausted, h.ID)
	}
	// The store clock ticks a second per call; a window ending before the
	// first delivery replays none, and since is included.
	status, body := api.do(t, "POST", replayPath(h.ID), bearer(tokenA),
		`{"since":"`+testNow.Add(-time.Hour).Format(time.RFC3339)+`","until":"`+testNow.Format(time.RFC3339)+`"}`)
	checkResponse(t, status, body, http.StatusAccepted, `{"replayed":0}`)
	status, body = api.do(t, "POST", replayPath(h.ID), bearer(tokenA),
		`{"since":"`+testNow.Format(time.RFC3339)+`","until":"`+testNow.Add(30*24*time.Hour).Format(time.RFC3339)+`"}`)
	checkResponse(t, status, body, http.StatusAccepted, `{"replayed":4}`)
	if n := len(q.sent()); n != 4 {
		t.Errorf("queued %d messages, want 4", n)
	}
}

func TestReplayDelay(t *testing.T) {
	for _, tc := range []struct {
		i, rate int
		want    int32
	}{{0, 10, 0}, {9, 10, 0}, {10, 10, 1}, {999, 10, 99}, {5, 2, 2}, {999, 1, 900}, {3, 0, 3}} {
		if got := delivery.ReplayDelay(tc.i, tc.rate); got != tc.want {
			t.Errorf("ReplayDelay(%d, %d) = %d, want %d", tc.i, tc.rate, got, tc.want)
		}
	}
	if got := (hooksConfig{}).rate(); got != defaultReplayRate {
		t.Errorf("default rate %d, want %d", got, defaultReplayRate)
	}
}

func TestReplayBadBody(t *testing.T) {
	api, q := newReplayAPI(t)
	h := api.store.seedHook(clientA, urlA, false)
	seedLoadDelivery(t, api.store, clientA, "load-1", delivery.StatusExhausted, h.ID)
	for _, b := range []string{
		``, `{}`, `[]`, `null`, `{"since":1}`, `{"since":"yesterday"}`, `{"since":"2026-07-01"}`, `{"since":""}`,
		`{"since":"2026-07-01T00:00:00Z","extra":1}`, `{"Since":"2026-07-01T00:00:00Z"}`, `{"until":"2026-07-01T00:00:00Z"}`,
		`{"since":"2026-07-01T00:00:00Z","since":"2026-07-02T00:00:00Z"}`,
		`{"since":"2026-07-02T00:00:00Z","until":"2026-07-01T00:00:00Z"}`,
		`{"since":"2026-06-01T00:00:00Z","until":"2026-07-01T00:00:01Z"}`,
		`{"since":"2026-07-01T00:00:00Z","until":null}`,
		`{"since":"2026-07-01T00:00:00Z"} {}`,
	} {
		status, body := api.do(t, "POST", replayPath(h.ID), bearer(tokenA), b)
		if status != http.StatusBadRequest || body != bodyInvalidPostBody {
			t.Errorf("body %s: %d %s, want 400 %s", b, status, body, bodyInvalidPostBody)
		}
	}
	if n := len(q.sent()); n != 0 {
		t.Errorf("queued %d messages, want none", n)
	}
	// Exactly 30 days is allowed.
	status, body := api.do(t, "POST", replayPath(h.ID), bearer(tokenA), `{"since":"2026-06-01T00:00:00Z","until":"2026-07-01T00:00:00Z"}`)
	checkResponse(t, status, body, http.StatusAccepted, `{"replayed":0}`)
}

func TestReplayNeedsFeatureEnabledHookAndOwner(t *testing.T) {
	api, q := newReplayAPI(t)
	on := api.store.seedHook(clientA, urlA, false)
	off := api.store.seedHook(clientA, urlA, true)
	seedLoadDelivery(t, api.store, clientA, "load-1", delivery.StatusExhausted, on.ID, off.ID)
	std := api.store.seedHook(clientStd, urlA, true)
	seedLoadDelivery(t, api.store, clientStd, "load-1", delivery.StatusExhausted, std.ID)

	status, body := api.do(t, "POST", replayPath(off.ID), bearer(tokenA), sinceBody(testNow))
	checkResponse(t, status, body, http.StatusBadRequest, bodyHookDisabled)
	// No feature and disabled: the no-access body wins.
	status, body = api.do(t, "POST", replayPath(std.ID), bearer(tokenStd), sinceBody(testNow))
	checkResponse(t, status, body, http.StatusBadRequest, bodyNoAccess)
	// Another account's hook, or none.
	status, body = api.do(t, "POST", replayPath(on.ID), bearer(tokenB), sinceBody(testNow))
	checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
	status, body = api.do(t, "POST", replayPath(on.ID+1000), bearer(tokenA), sinceBody(testNow))
	checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
	status, body = api.do(t, "POST", replayPath(on.ID), "", sinceBody(testNow))
	if status != http.StatusUnauthorized {
		t.Errorf("no token: %d %s, want 401", status, body)
	}
	if n := len(q.sent()); n != 0 {
		t.Errorf("queued %d messages, want none", n)
	}
	// The enabled hook of the same load replays its own delivery only.
	status, body = api.do(t, "POST", replayPath(on.ID), bearer(tokenA), sinceBody(testNow))
	checkResponse(t, status, body, http.StatusAccepted, `{"replayed":1}`)
	if ms := q.sent(); len(ms) != 1 || ms[0].HookID != on.ID {
		t.Errorf("queued %+v, want the delivery to hook %d", ms, on.ID)
	}
}

func TestReplayQueueFailure(t *testing.T) {
	api := newTestAPIHooks(t, hooksConfig{retries: &fakeQueue{err: errors.New("queue down")}, now: func() time.Time { return testNow.Add(time.Hour) }})
	h := api.store.seedHook(clientA, urlA, false)
	seedLoadDelivery(t, api.store, clientA, "load-1", delivery.StatusExhausted, h.ID)
	status, body := api.do(t, "POST", replayPath(h.ID), bearer(tokenA), sinceBody(testNow))
	checkResponse(t, status, body, http.StatusInternalServerError, bodyInternal)
	if logs := api.logs.String(); !strings.Contains(logs, "queue down") {
		t.Errorf("logs %s, want the queue error", logs)
	}
}
