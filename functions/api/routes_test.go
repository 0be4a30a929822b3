package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHealthz(t *testing.T) {
	status, body := newTestAPI(t).do(t, "GET", "/healthz", "", "")
	checkResponse(t, status, body, http.StatusOK, `{"status":"ok"}`)
}

func TestUnknownRoutes(t *testing.T) {
	tests := []struct {
		method, path string
		wantStatus   int
		wantAllow    string
	}{
		{"GET", "/", 404, ""},
		{"GET", "/nope", 404, ""},
		{"GET", hooksPath + "/", 404, ""},
		{"GET", hooksPath + "/1/extra", 404, ""},
		{"GET", "/notifications/public/v1/api/hook", 404, ""},
		{"GET", "//healthz", 404, ""},
		{"GET", "/healthz/.", 404, ""},
		{"GET", "/admin/../healthz", 404, ""},
		{"GET", "/notifications/public/v1/api/hooks/", 404, ""},
		{"GET", "/notifications/public/v1/api//hooks", 404, ""},
		{"DELETE", hooksPath + "/1/..", 404, ""},
		{"DELETE", hooksPath + "/./1", 404, ""},
		{"GET", "/admin/v1/accounts", 405, "POST"},
		{"PATCH", hooksPath, 405, "GET, POST"},
		{"DELETE", hooksPath, 405, "GET, POST"},
		{"POST", hooksPath + "/1", 405, "GET, PUT, PATCH, DELETE"},
		{"POST", "/notifications/public/v1/api/freshness", 405, "GET, PUT"},
		{"GET", "/notifications/public/v1/api/freshness/1", 404, ""},
		{"PUT", hooksPath + "/1/test", 405, "POST"},
		{"DELETE", hooksPath + "/1/secret/rotate", 405, "POST"},
		{"POST", hooksPath + "/1/secret", 404, ""},
		{"POST", hooksPath + "/1/secret/rotate/", 404, ""},
		{"POST", hooksPath + "/1/deliveries", 405, "GET"},
		{"DELETE", hooksPath + "/1/deliveries/bG9hZC0x", 405, "GET"},
		{"GET", hooksPath + "/1/deliveries/bG9hZC0x/resend", 405, "POST"},
		{"GET", hooksPath + "/1/deliveries/", 404, ""},
		{"POST", hooksPath + "/1/deliveries/bG9hZC0x/resend/", 404, ""},
		{"GET", hooksPath + "/1/replay", 405, "POST"},
		{"POST", hooksPath + "/1/replay/", 404, ""},
		{"POST", "/healthz", 405, "GET"},
		{"PUT", "/admin/v1/accounts/1", 405, "GET, PATCH"},
		{"PUT", "/admin/v1/accounts/1/members", 405, "GET, POST"},
		{"POST", "/admin/v1/accounts/1/hooks", 405, "GET"},
		{"GET", "/admin/v1/accounts/1/members/abc", 405, "DELETE"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			req.Header.Set("Authorization", bearer(tokenA))
			rec := httptest.NewRecorder()
			newTestAPI(t).handler.ServeHTTP(rec, req)
			want := bodyNotFound
			if tt.wantStatus == 405 {
				want = bodyMethodNotAllowed
			}
			checkResponse(t, rec.Code, strings.TrimSuffix(rec.Body.String(), "\n"), tt.wantStatus, want)
			if got := rec.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			if got := rec.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
		})
	}
}

func TestAccessLog(t *testing.T) {
	api := newTestAPI(t)
	api.do(t, "POST", hooksPath, bearer(tokenA), createBody)
	api.do(t, "PUT", hooksPath+"/1", bearer(tokenA), `{"enable":false}`)
	api.do(t, "GET", "/nope", "", "")
	api.do(t, "GET", "/admin/v1/accounts/116078", bearer(adminToken), "")

	type line struct {
		Level, Msg, Method, Route string
		Status                    int
		DurationMs                *int64
	}
	var got []line
	sc := bufio.NewScanner(strings.NewReader(api.logs.String()))
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if l.DurationMs == nil {
			t.Errorf("log line %s has no durationMs", sc.Text())
		}
		l.DurationMs = nil
		got = append(got, l)
	}
	want := []line{
		{"INFO", "request", "POST", "POST " + hooksPath, 200, nil},
		{"INFO", "request", "PUT", "PUT " + hooksPath + "/{id}", 200, nil},
		{"INFO", "request", "GET", "/", 404, nil},
		{"INFO", "request", "GET", "GET /admin/v1/accounts/{client_id}", 200, nil},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("access log (-got +want):\n%s", diff)
	}
	for _, secret := range []string{tokenA, adminToken, urlA, "enable", "whsec_"} {
		if strings.Contains(api.logs.String(), secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}

func TestPanicIsJSON500(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("GET /boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	h := recoverPanics(discardLogger(), mux)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil).WithContext(context.Background()))
	checkResponse(t, rec.Code, strings.TrimSuffix(rec.Body.String(), "\n"), 500, bodyInternal)
}
