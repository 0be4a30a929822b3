package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestAPIAccess: an account's api_access is true unless an operator sets it
// false; then every hooks call with a member token is refused with 403 and
// the exact body, after the token check (401 first), and setting it true
// again restores the API.
func TestAPIAccess(t *testing.T) {
	a := newTestAPI(t)
	admin := bearer(adminToken)
	const noAPI = `{"error":{"message":"Client does not have API access."}}`

	status, body := a.do(t, "POST", "/admin/v1/accounts", admin, `{"client_id":9,"plan":"advanced","api_access":false}`)
	if status != http.StatusCreated || !strings.Contains(body, `"api_access":false`) {
		t.Fatalf("create with api_access false: %d %s", status, body)
	}
	status, body = a.do(t, "PATCH", "/admin/v1/accounts/116078", admin, `{"api_access":"no"}`)
	checkResponse(t, status, body, http.StatusBadRequest, `{"data":{"message":"api_access must be a boolean"},"error":"InvalidBody"}`)

	status, body = a.do(t, "PATCH", "/admin/v1/accounts/116078", admin, `{"api_access":false}`)
	if status != http.StatusOK || !strings.Contains(body, `"api_access":false`) {
		t.Fatalf("PATCH api_access false: %d %s", status, body)
	}
	calls := []struct{ method, path, body string }{
		{"GET", hooksPath, ""},
		{"POST", hooksPath, `{"type":"post_load","destination_id":12345,"config":{"url":"https://example.com/a"}}`},
		{"PUT", hooksPath + "/1", `{"enable":false}`},
		{"DELETE", hooksPath + "/1", ""},
	}
	for _, c := range calls {
		status, body := a.do(t, c.method, c.path, bearer(tokenA), c.body)
		checkResponse(t, status, body, http.StatusForbidden, noAPI)
		status, body = a.do(t, c.method, c.path, bearer("plh_unknown"), c.body)
		checkResponse(t, status, body, http.StatusUnauthorized, bodyUnauthorized)
	}
	// Another account keeps its access.
	status, _ = a.do(t, "GET", hooksPath, bearer(tokenB), "")
	if status != http.StatusOK {
		t.Errorf("other account: %d, want 200", status)
	}
	status, body = a.do(t, "GET", "/admin/v1/accounts/116078", admin, "")
	if status != http.StatusOK || !strings.Contains(body, `"api_access":false`) {
		t.Errorf("GET account: %d %s", status, body)
	}
	status, body = a.do(t, "PATCH", "/admin/v1/accounts/116078", admin, `{"api_access":true}`)
	if status != http.StatusOK || !strings.Contains(body, `"api_access":true`) {
		t.Fatalf("PATCH api_access true: %d %s", status, body)
	}
	if status, _ := a.do(t, "GET", hooksPath, bearer(tokenA), ""); status != http.StatusOK {
		t.Errorf("after api_access true: %d, want 200", status)
	}
}
