package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	urlA       = "https://hooks.example.com/catch/abc"
	createBody = `{"type":"post_load","destination_id":12345,"config":{"url":"` + urlA + `"}}`
)

func TestHookLifecycle(t *testing.T) {
	api := newTestAPI(t)

	status, body := api.do(t, "POST", hooksPath, bearer(tokenA), createBody)
	if status != http.StatusOK {
		t.Fatalf("create: got %d %s", status, body)
	}
	var created map[string]any
	if err := json.Unmarshal([]byte(body), &created); err != nil {
		t.Fatalf("create: %v", err)
	}
	secret, _ := created["secret"].(string)
	if !strings.HasPrefix(secret, "whsec_") || len(secret) != len("whsec_")+44 {
		t.Errorf("create: secret = %q, want whsec_ and 44 base64 characters", secret)
	}
	stored, ok := api.store.hook(clientA, 1)
	if !ok || stored.Secret != secret || stored.URL != urlA {
		t.Errorf("stored hook = %+v, want url %s and the returned secret", stored, urlA)
	}
	wantHook := `{"id":1,"client_id":116078,"type":"post_load","version":1,"destination_id":12345,"config":{"url":"` + urlA + `"},` +
		`"created_at":"2026-07-16T16:47:54Z","modified_at":"2026-07-16T16:47:54Z","disabled_at":null,"disabled_reason":null,"filter":null,"events":["table_loaded"]}`
	if want := strings.TrimSuffix(wantHook, "}") + `,"secret":"` + secret + `"}`; body != want {
		t.Errorf("create body:\ngot  %s\nwant %s", body, want)
	}
	if got := stored.Audit; len(got) != 1 || got[0].By != memberA || got[0].Action != "created" {
		t.Errorf("audit = %+v, want one created by %s", got, memberA)
	}

	status, body = api.do(t, "GET", hooksPath, bearer(tokenA), "")
	checkResponse(t, status, body, http.StatusOK, `{"post_load":[`+wantHook+"]}")

	api.store.now = func() time.Time { return testNow.Add(24 * time.Hour) }
	disabled := `{"id":1,"client_id":116078,"type":"post_load","version":1,"destination_id":12345,"config":{"url":"` + urlA + `"},` +
		`"created_at":"2026-07-16T16:47:54Z","modified_at":"2026-07-17T16:47:54Z","disabled_at":"2026-07-17T16:47:54Z","disabled_reason":"member","filter":null,"events":["table_loaded"]}`
	status, body = api.do(t, "PUT", hooksPath+"/1", bearer(tokenA), `{"enable": false}`)
	checkResponse(t, status, body, http.StatusOK, disabled)
	// Disabling a disabled hook is a no-op that keeps disabled_at.
	api.store.now = func() time.Time { return testNow.Add(48 * time.Hour) }
	status, body = api.do(t, "PUT", hooksPath+"/1", bearer(tokenA), `{"enable":false}`)
	checkResponse(t, status, body, http.StatusOK, disabled)

	status, body = api.do(t, "PUT", hooksPath+"/1", bearer(tokenA), `{"enable":true}`)
	enabled := `{"id":1,"client_id":116078,"type":"post_load","version":1,"destination_id":12345,"config":{"url":"` + urlA + `"},` +
		`"created_at":"2026-07-16T16:47:54Z","modified_at":"2026-07-18T16:47:54Z","disabled_at":null,"disabled_reason":null,"filter":null,"events":["table_loaded"]}`
	checkResponse(t, status, body, http.StatusOK, enabled)

	status, body = api.do(t, "DELETE", hooksPath+"/1", bearer(tokenA), "")
	checkResponse(t, status, body, http.StatusOK, "null")

	status, body = api.do(t, "GET", hooksPath, bearer(tokenA), "")
	checkResponse(t, status, body, http.StatusOK, `{"post_load":[]}`)
	status, body = api.do(t, "DELETE", hooksPath+"/1", bearer(tokenA), "")
	checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
}

