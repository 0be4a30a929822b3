package main

import (
	"encoding/json"
	"github.com/postloadhooks/hooks/scripts/devkit/syncbuf"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// Tests of GET .../hooks/{id}, POST .../hooks/{id}/secret/rotate and
// POST .../hooks/{id}/test on the in-memory store.

func TestGetHook(t *testing.T) {
	api := newTestAPI(t)
	api.store.seedHook(clientA, urlA, false)
	api.store.seedHook(clientA, "https://hooks.example.com/two", true)
	want := `{"id":2,"client_id":116078,"type":"post_load","version":1,"destination_id":12345,"config":{"url":"https://hooks.example.com/two"},` +
		`"created_at":"2026-07-16T16:47:54Z","modified_at":"2026-07-16T16:47:54Z","disabled_at":"2026-07-16T16:47:54Z","disabled_reason":"member","filter":null,"events":["table_loaded"]}`
	status, body := api.do(t, "GET", hooksPath+"/2", bearer(tokenA), "")
	checkResponse(t, status, body, http.StatusOK, want)

	// The one hook is exactly as the list shows it.
	_, list := api.do(t, "GET", hooksPath, bearer(tokenA), "")
	if !strings.Contains(list, want) {
		t.Errorf("list %s does not hold the hook %s", list, want)
	}
	for _, tt := range []struct{ name, token, path string }{
		{"another account's hook", tokenB, hooksPath + "/1"},
		{"unknown id", tokenA, hooksPath + "/3"},
		{"malformed id", tokenA, hooksPath + "/01"},
		{"id too large", tokenA, hooksPath + "/9223372036854775808"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := api.do(t, "GET", tt.path, bearer(tt.token), "")
			checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
		})
	}
	status, body = api.do(t, "GET", hooksPath+"/1", "", "")
	checkResponse(t, status, body, http.StatusUnauthorized, bodyUnauthorized)
}

func TestGetHookAfterDowngrade(t *testing.T) {
	api := newTestAPI(t)
	api.store.seedHook(clientStd, urlA, true)
	status, body := api.do(t, "GET", hooksPath+"/1", bearer(tokenStd), "")
	if status != http.StatusOK || !strings.Contains(body, `"disabled_at":"2026-07-16T16:47:54Z"`) {
		t.Errorf("got %d %s, want 200 and the disabled hook", status, body)
	}
}

func TestRotateSecret(t *testing.T) {
	api := newTestAPI(t)
	old := api.store.seedHook(clientA, urlA, false)
	api.store.now = func() time.Time { return testNow.Add(time.Hour) }

	status, body := api.do(t, "POST", hooksPath+"/1/secret/rotate", bearer(tokenA), "")
	stored, _ := api.store.hook(clientA, 1)
	want := `{"secret":"` + stored.Secret + `","previous_secret_expires_at":"2026-07-17T17:47:54Z"}`
	checkResponse(t, status, body, http.StatusOK, want)
	if stored.Secret == old.Secret || !strings.HasPrefix(stored.Secret, hook.SecretPrefix) || len(stored.Secret) != len(old.Secret) {
		t.Errorf("new secret %q, old %q: want a fresh whsec_ secret", stored.Secret, old.Secret)
	}
	if stored.PreviousSecret != old.Secret || !stored.PreviousSecretExpiresAt.Equal(testNow.Add(25*time.Hour)) {
		t.Errorf("previous secret %q until %v, want the old one for 24 h", stored.PreviousSecret, stored.PreviousSecretExpiresAt)
	}
	if got := stored.Audit[len(stored.Audit)-1]; got != (hook.Change{At: testNow.Add(time.Hour), By: memberA, Action: hook.ActionSecretRotated}) {
		t.Errorf("audit entry = %+v", got)
	}
	// The hook's answers never show a secret.
	_, got := api.do(t, "GET", hooksPath+"/1", bearer(tokenA), "")
	if strings.Contains(got, "whsec_") || strings.Contains(got, "secret") {
		t.Errorf("GET shows a secret: %s", got)
	}
	if strings.Contains(api.logs.String(), stored.Secret) {
		t.Error("the logs hold the new secret")
	}
}

