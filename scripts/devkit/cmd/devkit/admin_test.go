package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The requests each command sends, checked on a fake admin API: method,
// path, the admin token and the exact body (destinations as the admin API
// takes them).
func TestAdminRequests(t *testing.T) {
	tests := []struct {
		args               []string
		method, path, body string
	}{
		{[]string{"create-account", "116078", "-plan", "premium", "-alert", "ops@example.com", "-destination", "12345:s3"}, "POST", "/admin/v1/accounts",
			`{"alert_emails":["ops@example.com"],"client_id":116078,"destinations":[{"id":12345,"type":"s3"}],"plan":"premium"}`},
		{[]string{"create-account", "-destination", "7:postgres", "42"}, "POST", "/admin/v1/accounts",
			`{"alert_emails":[],"client_id":42,"destinations":[{"id":7,"type":"postgres"}],"plan":"advanced"}`},
		{[]string{"create-account", "42"}, "POST", "/admin/v1/accounts", `{"alert_emails":[],"client_id":42,"plan":"advanced"}`},
		{[]string{"show", "42"}, "GET", "/admin/v1/accounts/42", ""},
		{[]string{"set-plan", "42", "standard"}, "PATCH", "/admin/v1/accounts/42", `{"plan":"standard"}`},
		{[]string{"add-member", "42", "ana@example.com"}, "POST", "/admin/v1/accounts/42/members", `{"email":"ana@example.com"}`},
		{[]string{"remove-member", "42", "m_1"}, "DELETE", "/admin/v1/accounts/42/members/m_1", ""},
		{[]string{"hooks", "42"}, "GET", "/admin/v1/accounts/42/hooks", ""},
		{[]string{"members", "42"}, "GET", "/admin/v1/accounts/42/members", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var got struct{ method, path, auth, body string }
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				got.method, got.path, got.auth, got.body = r.Method, r.URL.Path, r.Header.Get("Authorization"), string(b)
				w.Write([]byte(`{"member_id":"m_1","email":"ana@example.com","token":"tok_123"}`))
			}))
			defer srv.Close()
			req, err := parseAdmin(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := doAdmin(context.Background(), newAPIClient(srv.URL, "adm_x"), req, &out); err != nil {
				t.Fatal(err)
			}
			if got.method != tt.method || got.path != tt.path || got.auth != "Bearer adm_x" {
				t.Errorf("sent %s %s (%s), want %s %s with the admin token", got.method, got.path, got.auth, tt.method, tt.path)
			}
			if tt.body == "" {
				if got.body != "" {
					t.Errorf("body %s, want none", got.body)
				}
			} else if diff := cmp.Diff(canon(t, got.body), canon(t, tt.body)); diff != "" {
				t.Errorf("body (-got +want):\n%s", diff)
			}
			hasToken := strings.Contains(out.String(), "token: tok_123   (shown this once")
			if wantToken := tt.args[0] == "add-member"; hasToken != wantToken {
				t.Errorf("printed\n%s\ntoken line %t, want %t", out.String(), hasToken, wantToken)
			}
		})
	}
}

func canon(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

func TestAdminRefusesBadCommands(t *testing.T) {
	for _, args := range [][]string{nil, {"show"}, {"show", "x"}, {"show", "0"}, {"drop", "1"}, {"set-plan", "1"},
		{"create-account", "1", "-destination", "s3"}, {"create-account", "1", "-destination", "0:s3"}, {"show", "1", "-nope"}} {
		if _, err := parseAdmin(args); err == nil {
			t.Errorf("parseAdmin(%q) succeeded, want an error", args)
		}
	}
}

func TestAdminReportsTheAPIsError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error":"NotFound"}`))
	}))
	defer srv.Close()
	req, _ := parseAdmin([]string{"show", "9"})
	err := doAdmin(context.Background(), newAPIClient(srv.URL, "adm_x"), req, io.Discard)
	if err == nil || err.Error() != `GET /admin/v1/accounts/9 answered 404: {"error":"NotFound"}` {
		t.Errorf("doAdmin = %v, want the status and the body", err)
	}
}