// TestHooksErrorTable covers every row of the hooks API's error table
// (README.md in this folder).
func TestHooksErrorTable(t *testing.T) {
	long := "https://hooks.example.com/" + strings.Repeat("a", 2049-len("https://hooks.example.com/"))
	tests := []struct {
		name         string
		setup        func(*testAPI)
		method, path string
		auth, body   string
		wantStatus   int
		wantBody     string
	}{
		{name: "POST malformed", method: "POST", path: hooksPath, auth: bearer(tokenA), body: `{"type":"post_load",`,
			wantStatus: 400, wantBody: bodyInvalidPostBody},
		{name: "POST missing config", method: "POST", path: hooksPath, auth: bearer(tokenA), body: `{"type":"post_load"}`,
			wantStatus: 400, wantBody: bodyInvalidPostBody},
		{name: "POST extra key", method: "POST", path: hooksPath, auth: bearer(tokenA), body: `{"type":"post_load","destination_id":12345,"config":{"url":"https://a.example.com/"},"x":1}`,
			wantStatus: 400, wantBody: bodyInvalidPostBody},
		{name: "POST wrong type", method: "POST", path: hooksPath, auth: bearer(tokenA), body: `{"type":"post_load","destination_id":12345,"config":{"url":42}}`,
			wantStatus: 400, wantBody: bodyInvalidPostBody},
		{name: "POST type not post_load", method: "POST", path: hooksPath, auth: bearer(tokenA), body: `{"type":"pre_load","destination_id":12345,"config":{"url":"https://a.example.com/"}}`,
			wantStatus: 400, wantBody: bodyInvalidPostBody},
		{name: "URI http", method: "POST", path: hooksPath, auth: bearer(tokenA), body: `{"type":"post_load","destination_id":12345,"config":{"url":"http://a.example.com/"}}`,
			wantStatus: 400, wantBody: bodyInvalidURI},
		{name: "URI relative", method: "POST", path: hooksPath, auth: bearer(tokenA), body: `{"type":"post_load","destination_id":12345,"config":{"url":"/catch"}}`,
			wantStatus: 400, wantBody: bodyInvalidURI},
		{name: "URI unparsable", method: "POST", path: hooksPath, auth: bearer(tokenA), body: `{"type":"post_load","destination_id":12345,"config":{"url":"https://a b/%zz"}}`,
			wantStatus: 400, wantBody: bodyInvalidURI},
		{name: "URI over 2048 bytes", method: "POST", path: hooksPath, auth: bearer(tokenA), body: `{"type":"post_load","destination_id":12345,"config":{"url":"` + long + `"}}`,
			wantStatus: 400, wantBody: bodyInvalidURI},
		{name: "URI user info", method: "POST", path: hooksPath, auth: bearer(tokenA), body: `{"type":"post_load","destination_id":12345,"config":{"url":"https://u:p@a.example.com/"}}`,
			wantStatus: 400, wantBody: bodyInvalidURI},
		{name: "URI localhost", method: "POST", path: hooksPath, auth: bearer(tokenA), body: `{"type":"post_load","destination_id":12345,"config":{"url":"https://localhost/x"}}`,
			wantStatus: 400, wantBody: bodyInvalidURI},
		{name: "URI loopback literal", method: "POST", path: hooksPath, auth: bearer(tokenA), body: `{"type":"post_load","destination_id":12345,"config":{"url":"https://127.0.0.1/x"}}`,
			wantStatus: 400, wantBody: bodyInvalidURI},
		{name: "URI private literal", method: "POST", path: hooksPath, auth: bearer(tokenA), body: `{"type":"post_load","destination_id":12345,"config":{"url":"https://10.1.2.3/x"}}`,
			wantStatus: 400, wantBody: bodyInvalidURI},
		{name: "URI link-local (metadata)", method: "POST", path: hooksPath, auth: bearer(tokenA), body: `{"type":"post_load","destination_id":12345,"config":{"url":"https://169.254.169.254/latest"}}`,
			wantStatus: 400, wantBody: bodyInvalidURI},
		{name: "URI empty", method: "POST", path: hooksPath, auth: bearer(tokenA), body: `{"type":"post_load","destination_id":12345,"config":{"url":""}}`,
			wantStatus: 400, wantBody: bodyInvalidURI},
		{name: "duplicate URI", setup: func(a *testAPI) { a.store.seedHook(clientA, urlA, false) },
			method: "POST", path: hooksPath, auth: bearer(tokenA), body: createBody,
			wantStatus: 400, wantBody: bodyDuplicateURI},
		{name: "no access on create", method: "POST", path: hooksPath, auth: bearer(tokenStd), body: createBody,
			wantStatus: 400, wantBody: bodyNoAccess},
		{name: "no access on re-enable", setup: func(a *testAPI) { a.store.seedHook(clientStd, urlA, true) },
			method: "PUT", path: hooksPath + "/1", auth: bearer(tokenStd), body: `{"enable":true}`,
			wantStatus: 400, wantBody: bodyNoAccess},
		{name: "limit of 10", setup: func(a *testAPI) {
			for i := range 10 {
				a.store.seedHook(clientA, fmt.Sprintf("https://hooks.example.com/%d", i), false)
			}
		}, method: "POST", path: hooksPath, auth: bearer(tokenA), body: createBody,
			wantStatus: 400, wantBody: bodyLimit},
		{name: "PUT body invalid", setup: func(a *testAPI) { a.store.seedHook(clientA, urlA, false) },
			method: "PUT", path: hooksPath + "/1", auth: bearer(tokenA), body: `{"enable":"yes"}`,
			wantStatus: 400, wantBody: bodyInvalidPutBody},
		{name: "PUT unknown id", method: "PUT", path: hooksPath + "/7", auth: bearer(tokenA), body: `{"enable":true}`,
			wantStatus: 404, wantBody: bodyNotFound},
		{name: "DELETE unknown id", method: "DELETE", path: hooksPath + "/7", auth: bearer(tokenA),
			wantStatus: 404, wantBody: bodyNotFound},
		{name: "PUT another account's hook", setup: func(a *testAPI) { a.store.seedHook(clientB, urlA, false) },
			method: "PUT", path: hooksPath + "/1", auth: bearer(tokenA), body: `{"enable":false}`,
			wantStatus: 404, wantBody: bodyNotFound},
		{name: "DELETE another account's hook", setup: func(a *testAPI) { a.store.seedHook(clientB, urlA, false) },
			method: "DELETE", path: hooksPath + "/1", auth: bearer(tokenA),
			wantStatus: 404, wantBody: bodyNotFound},
		{name: "no token", method: "GET", path: hooksPath, wantStatus: 401, wantBody: bodyUnauthorized},
		{name: "unknown token", method: "GET", path: hooksPath, auth: bearer("plh_nope"), wantStatus: 401, wantBody: bodyUnauthorized},
		{name: "body over 64 KiB", method: "POST", path: hooksPath, auth: bearer(tokenA), body: createBody + strings.Repeat(" ", maxBodyBytes),
			wantStatus: 413, wantBody: bodyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newTestAPI(t)
			if tt.setup != nil {
				tt.setup(api)
			}
			status, body := api.do(t, tt.method, tt.path, tt.auth, tt.body)
			checkResponse(t, status, body, tt.wantStatus, tt.wantBody)
		})
	}
}