func TestRotateSecretOverlapSetting(t *testing.T) {
	st := newTestStore(func() time.Time { return testNow })
	st.seedAccount(clientA, "advanced", memberA, tokenA)
	st.seedHook(clientA, urlA, false)
	api := &testAPI{store: st, handler: testRoutes(t, discardLogger(), st, tokenAdmin(adminToken), hooksConfig{secretOverlap: 90 * time.Second}), logs: &syncbuf.Buffer{}}
	status, body := api.do(t, "POST", hooksPath+"/1/secret/rotate", bearer(tokenA), "")
	if status != http.StatusOK || !strings.HasSuffix(body, `"previous_secret_expires_at":"2026-07-16T16:49:24Z"}`) {
		t.Errorf("got %d %s, want the expiry 90 s on", status, body)
	}
}

// TestRotateSecretAnyState: rotation works on a plan without the feature
// and on a disabled hook (a leaked secret must always be replaceable).
func TestRotateSecretAnyState(t *testing.T) {
	api := newTestAPI(t)
	api.store.seedHook(clientStd, urlA, true)
	api.store.seedHook(clientA, urlA, true)
	for _, token := range []string{tokenStd, tokenA} {
		status, body := api.do(t, "POST", hooksPath+"/1/secret/rotate", bearer(token), "")
		if status != http.StatusOK || !strings.HasPrefix(body, `{"secret":"whsec_`) {
			t.Errorf("rotate: got %d %s", status, body)
		}
	}
}

// TestBodilessPostRoutes: rotate and test take no body; any body is the
// exact Invalid POST body answer, an oversized one 413, and nothing is
// changed or sent.
func TestBodilessPostRoutes(t *testing.T) {
	for _, route := range []string{"/1/secret/rotate", "/1/test"} {
		for _, tt := range []struct {
			name, body string
			status     int
			want       string
		}{
			{"empty object", `{}`, http.StatusBadRequest, bodyInvalidPostBody},
			{"null", `null`, http.StatusBadRequest, bodyInvalidPostBody},
			{"whitespace", ` `, http.StatusBadRequest, bodyInvalidPostBody},
			{"oversized", strings.Repeat("x", maxBodyBytes+1), http.StatusRequestEntityTooLarge, bodyTooLarge},
		} {
			t.Run(route+" "+tt.name, func(t *testing.T) {
				api := newTestAPI(t)
				h := api.store.seedHook(clientA, urlA, false)
				status, body := api.do(t, "POST", hooksPath+route, bearer(tokenA), tt.body)
				checkResponse(t, status, body, tt.status, tt.want)
				if got, _ := api.store.hook(clientA, 1); !cmp.Equal(got, h) || len(api.sender.sent()) != 0 {
					t.Errorf("the refused request changed the hook or sent %d requests", len(api.sender.sent()))
				}
			})
		}
	}
}

func TestHookOpsIsolationAndIDs(t *testing.T) {
	for _, route := range []string{"/secret/rotate", "/test"} {
		for _, tt := range []struct{ name, token, id string }{
			{"another account's hook", tokenB, "1"},
			{"unknown id", tokenA, "2"},
			{"zero", tokenA, "0"},
			{"leading zero", tokenA, "01"},
			{"sign", tokenA, "+1"},
			{"not a number", tokenA, "abc"},
			{"over int64", tokenA, "9223372036854775808"},
		} {
			t.Run(route+" "+tt.name, func(t *testing.T) {
				api := newTestAPI(t)
				h := api.store.seedHook(clientA, urlA, false)
				status, body := api.do(t, "POST", hooksPath+"/"+tt.id+route, bearer(tt.token), "")
				checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
				if got, _ := api.store.hook(clientA, 1); !cmp.Equal(got, h) || len(api.sender.sent()) != 0 {
					t.Error("the refused request changed the hook or sent a request")
				}
			})
		}
		t.Run(route+" no token", func(t *testing.T) {
			api := newTestAPI(t)
			api.store.seedHook(clientA, urlA, false)
			status, body := api.do(t, "POST", hooksPath+"/1"+route, "", "")
			checkResponse(t, status, body, http.StatusUnauthorized, bodyUnauthorized)
		})
		t.Run(route+" wrong method", func(t *testing.T) {
			api := newTestAPI(t)
			status, body := api.do(t, "GET", hooksPath+"/1"+route, bearer(tokenA), "")
			checkResponse(t, status, body, http.StatusMethodNotAllowed, bodyMethodNotAllowed)
		})
	}
}

