package main

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// withRetries rebuilds wt's handler with a recording retry queue and replay
// rate 3 a second.
func (wt *webTest) withRetries(t *testing.T) *fakeQueue {
	t.Helper()
	q := &fakeQueue{}
	log := slog.New(slog.NewJSONHandler(wt.logs, nil))
	wt.handler = routes(log, wt.store, tokenAdmin(adminToken), hooksConfig{sender: wt.sender, now: wt.clock, retries: q, replayRate: 3},
		webConfig{mail: wt.mail, from: "hooks@example.com", appURL: appOrigin})
	return q
}

// TestWebDeliveries: each hook shows its recent deliveries with their
// attempts; Resend and Replay failed deliveries since queue the retries
// (the JSON API's resend and replay), in the session's account only.
func TestWebDeliveries(t *testing.T) {
	wt := newWebTest(t)
	q := wt.withRetries(t)
	h := wt.store.seedHook(clientA, "https://hooks.example.com/a", false)
	seedLoadDelivery(t, wt.store, clientA, "load-1", delivery.StatusExhausted, h.ID)
	seedLoadDelivery(t, wt.store, clientA, "load-2", delivery.StatusDelivered, h.ID)
	c := wt.signIn(t, emailA)
	body := wt.settings(t, c, "")
	for _, want := range []string{`id="delivery-` + delivery.ID("load-1") + `"`, "http_status, HTTP 500, 9 ms", `<code class="snippet">down</code>`,
		`action="/app/settings/notifications/hooks/1/deliveries/` + delivery.ID("load-1") + `/resend"`, `action="/app/settings/notifications/hooks/1/replay"`} {
		if !strings.Contains(body, want) {
			t.Errorf("settings page lacks %q", want)
		}
	}
	rec := wt.post(t, c, settingsHooks+"/1/deliveries/"+delivery.ID("load-1")+"/resend", nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != settingsPath+"?notice=resent" {
		t.Fatalf("resend: %d %s", rec.Code, rec.Body)
	}
	if ms := q.sent(); len(ms) != 1 || ms[0].LoadID != "load-1" {
		t.Fatalf("resend queued %+v", ms)
	}
	seedLoadDelivery(t, wt.store, clientA, "load-3", delivery.StatusExhausted, h.ID)
	wt.mu.Lock()
	wt.now = wt.now.Add(time.Minute) // the window ends now, after load-3
	wt.mu.Unlock()
	rec = wt.post(t, c, settingsHooks+"/1/replay", url.Values{"since": {testNow.Format(time.DateOnly)}})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Replayed 1 failed deliveries since 2026-07-16, 3 a second") {
		t.Errorf("replay: %d %s", rec.Code, rec.Body)
	}
	for _, bad := range []string{"", "yesterday", "2026-01-01", "2099-01-01", "2026-07-16T00:00:00Z"} {
		if rec := wt.post(t, c, settingsHooks+"/1/replay", url.Values{"since": {bad}}); rec.Code != http.StatusBadRequest ||
			!strings.Contains(rec.Body.String(), "Pick a day within the last 30 days") {
			t.Errorf("replay since %q: %d", bad, rec.Code)
		}
	}
	if ms := q.sent(); len(ms) != 2 || ms[1].LoadID != "load-3" {
		t.Errorf("queued %+v in all, want load-1 then load-3", ms)
	}
}

// TestWebDeliveriesDisabledHook: a disabled hook lists its deliveries but
// offers no Resend or Replay, and posting them anyway is refused.
func TestWebDeliveriesDisabledHook(t *testing.T) {
	wt := newWebTest(t)
	q := wt.withRetries(t)
	h := wt.store.seedHook(clientA, "https://hooks.example.com/off", true)
	seedLoadDelivery(t, wt.store, clientA, "load-1", delivery.StatusExhausted, h.ID)
	c := wt.signIn(t, emailA)
	body := wt.settings(t, c, "")
	if !strings.Contains(body, `id="delivery-`+delivery.ID("load-1")+`"`) || strings.Contains(body, "/resend\"") || strings.Contains(body, "/replay\"") {
		t.Errorf("disabled hook's deliveries: want them listed without Resend or Replay")
	}
	for _, path := range []string{settingsHooks + "/1/deliveries/" + delivery.ID("load-1") + "/resend", settingsHooks + "/1/replay"} {
		rec := wt.post(t, c, path, url.Values{"since": {testNow.Format(time.DateOnly)}})
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "Hook is disabled.") {
			t.Errorf("%s: %d, want 400 Hook is disabled.", path, rec.Code)
		}
	}
	if n := len(q.sent()); n != 0 {
		t.Errorf("queued %d, want none", n)
	}
}