func TestMalformedHookIDs(t *testing.T) {
	api := newTestAPI(t)
	api.store.seedHook(clientA, urlA, false)
	for _, id := range []string{"0", "-1", "+1", "01", "1.0", "1e0", "abc", "0x1", "9223372036854775808", "%31", "1%20", " 1"} {
		for _, method := range []string{"PUT", "DELETE"} {
			t.Run(method+" "+id, func(t *testing.T) {
				req := httptest.NewRequest(method, "/", strings.NewReader(`{"enable":false}`))
				req.URL.Path = hooksPath + "/" + id // may contain spaces: set after parsing
				req.URL.RawPath = ""
				req.Header.Set("Authorization", bearer(tokenA))
				status, body := api.serve(t, req)
				checkResponse(t, status, body, http.StatusNotFound, bodyNotFound)
			})
		}
	}
	if h, ok := api.store.hook(clientA, 1); !ok || !h.Enabled() {
		t.Errorf("hook 1 = %+v, %v; want it untouched", h, ok)
	}
}

// TestAuthBeforeBody checks that a bad token is reported before a bad body
// or a bad id, and that the store is never asked to change anything.
func TestAuthBeforeBody(t *testing.T) {
	tests := []struct{ method, path, body string }{
		{"POST", hooksPath, `{nope`},
		{"POST", hooksPath, createBody + strings.Repeat(" ", maxBodyBytes)},
		{"PUT", hooksPath + "/1", `{"enable":"x"}`},
		{"PUT", hooksPath + "/abc", `{"enable":true}`},
		{"DELETE", hooksPath + "/abc", ""},
		{"GET", hooksPath, ""},
	}
	auths := []string{"", "Bearer", "Bearer ", "Basic " + tokenA, tokenA, bearer("plh_unknown"), bearer(tokenA + "x"), "Bearer " + tokenA + " extra"}
	for _, tt := range tests {
		for _, auth := range auths {
			t.Run(fmt.Sprintf("%s %s %q", tt.method, tt.path, auth), func(t *testing.T) {
				api := newTestAPI(t)
				api.store.seedHook(clientA, urlA, false)
				status, body := api.do(t, tt.method, tt.path, auth, tt.body)
				checkResponse(t, status, body, http.StatusUnauthorized, bodyUnauthorized)
				if h, _ := api.store.hook(clientA, 1); !h.Enabled() || len(api.store.Hooks(clientA)) != 1 {
					t.Error("store changed by an unauthenticated request")
				}
			})
		}
	}
}