func TestTestSend(t *testing.T) {
	api := newTestAPI(t)
	h := api.store.seedHook(clientA, urlA, false)
	api.sender.attempt = delivery.Attempt{Outcome: delivery.OutcomeHTTPStatus, StatusCode: 500, LatencyMs: 84,
		Snippet: strings.Repeat("é", 600), Error: ""}

	status, body := api.do(t, "POST", hooksPath+"/1/test", bearer(tokenA), "")
	snippet := strings.Repeat("é", 512) // the first 1 KiB, whole characters
	checkResponse(t, status, body, http.StatusOK,
		`{"attempt":{"at":"2026-07-16T16:47:54Z","outcome":"http_status","status_code":500,"latency_ms":84,"response_snippet":"`+snippet+`"}}`)
	sent := api.sender.sent()
	if len(sent) != 1 {
		t.Fatalf("sent %d requests, want 1", len(sent))
	}
	r := sent[0]
	if r.ClientID != clientA || r.URL != urlA || r.Secret != h.Secret || string(r.Body) != exampleNotification ||
		!strings.HasPrefix(r.LoadID, "test-") || r.WebhookID != hook.WebhookID(clientA, r.LoadID, 1) {
		t.Errorf("request = %+v", r)
	}
	// The body is the documented example, valid JSON in its documented order.
	var doc map[string]any
	if err := json.Unmarshal(r.Body, &doc); err != nil || doc["version"] != "1.0" || doc["integration_name"] != "shopify" {
		t.Errorf("example body %s: %v", r.Body, err)
	}
	// Each test has its own load id (and so its own webhook-id).
	api.do(t, "POST", hooksPath+"/1/test", bearer(tokenA), "")
	if again := api.sender.sent(); len(again) != 2 || again[1].LoadID == r.LoadID || again[1].WebhookID == r.WebhookID {
		t.Errorf("second test reused the load id: %+v", again)
	}
}

func TestTestSendNoResponse(t *testing.T) {
	api := newTestAPI(t)
	api.store.seedHook(clientA, urlA, false)
	api.sender.attempt = delivery.Attempt{Outcome: delivery.OutcomeConnection, Error: "connection refused", LatencyMs: 3}
	status, body := api.do(t, "POST", hooksPath+"/1/test", bearer(tokenA), "")
	checkResponse(t, status, body, http.StatusOK,
		`{"attempt":{"at":"2026-07-16T16:47:54Z","outcome":"connection_error","status_code":null,"latency_ms":3,"response_snippet":""}}`)
}

func TestTestSendSignsWithBothSecretsDuringOverlap(t *testing.T) {
	api := newTestAPI(t)
	old := api.store.seedHook(clientA, urlA, false)
	api.do(t, "POST", hooksPath+"/1/secret/rotate", bearer(tokenA), "")
	api.do(t, "POST", hooksPath+"/1/test", bearer(tokenA), "")
	stored, _ := api.store.hook(clientA, 1)
	if sent := api.sender.sent(); len(sent) != 1 || sent[0].Secret != stored.Secret || sent[0].PreviousSecret != old.Secret ||
		!sent[0].PreviousSecretExpiresAt.Equal(stored.PreviousSecretExpiresAt) {
		t.Errorf("sent %+v, want the new secret and the old one until its expiry", sent)
	}
}

func TestTestSendRefused(t *testing.T) {
	tests := []struct {
		name     string
		token    string
		disabled bool
		status   int
		want     string
	}{
		{"disabled hook", tokenA, true, http.StatusBadRequest, bodyHookDisabled},
		{"plan without the feature", tokenStd, false, http.StatusBadRequest, bodyNoAccess},
		{"no access wins over disabled", tokenStd, true, http.StatusBadRequest, bodyNoAccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newTestAPI(t)
			api.store.seedHook(clientA, urlA, tt.disabled)
			api.store.seedHook(clientStd, urlA, tt.disabled)
			status, body := api.do(t, "POST", hooksPath+"/1/test", bearer(tt.token), "")
			checkResponse(t, status, body, tt.status, tt.want)
			if n := len(api.sender.sent()); n != 0 {
				t.Errorf("sent %d requests, want none", n)
			}
		})
	}
}
