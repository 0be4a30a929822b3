package main

import (
	"github.com/postloadhooks/hooks/scripts/devkit/syncbuf"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 7, 16, 16, 47, 54, 123_000_000, time.UTC)

// Seeded accounts of newTestAPI.
const (
	clientA    = 116078 // advanced plan
	tokenA     = "plh_token-of-member-a"
	memberA    = "membera"
	clientB    = 200 // advanced plan, another tenant
	tokenB     = "plh_token-of-member-b"
	clientStd  = 300 // standard plan: no feature
	tokenStd   = "plh_token-of-member-std"
	adminToken = "local-admin-token"
)

type testAPI struct {
	store   *testStore
	handler http.Handler
	logs    *syncbuf.Buffer
	sender  *fakeSender
}

// newTestAPI serves routes over a fake store seeded with clientA, clientB
// and clientStd, in local admin mode (Bearer adminToken).
func newTestAPI(t *testing.T) *testAPI {
	t.Helper()
	return newTestAPIWith(t, tokenAdmin(adminToken))
}

func newTestAPIWith(t *testing.T, admin adminCheck) *testAPI {
	t.Helper()
	return newTestAPIConfig(t, admin, hooksConfig{})
}

// newTestAPIHooks is newTestAPI with the hooks routes configured as hooks
// says (its sender replaced by the fake).
func newTestAPIHooks(t *testing.T, hooks hooksConfig) *testAPI {
	t.Helper()
	return newTestAPIConfig(t, tokenAdmin(adminToken), hooks)
}

func newTestAPIConfig(t *testing.T, admin adminCheck, hooks hooksConfig) *testAPI {
	t.Helper()
	st := newTestStore(func() time.Time { return testNow })
	st.seedAccount(clientA, "advanced", memberA, tokenA)
	st.seedAccount(clientB, "advanced", "memberb", tokenB)
	st.seedAccount(clientStd, "standard", "memberstd", tokenStd)
	logs := &syncbuf.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	sender := &fakeSender{}
	hooks.sender = sender
	return &testAPI{store: st, handler: testRoutes(t, log, st, admin, hooks), logs: logs, sender: sender}
}

func bearer(token string) string { return "Bearer " + token }

// do sends one request; auth is the whole Authorization header ("" for
// none). It returns the status and the body exactly as sent.
func (a *testAPI) do(t *testing.T, method, target, auth, body string) (int, string) {
	t.Helper()
	return a.serve(t, newRequest(method, target, auth, body))
}

// newRequest is a request to the handler; auth is the whole Authorization
// header ("" for none), body "" for none.
func newRequest(method, target, auth, body string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return req
}

func (a *testAPI) serve(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type = %q, want application/json", req.Method, req.URL.Path, ct)
	}
	return rec.Code, rec.Body.String()
}

// checkResponse compares status and exact body.
func checkResponse(t *testing.T, gotStatus int, gotBody string, wantStatus int, wantBody string) {
	t.Helper()
	if gotStatus != wantStatus || gotBody != wantBody {
		t.Errorf("got %d %s\nwant %d %s", gotStatus, gotBody, wantStatus, wantBody)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