func TestBearerSchemeCaseInsensitive(t *testing.T) {
	for _, auth := range []string{"Bearer " + tokenA, "bearer " + tokenA, "BEARER " + tokenA, "  Bearer   " + tokenA + "  "} {
		t.Run(auth, func(t *testing.T) {
			status, body := newTestAPI(t).do(t, "GET", hooksPath, auth, "")
			checkResponse(t, status, body, http.StatusOK, `{"post_load":[]}`)
		})
	}
	t.Run("two Authorization headers", func(t *testing.T) {
		req := httptest.NewRequest("GET", hooksPath, nil)
		req.Header.Add("Authorization", bearer(tokenA))
		req.Header.Add("Authorization", bearer(tokenA))
		status, body := newTestAPI(t).serve(t, req)
		checkResponse(t, status, body, http.StatusUnauthorized, bodyUnauthorized)
	})
}

func TestStrictPostBody(t *testing.T) {
	tests := []struct {
		name, body string
		want       int
	}{
		{"valid", createBody, 200},
		{"valid with whitespace and trailing newline", "\n { \"type\" : \"post_load\" , \"destination_id\" : 12345 , \"config\" : { \"url\" : \"" + urlA + "\" } }\r\n\t", 200},
		{"keys in other order", `{"config":{"url":"` + urlA + `"},"destination_id":12345,"type":"post_load"}`, 200},
		{"escaped key is the same key", `{"typ\u0065":"post_load","destination_id":12345,"config":{"url":"` + urlA + `"}}`, 200},
		{"Type key", `{"Type":"post_load","destination_id":12345,"config":{"url":"` + urlA + `"}}`, 400},
		{"CONFIG key", `{"type":"post_load","destination_id":12345,"CONFIG":{"url":"` + urlA + `"}}`, 400},
		{"Destination_id key", `{"type":"post_load","Destination_id":12345,"config":{"url":"` + urlA + `"}}`, 400},
		{"missing destination_id (the body before destinations)", `{"type":"post_load","config":{"url":"` + urlA + `"}}`, 400},
		{"destination_id string", `{"type":"post_load","destination_id":"12345","config":{"url":"` + urlA + `"}}`, 400},
		{"destination_id fraction", `{"type":"post_load","destination_id":12345.0,"config":{"url":"` + urlA + `"}}`, 400},
		{"destination_id exponent", `{"type":"post_load","destination_id":1.2345e4,"config":{"url":"` + urlA + `"}}`, 400},
		{"destination_id null", `{"type":"post_load","destination_id":null,"config":{"url":"` + urlA + `"}}`, 400},
		{"destination_id over int64", `{"type":"post_load","destination_id":9223372036854775808,"config":{"url":"` + urlA + `"}}`, 400},
		{"destination_id inside config", `{"type":"post_load","config":{"url":"` + urlA + `","destination_id":12345}}`, 400},
		{"duplicate destination_id", `{"type":"post_load","destination_id":12345,"destination_id":12345,"config":{"url":"` + urlA + `"}}`, 400},
		{"URL key", `{"type":"post_load","destination_id":12345,"config":{"URL":"` + urlA + `"}}`, 400},
		{"Url key", `{"type":"post_load","destination_id":12345,"config":{"Url":"` + urlA + `"}}`, 400},
		{"type value case", `{"type":"POST_LOAD","destination_id":12345,"config":{"url":"` + urlA + `"}}`, 400},
		{"duplicate type", `{"type":"post_load","type":"post_load","destination_id":12345,"config":{"url":"` + urlA + `"}}`, 400},
		{"duplicate config", `{"type":"post_load","destination_id":12345,"config":{"url":"` + urlA + `"},"config":{"url":"` + urlA + `"}}`, 400},
		{"duplicate url", `{"type":"post_load","destination_id":12345,"config":{"url":"` + urlA + `","url":"` + urlA + `"}}`, 400},
		{"duplicate via escape", `{"type":"post_load","typ\u0065":"post_load","destination_id":12345,"config":{"url":"` + urlA + `"}}`, 400},
		{"trailing object", createBody + `{}`, 400},
		{"trailing garbage", createBody + `x`, 400},
		{"trailing brace", createBody + `}`, 400},
		{"two documents", createBody + createBody, 400},
		{"type number", `{"type":1,"destination_id":12345,"config":{"url":"` + urlA + `"}}`, 400},
		{"type null", `{"type":null,"destination_id":12345,"config":{"url":"` + urlA + `"}}`, 400},
		{"config string", `{"type":"post_load","destination_id":12345,"config":"` + urlA + `"}`, 400},
		{"config array", `{"type":"post_load","destination_id":12345,"config":[{"url":"` + urlA + `"}]}`, 400},
		{"config null", `{"type":"post_load","destination_id":12345,"config":null}`, 400},
		{"url number", `{"type":"post_load","destination_id":12345,"config":{"url":1}}`, 400},
		{"url null", `{"type":"post_load","destination_id":12345,"config":{"url":null}}`, 400},
		{"url array", `{"type":"post_load","destination_id":12345,"config":{"url":["` + urlA + `"]}}`, 400},
		{"extra top key", `{"type":"post_load","destination_id":12345,"config":{"url":"` + urlA + `"},"enabled":true}`, 400},
		{"extra config key", `{"type":"post_load","destination_id":12345,"config":{"url":"` + urlA + `","secret":"x"}}`, 400},
		{"missing type", `{"destination_id":12345,"config":{"url":"` + urlA + `"}}`, 400},
		{"missing config", `{"type":"post_load"}`, 400},
		{"missing url", `{"type":"post_load","destination_id":12345,"config":{}}`, 400},
		{"empty object", `{}`, 400},
		{"empty body", ``, 400},
		{"whitespace body", "  \n", 400},
		{"null", `null`, 400},
		{"array", `[` + createBody + `]`, 400},
		{"string", `"x"`, 400},
		{"invalid utf-8", "{\"type\":\"post_load\",\"destination_id\":12345,\"config\":{\"url\":\"https://a.example.com/\xff\"}}", 400},
		{"comment", `{"type":"post_load","destination_id":12345,/*x*/"config":{"url":"` + urlA + `"}}`, 400},
		{"single quotes", `{'type':'post_load','config':{'url':'` + urlA + `'}}`, 400},
		{"trailing comma", `{"type":"post_load","destination_id":12345,"config":{"url":"` + urlA + `"},}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := newTestAPI(t).do(t, "POST", hooksPath, bearer(tokenA), tt.body)
			if tt.want == 200 {
				if status != 200 {
					t.Errorf("got %d %s, want 200", status, body)
				}
				return
			}
			checkResponse(t, status, body, http.StatusBadRequest, bodyInvalidPostBody)
		})
	}
}

func TestStrictPutBody(t *testing.T) {
	tests := []struct {
		name, body string
		want       int
	}{
		{"true", `{"enable":true}`, 200},
		{"false", `{"enable": false}`, 200},
		{"whitespace", " {\n\"enable\" :true }\n", 200},
		{"string", `{"enable":"true"}`, 400},
		{"number", `{"enable":1}`, 400},
		{"null", `{"enable":null}`, 400},
		{"object", `{"enable":{}}`, 400},
		{"Enable key", `{"Enable":true}`, 400},
		{"ENABLE key", `{"ENABLE":true}`, 400},
		{"duplicate", `{"enable":true,"enable":false}`, 400},
		{"duplicate same value", `{"enable":true,"enable":true}`, 400},
		{"extra key", `{"enable":true,"id":1}`, 400},
		{"empty object", `{}`, 400},
		{"trailing data", `{"enable":true}x`, 400},
		{"trailing object", `{"enable":true}{"enable":true}`, 400},
		{"empty", ``, 400},
		{"bare true", `true`, 400},
		{"array", `[{"enable":true}]`, 400},
		{"capital True", `{"enable":True}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newTestAPI(t)
			api.store.seedHook(clientA, urlA, false)
			status, body := api.do(t, "PUT", hooksPath+"/1", bearer(tokenA), tt.body)
			if tt.want == 200 {
				if status != 200 {
					t.Errorf("got %d %s, want 200", status, body)
				}
				return
			}
			checkResponse(t, status, body, http.StatusBadRequest, bodyInvalidPutBody)
		})
	}
}

