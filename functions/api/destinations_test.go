package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postloadhooks/hooks/shared/apigw"
	"github.com/postloadhooks/hooks/shared/hook"
)

// Tests of destinations, the documented list and delete shapes, the admin
// support views and the plan check.

const clientNoDest = 400 // advanced plan, no destination

func hookBodyFor(dest, url string) string {
	return `{"type":"post_load","destination_id":` + dest + `,"config":{"url":"` + url + `"}}`
}

// TestCreateHookOrderOfChecks pins which error a create answers when
// several checks fail: body, URL, plan, no destination, destination id,
// duplicate URL, limit.
func TestCreateHookOrderOfChecks(t *testing.T) {
	tests := []struct {
		name       string
		token      string
		body       string
		wantStatus int
		wantBody   string
	}{
		{"body beats everything", tokenStd, `{"type":"post_load","config":{"url":"http://x"}}`, 400, bodyInvalidPostBody},
		{"URL beats the plan", tokenStd, hookBodyFor("999", "http://x.example.com/"), 400, bodyInvalidURI},
		{"plan beats no destination", "plh_nodest-std", hookBodyFor("999", urlA), 400, bodyNoAccess},
		{"no destination beats destination id", "plh_nodest", hookBodyFor("999", urlA), 400, bodyNoDestination},
		{"destination id beats duplicate URL", tokenA, hookBodyFor("999", urlA), 400, bodyInvalidDestination},
		{"destination id 0", tokenA, hookBodyFor("0", "https://n.example.com/"), 400, bodyInvalidDestination},
		{"negative destination id", tokenA, hookBodyFor("-12345", "https://n.example.com/"), 400, bodyInvalidDestination},
		{"another account's destination", tokenA, hookBodyFor("777", "https://n.example.com/"), 400, bodyInvalidDestination},
		{"duplicate URL beats the limit", tokenA, hookBodyFor("12345", urlA), 400, bodyDuplicateURI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newTestAPI(t)
			api.store.seedAccount(clientNoDest, "advanced", "nodest", "plh_nodest")
			api.store.seedAccount(clientNoDest+1, "standard", "nodeststd", "plh_nodest-std")
			for _, cid := range []int64{clientNoDest, clientNoDest + 1} {
				a := api.store.account(cid)
				a.Destinations = []hook.Destination{}
				api.store.PutAccount(a)
			}
			b := api.store.account(clientB)
			b.Destinations = append(b.Destinations, hook.Destination{ID: 777, Type: "s3"})
			api.store.PutAccount(b)
			api.store.seedHook(clientA, urlA, false)
			for i := 1; i < hook.MaxHooks; i++ {
				api.store.seedHook(clientA, "https://full.example.com/"+strings.Repeat("x", i), false)
			}
			status, body := api.do(t, "POST", hooksPath, bearer(tt.token), tt.body)
			checkResponse(t, status, body, tt.wantStatus, tt.wantBody)
		})
	}
}

// TestReEnableWithoutDestination: a hook (one stored before destinations)
// of an account without destinations can be disabled and listed, but not
// re-enabled.
func TestReEnableWithoutDestination(t *testing.T) {
	api := newTestAPI(t)
	h := api.store.seedHook(clientA, urlA, true)
	h.DestinationID = 0
	api.store.PutHook(h)
	a := api.store.account(clientA)
	a.Destinations = nil
	api.store.PutAccount(a)

	status, body := api.do(t, "PUT", hooksPath+"/1", bearer(tokenA), `{"enable":true}`)
	checkResponse(t, status, body, http.StatusBadRequest, bodyNoDestination)
	status, body = api.do(t, "GET", hooksPath, bearer(tokenA), "")
	checkResponse(t, status, body, http.StatusOK, `{"post_load":[{"id":1,"client_id":116078,"type":"post_load","version":1,"destination_id":null,`+
		`"config":{"url":"`+urlA+`"},"created_at":"2026-07-16T16:47:54Z","modified_at":"2026-07-16T16:47:54Z","disabled_at":"2026-07-16T16:47:54Z","disabled_reason":"member","filter":null,"events":["table_loaded"]}]}`)
	if got, _ := api.store.hook(clientA, h.ID); got.Enabled() {
		t.Error("hook enabled by a refused call")
	}
}

