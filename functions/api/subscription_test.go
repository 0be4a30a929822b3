package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/shared/hook"
)

// Tests of PATCH .../hooks/{id} (filter and events) on the in-memory store.

func TestSetHookSubscription(t *testing.T) {
	api := newTestAPI(t)
	api.store.seedHook(clientA, urlA, false)
	api.store.now = func() time.Time { return testNow.Add(time.Hour) }
	hookPrefix := `{"id":1,"client_id":116078,"type":"post_load","version":1,"destination_id":12345,"config":{"url":"https://hooks.example.com/catch/abc"},` +
		`"created_at":"2026-07-16T16:47:54Z","modified_at":"2026-07-16T17:47:54Z","disabled_at":null,"disabled_reason":null,`
	steps := []struct {
		name, body, want string
	}{
		{"filter and events", `{"filter":{"integrations":["shopify"],"tables":["orders","orders__*"]},"events":["run_completed","table_loaded"]}`,
			`"filter":{"integrations":["shopify"],"tables":["orders","orders__*"]},"events":["table_loaded","run_completed"]}`},
		{"events only keeps the filter", `{"events":["load_overdue"]}`,
			`"filter":{"integrations":["shopify"],"tables":["orders","orders__*"]},"events":["load_overdue"]}`},
		{"one list", `{"filter":{"tables":["orders"]}}`, `"filter":{"tables":["orders"]},"events":["load_overdue"]}`},
		{"an empty filter is everything", `{"filter":{}}`, `"filter":null,"events":["load_overdue"]}`},
		{"null and the default", ` {"filter":null,"events":["table_loaded"]} `, `"filter":null,"events":["table_loaded"]}`},
	}
	for _, st := range steps {
		status, body := api.do(t, "PATCH", hooksPath+"/1", bearer(tokenA), st.body)
		checkResponse(t, status, body, http.StatusOK, hookPrefix+st.want)
		_, got := api.do(t, "GET", hooksPath+"/1", bearer(tokenA), "")
		checkResponse(t, http.StatusOK, got, http.StatusOK, hookPrefix+st.want)
	}
	h, _ := api.store.Hook(clientA, 1)
	if h.Filter != nil || h.EventTypes != nil {
		t.Errorf("a hook set back to the defaults stores filter %+v events %v, want none (as one that never chose)", h.Filter, h.EventTypes)
	}
	if last := h.Audit[len(h.Audit)-1]; last.Action != hook.ActionSubscriptionChanged || last.By != memberA {
		t.Errorf("last audit entry %+v, want the change by the member", last)
	}
}

func TestSetHookSubscriptionInvalid(t *testing.T) {
	api := newTestAPI(t)
	api.store.seedHook(clientA, urlA, false)
	long := strings.Repeat("t", hook.MaxPatternBytes+1)
	many := `"t"` + strings.Repeat(`,"t"`, hook.MaxFilterPatterns)
	for _, body := range []string{
		``, `null`, `[]`, `{}`, `"x"`,
		`{"events":[]}`,
		`{"events":null}`,
		`{"events":["table_loaded","table_loaded"]}`,
		`{"events":["ping"]}`,
		`{"events":["TABLE_LOADED"]}`,
		`{"events":"table_loaded"}`,
		`{"events":[1]}`,
		`{"filter":[]}`,
		`{"filter":"shopify"}`,
		`{"filter":{"integrations":[]}}`,
		`{"filter":{"integrations":null}}`,
		`{"filter":{"integrations":[""]}}`,
		`{"filter":{"integrations":["` + long + `"]}}`,
		`{"filter":{"tables":[` + many + `]}}`,
		`{"filter":{"tables":"orders"}}`,
		`{"filter":{"tables":[null]}}`,
		`{"filter":{"table":["orders"]}}`,
		`{"filter":{"tables":["a"],"tables":["b"]}}`,
		`{"Filter":null}`,
		`{"filter":null,"enable":true}`,
		`{"filter":null,"filter":null}`,
		`{"filter":null}x`,
		`{"filter":null} {}`,
		"\ufeff" + `{"filter":null}`,
	} {
		status, got := api.do(t, "PATCH", hooksPath+"/1", bearer(tokenA), body)
		if status != http.StatusBadRequest || got != bodyInvalidPatchBody {
			t.Errorf("PATCH %q: got %d %s, want 400 %s", body, status, got, bodyInvalidPatchBody)
		}
	}
	if h, _ := api.store.Hook(clientA, 1); h.Filter != nil || h.EventTypes != nil || len(h.Audit) != 0 {
		t.Errorf("refused bodies changed the hook: %+v", h)
	}
}

func TestSetHookSubscriptionAccess(t *testing.T) {
	api := newTestAPI(t)
	api.store.seedHook(clientA, urlA, false)
	api.store.seedHook(clientStd, "https://hooks.example.com/std", true)
	body := `{"events":["run_completed"]}`
	for _, tt := range []struct {
		name, token, path string
		wantStatus        int
		wantBody          string
	}{
		{"another account's hook", tokenB, hooksPath + "/1", 404, bodyNotFound},
		{"unknown hook", tokenA, hooksPath + "/2", 404, bodyNotFound},
		{"malformed id", tokenA, hooksPath + "/01", 404, bodyNotFound},
		{"no token", "", hooksPath + "/1", 401, bodyUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			auth := ""
			if tt.token != "" {
				auth = bearer(tt.token)
			}
			status, got := api.do(t, "PATCH", tt.path, auth, body)
			checkResponse(t, status, got, tt.wantStatus, tt.wantBody)
		})
	}
	if h, _ := api.store.Hook(clientA, 1); h.EventTypes != nil {
		t.Errorf("another account changed the hook: %v", h.EventTypes)
	}
	// A plan without the feature may still choose (nothing is sent).
	status, got := api.do(t, "PATCH", hooksPath+"/1", bearer(tokenStd), body)
	if status != http.StatusOK || !strings.Contains(got, `"events":["run_completed"]`) {
		t.Errorf("downgraded account: got %d %s", status, got)
	}
	status, got = api.do(t, "PATCH", hooksPath+"/1", bearer(tokenA), `{"filter":null,"x":"`+strings.Repeat("a", maxBodyBytes)+`"}`)
	checkResponse(t, status, got, http.StatusRequestEntityTooLarge, bodyTooLarge)
}