// padTo pads a JSON body with trailing spaces (which strict JSON allows)
// to exactly n bytes.
func padTo(t *testing.T, body string, n int) string {
	t.Helper()
	if len(body) > n {
		t.Fatalf("body longer than %d", n)
	}
	return body + strings.Repeat(" ", n-len(body))
}

func TestBodySizeLimit(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		auth, body string
		size       int
		wantStatus int
	}{
		{"POST 65536", "POST", hooksPath, bearer(tokenA), createBody, 65536, 200},
		{"POST 65537", "POST", hooksPath, bearer(tokenA), createBody, 65537, 413},
		{"PUT 65536", "PUT", hooksPath + "/1", bearer(tokenA), `{"enable":false}`, 65536, 200},
		{"PUT 65537", "PUT", hooksPath + "/1", bearer(tokenA), `{"enable":false}`, 65537, 413},
		{"admin PATCH 65536", "PATCH", "/admin/v1/accounts/116078", bearer(adminToken), `{"plan":"premium"}`, 65536, 200},
		{"admin PATCH 65537", "PATCH", "/admin/v1/accounts/116078", bearer(adminToken), `{"plan":"premium"}`, 65537, 413},
	}
	for _, tt := range tests {
		for _, chunked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s chunked=%v", tt.name, chunked), func(t *testing.T) {
				api := newTestAPI(t)
				api.store.seedHook(clientA, "https://hooks.example.com/existing", false)
				req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(padTo(t, tt.body, tt.size)))
				if chunked {
					req.ContentLength = -1 // length unknown: only the read limit applies
				}
				req.Header.Set("Authorization", tt.auth)
				status, body := api.serve(t, req)
				if tt.wantStatus == 413 {
					checkResponse(t, status, body, 413, bodyTooLarge)
				} else if status != tt.wantStatus {
					t.Errorf("got %d %s, want %d", status, body, tt.wantStatus)
				}
			})
		}
	}
	t.Run("Content-Length over limit refused before reading", func(t *testing.T) {
		api := newTestAPI(t)
		req := httptest.NewRequest("POST", hooksPath, strings.NewReader(createBody))
		req.ContentLength = maxBodyBytes + 1
		req.Header.Set("Authorization", bearer(tokenA))
		status, body := api.serve(t, req)
		checkResponse(t, status, body, 413, bodyTooLarge)
	})
}