func TestAdminDestinations(t *testing.T) {
	api := newTestAPI(t)
	admin := bearer(adminToken)
	status, body := api.do(t, "POST", "/admin/v1/accounts", admin,
		`{"client_id":42,"plan":"advanced","destinations":[{"id":12345,"type":"s3"},{"type":"snowflake","id":9}]}`)
	checkResponse(t, status, body, http.StatusCreated, `{"client_id":42,"plan":"advanced","alert_emails":[],`+
		`"destinations":[{"id":12345,"type":"s3"},{"id":9,"type":"snowflake"}],"api_access":true,"auto_disable":true,"hook_count":0,`+
		`"created_at":"2026-07-16T16:47:54Z","modified_at":"2026-07-16T16:47:54Z"}`)

	api.store.seedHook(clientA, urlA, false)
	status, body = api.do(t, "PATCH", "/admin/v1/accounts/116078", admin, `{"destinations":[{"id":7,"type":"redshift"}]}`)
	checkResponse(t, status, body, http.StatusConflict,
		`{"error":{"message":"Destination 12345 still has 1 hook(s); delete them before removing it."}}`)
	if got := api.store.account(clientA).Destinations; len(got) != 1 || got[0].ID != testDest {
		t.Errorf("destinations after a refused removal: %v", got)
	}
	status, body = api.do(t, "PATCH", "/admin/v1/accounts/116078", admin, `{"destinations":[{"id":12345,"type":"s3"},{"id":7,"type":"redshift"}]}`)
	checkResponse(t, status, body, http.StatusOK,
		`{"client_id":116078,"plan":"advanced","alert_emails":[],"destinations":[{"id":12345,"type":"s3"},{"id":7,"type":"redshift"}],"api_access":true,"auto_disable":true,"hook_count":1,`+
			`"created_at":"2026-07-16T16:47:54Z","modified_at":"2026-07-16T16:47:54Z","hooks_disabled":0}`)

	msg := func(m string) string { return invalidBody(m) }
	for _, tt := range []struct{ name, body, want string }{
		{"not an array", `{"destinations":{"id":1,"type":"s3"}}`, msg("destinations must be an array of objects, each with exactly an integer id and a string type")},
		{"null", `{"destinations":null}`, msg("destinations must be an array of objects, each with exactly an integer id and a string type")},
		{"zero id", `{"destinations":[{"id":0,"type":"s3"}]}`, msg("destinations[0].id must be a positive integer")},
		{"string id", `{"destinations":[{"id":"1","type":"s3"}]}`, msg("destinations[0] must have exactly an integer id and a string type")},
		{"extra key", `{"destinations":[{"id":1,"type":"s3","name":"x"}]}`, msg("destinations[0] must have exactly an integer id and a string type")},
		{"repeated id", `{"destinations":[{"id":1,"type":"s3"},{"id":1,"type":"bigquery"}]}`, msg("destinations[1].id repeats an earlier destination")},
		{"upper-case type", `{"destinations":[{"id":1,"type":"S3"}]}`, msg("destinations[0].type must be a lower-case word such as s3 or snowflake")},
		{"two words", `{"destinations":[{"id":1,"type":"big query"}]}`, msg("destinations[0].type must be a lower-case word such as s3 or snowflake")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := newTestAPI(t).do(t, "PATCH", "/admin/v1/accounts/116078", admin, tt.body)
			checkResponse(t, status, body, http.StatusBadRequest, tt.want)
		})
	}
}

// TestMistypedPlanDisablesNothing: a plan name that is not a known plan is
// refused before anything changes; a real downgrade says how many hooks it
// disabled.
func TestMistypedPlanDisablesNothing(t *testing.T) {
	api := newTestAPI(t)
	admin := bearer(adminToken)
	api.store.seedHook(clientA, urlA, false)
	api.store.seedHook(clientA, "https://b.example.com/", false)
	api.store.seedHook(clientA, "https://c.example.com/", true)
	for _, typo := range []string{"advancd", "Advanced", "premium ", "standard_plus", ""} {
		status, body := api.do(t, "PATCH", "/admin/v1/accounts/116078", admin, `{"plan":"`+typo+`"}`)
		checkResponse(t, status, body, http.StatusBadRequest, invalidBody("plan must be one of: advanced, basic, enterprise, free, free_trial, premium, standard, starter, unlimited, unlimited_plus"))
	}
	for _, h := range api.store.Hooks(clientA)[:2] {
		if !h.Enabled() {
			t.Fatalf("hook %d disabled by a refused plan", h.ID)
		}
	}
	status, body := api.do(t, "PATCH", "/admin/v1/accounts/116078", admin, `{"plan":"starter"}`)
	if status != http.StatusOK || !strings.HasSuffix(body, `,"hooks_disabled":2}`) {
		t.Fatalf("downgrade: got %d %s, want 200 ending in \"hooks_disabled\":2", status, body)
	}
	status, body = api.do(t, "PATCH", "/admin/v1/accounts/116078", admin, `{"plan":"free"}`)
	if status != http.StatusOK || !strings.HasSuffix(body, `,"hooks_disabled":0}`) {
		t.Fatalf("second downgrade: got %d %s, want 200 ending in \"hooks_disabled\":0", status, body)
	}
}

