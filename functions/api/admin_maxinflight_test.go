package main

import (
	"net/http"
	"testing"
)

// TestAdminMaxInFlight: operators set a hook's in-flight cap, and set it
// back to the default with null; anything else is refused with the one
// message; other accounts' and missing hooks are not found; members cannot.
func TestAdminMaxInFlight(t *testing.T) {
	api := newTestAPI(t)
	admin := bearer(adminToken)
	status, body := api.do(t, "POST", hooksPath, bearer(tokenA), createBody)
	if status != http.StatusOK {
		t.Fatalf("create hook: %d %s", status, body)
	}
	path := "/admin/v1/accounts/116078/hooks/1"

	status, body = api.do(t, "PATCH", path, admin, `{"max_in_flight":5}`)
	checkResponse(t, status, body, http.StatusOK, `{"id":1,"client_id":116078,"max_in_flight":5,"default":false}`)
	if h, _ := api.store.hook(clientA, 1); h.MaxInFlight != 5 {
		t.Errorf("stored cap = %d, want 5", h.MaxInFlight)
	}
	status, body = api.do(t, "PATCH", path, admin, `{"max_in_flight":null}`)
	checkResponse(t, status, body, http.StatusOK, `{"id":1,"client_id":116078,"max_in_flight":20,"default":true}`)

	bad := invalidBody("max_in_flight must be an integer from 1 to 100, or null for the default of 20")
	for _, b := range []string{`{"max_in_flight":0}`, `{"max_in_flight":101}`, `{"max_in_flight":-1}`, `{"max_in_flight":2.5}`,
		`{"max_in_flight":"5"}`, `{"max_in_flight":true}`, `{}`} {
		status, body = api.do(t, "PATCH", path, admin, b)
		checkResponse(t, status, body, http.StatusBadRequest, bad)
	}
	status, body = api.do(t, "PATCH", path, admin, `{"max_in_flight":5,"url":"x"}`)
	checkResponse(t, status, body, http.StatusBadRequest, invalidBody("Body has an unknown field; allowed fields: max_in_flight"))

	for _, p := range []string{"/admin/v1/accounts/200/hooks/1", "/admin/v1/accounts/116078/hooks/2", "/admin/v1/accounts/116078/hooks/01"} {
		status, body = api.do(t, "PATCH", p, admin, `{"max_in_flight":5}`)
		checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
	}
	status, body = api.do(t, "PATCH", path, bearer(tokenA), `{"max_in_flight":5}`)
	checkResponse(t, status, body, http.StatusUnauthorized, bodyUnauthorized)
}