// TestTenantIsolation runs every hooks route with another account's token.
func TestTenantIsolation(t *testing.T) {
	api := newTestAPI(t)
	hookA := api.store.seedHook(clientA, urlA, false)

	status, body := api.do(t, "GET", hooksPath, bearer(tokenB), "")
	checkResponse(t, status, body, 200, `{"post_load":[]}`)
	status, body = api.do(t, "PUT", hooksPath+"/1", bearer(tokenB), `{"enable":false}`)
	checkResponse(t, status, body, 404, bodyNotFound)
	status, body = api.do(t, "PUT", hooksPath+"/1", bearer(tokenB), `{"enable":true}`)
	checkResponse(t, status, body, 404, bodyNotFound)
	status, body = api.do(t, "DELETE", hooksPath+"/1", bearer(tokenB), "")
	checkResponse(t, status, body, 404, bodyNotFound)

	// The same URL is not a duplicate in another account, and the new hook
	// belongs to the token's account, never to one named in the request.
	status, body = api.do(t, "POST", hooksPath+"?client_id=116078", bearer(tokenB), createBody)
	if status != 200 || !strings.Contains(body, `"client_id":200,`) {
		t.Errorf("create as B: got %d %s, want 200 for client 200", status, body)
	}
	if got, ok := api.store.hook(clientA, 1); !ok || !cmp.Equal(got, hookA) {
		t.Errorf("A's hook changed: got %+v", got)
	}
	if n := len(api.store.Hooks(clientA)); n != 1 {
		t.Errorf("A has %d hooks, want 1", n)
	}
}