func TestAdminSupportViews(t *testing.T) {
	api := newTestAPI(t)
	admin := bearer(adminToken)
	api.store.seedHook(clientA, urlA, false)
	api.store.seedHook(clientB, "https://other-tenant.example.com/", false)

	status, body := api.do(t, "GET", "/admin/v1/accounts/116078/hooks", admin, "")
	_, member := api.do(t, "GET", hooksPath, bearer(tokenA), "")
	checkResponse(t, status, body, http.StatusOK, member)
	if !strings.HasPrefix(body, `{"post_load":[{"id":1,"client_id":116078,`) || strings.Contains(body, "other-tenant") || strings.Contains(body, "whsec_") {
		t.Errorf("admin hooks view: %s", body)
	}

	status, body = api.do(t, "GET", "/admin/v1/accounts/116078/members", admin, "")
	checkResponse(t, status, body, http.StatusOK, `{"members":[{"id":"membera","email":"membera@example.com","created_at":"2026-07-16T16:47:54Z"}]}`)
	if strings.Contains(body, "plh_") || strings.Contains(body, "token") {
		t.Errorf("members view shows a token: %s", body)
	}

	for _, path := range []string{"/admin/v1/accounts/999/hooks", "/admin/v1/accounts/999/members", "/admin/v1/accounts/0/hooks", "/admin/v1/accounts/x/members"} {
		status, body := api.do(t, "GET", path, admin, "")
		checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
	}
	for _, path := range []string{"/admin/v1/accounts/116078/hooks", "/admin/v1/accounts/116078/members"} {
		status, body := api.do(t, "GET", path, bearer(tokenA), "")
		checkResponse(t, status, body, http.StatusUnauthorized, bodyUnauthorized)
	}
}

// TestExactBytesThroughAPIGateway sends every documented response through
// the API Gateway adapter and compares the raw body bytes: nothing after
// the closing brace (or after null).
func TestExactBytesThroughAPIGateway(t *testing.T) {
	api := newTestAPI(t)
	api.store.seedHook(clientA, "https://seeded.example.com/", false)
	h := apigw.Wrap(api.handler)
	tests := []struct {
		name, method, path, token, body string
		wantStatus                      int
		wantBody                        string
	}{
		{"invalid POST body", "POST", hooksPath, tokenA, `{}`, 400, bodyInvalidPostBody},
		{"invalid URI", "POST", hooksPath, tokenA, hookBodyFor("12345", "http://x.example.com/"), 400, bodyInvalidURI},
		{"duplicate URI", "POST", hooksPath, tokenA, hookBodyFor("12345", "https://seeded.example.com/"), 400, bodyDuplicateURI},
		{"invalid destination", "POST", hooksPath, tokenA, hookBodyFor("1", urlA), 400, bodyInvalidDestination},
		{"no access", "POST", hooksPath, tokenStd, hookBodyFor("12345", urlA), 400, bodyNoAccess},
		{"invalid PUT body", "PUT", hooksPath + "/1", tokenA, `{"enable":1}`, 400, bodyInvalidPutBody},
		{"not found", "PUT", hooksPath + "/99", tokenA, `{"enable":true}`, 404, bodyNotFound},
		{"unauthorized", "GET", hooksPath, "nope", "", 401, bodyUnauthorized},
		{"too large", "POST", hooksPath, tokenA, strings.Repeat(" ", 65<<10), 413, bodyTooLarge},
		{"delete", "DELETE", hooksPath + "/1", tokenA, "", 200, "null"},
		{"empty list", "GET", hooksPath, tokenA, "", 200, `{"post_load":[]}`},
		{"method not allowed", "PATCH", hooksPath, tokenA, "", 405, bodyMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := events.APIGatewayV2HTTPRequest{
				Version: "2.0", RawPath: tt.path, Body: tt.body,
				Headers: map[string]string{"authorization": "Bearer " + tt.token},
				RequestContext: events.APIGatewayV2HTTPRequestContext{
					HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: tt.method, Path: tt.path},
				},
			}
			res, err := h(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.wantStatus || res.Body != tt.wantBody || res.IsBase64Encoded {
				t.Errorf("got %d %q, want %d %q", res.StatusCode, res.Body, tt.wantStatus, tt.wantBody)
			}
			if got := res.Headers["Content-Length"]; got != "" && got != strconv.Itoa(len(tt.wantBody)) {
				t.Errorf("Content-Length %s for a %d-byte body", got, len(tt.wantBody))
			}
		})
	}
}