func TestDowngradeKeepsCleanupRoutes(t *testing.T) {
	api := newTestAPI(t)
	api.store.seedHook(clientA, urlA, false)
	api.store.seedHook(clientA, "https://hooks.example.com/2", false)
	status, body := api.do(t, "PATCH", "/admin/v1/accounts/116078", bearer(adminToken), `{"plan":"standard"}`)
	if status != 200 {
		t.Fatalf("downgrade: got %d %s", status, body)
	}
	status, body = api.do(t, "GET", hooksPath, bearer(tokenA), "")
	if status != 200 || strings.Count(body, `"disabled_at":"2026-07-16T16:47:54Z"`) != 2 {
		t.Errorf("list after downgrade: got %d %s, want both hooks disabled", status, body)
	}
	status, body = api.do(t, "PUT", hooksPath+"/1", bearer(tokenA), `{"enable":true}`)
	checkResponse(t, status, body, 400, bodyNoAccess)
	status, _ = api.do(t, "PUT", hooksPath+"/1", bearer(tokenA), `{"enable":false}`)
	if status != 200 {
		t.Errorf("disable after downgrade: got %d, want 200", status)
	}
	status, _ = api.do(t, "DELETE", hooksPath+"/2", bearer(tokenA), "")
	if status != 200 {
		t.Errorf("delete after downgrade: got %d, want 200", status)
	}
	status, body = api.do(t, "POST", hooksPath, bearer(tokenA), `{"type":"post_load","destination_id":12345,"config":{"url":"https://hooks.example.com/3"}}`)
	checkResponse(t, status, body, 400, bodyNoAccess)
}

func TestInternalErrors(t *testing.T) {
	secretErr := errors.New("dynamodb: ProvisionedThroughputExceeded secret-detail")
	tests := []struct{ method, path, auth, body string }{
		{"GET", hooksPath, bearer(tokenA), ""},
		{"POST", hooksPath, bearer(tokenA), createBody},
		{"PUT", hooksPath + "/1", bearer(tokenA), `{"enable":true}`},
		{"DELETE", hooksPath + "/1", bearer(tokenA), ""},
		{"POST", "/admin/v1/accounts", bearer(adminToken), `{"client_id":5,"plan":"advanced"}`},
		{"GET", "/admin/v1/accounts/5", bearer(adminToken), ""},
		{"PATCH", "/admin/v1/accounts/5", bearer(adminToken), `{"plan":"advanced"}`},
		{"POST", "/admin/v1/accounts/5/members", bearer(adminToken), `{"email":"a@example.com"}`},
		{"DELETE", "/admin/v1/accounts/5/members/abc", bearer(adminToken), ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			api := newTestAPI(t)
			api.store.Fail("", fmt.Errorf("wrapped: %w", secretErr))
			status, body := api.do(t, tt.method, tt.path, tt.auth, tt.body)
			checkResponse(t, status, body, 500, bodyInternal)
			logs := api.logs.String()
			if n := strings.Count(logs, "secret-detail"); n != 1 {
				t.Errorf("error logged %d times, want once:\n%s", n, logs)
			}
		})
	}
}
