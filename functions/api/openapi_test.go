package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// docChecker checks exchanges with the API against an OpenAPI document:
// the route must be in the document, and the response's status, headers
// and body must be one the document allows for it.
type docChecker struct {
	doc   *openapi3.T
	paths []docPath
}

// docPath is one path of the document, matched exactly as http.ServeMux
// matches the API's patterns: each {name} is one whole non-empty segment.
// (kin-openapi's routers also match "/hooks" and "/hooks/" to
// "/hooks/{id}", which would let a route missing from the document pass.)
type docPath struct {
	template string
	re       *regexp.Regexp
	names    []string
	item     *openapi3.PathItem
}

var pathParam = regexp.MustCompile(`\{([^}/]+)\}`)

func newDocPath(template string, item *openapi3.PathItem) docPath {
	p := docPath{template: template, item: item}
	var re strings.Builder
	re.WriteString("^")
	last := 0
	for _, m := range pathParam.FindAllStringSubmatchIndex(template, -1) {
		re.WriteString(regexp.QuoteMeta(template[last:m[0]]))
		re.WriteString("([^/]+)")
		p.names = append(p.names, template[m[2]:m[3]])
		last = m[1]
	}
	re.WriteString(regexp.QuoteMeta(template[last:]) + "$")
	p.re = regexp.MustCompile(re.String())
	return p
}

// findRoute is the document's route for method and the escaped path, or
// nil when it has none; methods are the document's methods for that path.
func (c *docChecker) findRoute(method, path string) (route *routers.Route, params map[string]string, methods []string) {
	for _, p := range c.paths {
		m := p.re.FindStringSubmatch(path)
		if m == nil {
			continue
		}
		for _, want := range routeMethods {
			if p.item.GetOperation(want) != nil {
				methods = append(methods, want)
			}
		}
		op := p.item.GetOperation(method)
		if op == nil {
			return nil, nil, methods
		}
		params = make(map[string]string, len(p.names))
		for i, n := range p.names {
			params[n] = m[i+1]
		}
		return &routers.Route{Spec: c.doc, Path: p.template, PathItem: p.item, Method: method, Operation: op}, params, methods
	}
	return nil, nil, nil
}

// newDocChecker loads and validates an OpenAPI document.
func newDocChecker(data []byte, opts ...openapi3.ValidationOption) (*docChecker, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("openapi %q: want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background(), opts...); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	c := &docChecker{doc: doc}
	for template, item := range doc.Paths.Map() {
		c.paths = append(c.paths, newDocPath(template, item))
	}
	return c, nil
}

var (
	apiDocOnce sync.Once
	apiDoc     *docChecker
	apiDocErr  error
)

// theDocChecker is the checker of the embedded document, loaded once.
func theDocChecker(tb testing.TB) *docChecker {
	tb.Helper()
	apiDocOnce.Do(func() { apiDoc, apiDocErr = newDocChecker(openAPIDocument) })
	if apiDocErr != nil {
		tb.Fatalf("openapi.json: %v", apiDocErr)
	}
	return apiDoc
}

// check returns what is wrong with one exchange, or nil. A request the
// document has no route for must have been answered as a route the API
// does not have: 404 or 405 with the document's bodies for those.
func (c *docChecker) check(req *http.Request, status int, header http.Header, body []byte) error {
	// Route on the path as sent, as the API does: "/%61dmin" is not "/admin".
	probe := req.Clone(context.Background())
	probe.URL.Path, probe.URL.RawPath = req.URL.EscapedPath(), ""
	route, params, methods := c.findRoute(probe.Method, probe.URL.Path)
	if route == nil {
		return c.checkNoRoute(probe, methods, status, header, body)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: probe, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s (%s) answered %d %s: %w", req.Method, req.URL.EscapedPath(), route.Path, status, body, err)
	}
	return nil
}

// checkNoRoute checks the answer to a request that no route of the
// document serves: the document's 404 body, or its 405 body with an Allow
// header naming exactly the document's methods for that path.
func (c *docChecker) checkNoRoute(req *http.Request, methods []string, status int, header http.Header, body []byte) error {
	name := "NotFound"
	if status == http.StatusMethodNotAllowed {
		name = "MethodNotAllowed"
		if got, want := header.Get("Allow"), strings.Join(methods, ", "); got != want {
			return fmt.Errorf("%s %s: no route in the document; Allow %q, but the document has %q", req.Method, req.URL.Path, got, want)
		}
	}
	fail := func(why string) error {
		return fmt.Errorf("%s %s is not a route of the document, but was answered %d %s (%s): a route missing from the document, or not the document's answer to an unknown route",
			req.Method, req.URL.Path, status, body, why)
	}
	if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
		return fail("want 404 or 405")
	}
	resp := c.doc.Components.Responses[name]
	if resp == nil || resp.Value == nil {
		return fail("the document has no components.responses." + name)
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || header.Get("Content-Type") != "application/json" {
		return fail("not application/json")
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fail("body is not JSON")
	}
	if err := mt.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		return fail(err.Error())
	}
	return nil
}

// checked serves h and checks every exchange against the document; what
// is wrong is reported as an error of t when the test ends (also for
// requests made from subtests, goroutines or servers of the test).
func checked(t testing.TB, c *docChecker, h http.Handler) http.Handler {
	t.Helper()
	var mu sync.Mutex
	var problems []string
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("openapi.json: %s", p)
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if err := c.check(r, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			mu.Lock()
			problems = append(problems, err.Error())
			mu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = slices.Clone(v)
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// testRoutes is routes as every test of this package serves it: each
// response checked against openapi.json.
func testRoutes(t testing.TB, log *slog.Logger, s storage, admin adminCheck, hooks hooksConfig) http.Handler {
	t.Helper()
	return checked(t, theDocChecker(t), routes(log, s, admin, hooks, webConfig{}))
}

// checkReceived checks one response a test received from a server of the
// API (res.Request is the request sent) against the document.
func checkReceived(t testing.TB, res *http.Response, body []byte) {
	t.Helper()
	if err := theDocChecker(t).check(res.Request, res.StatusCode, res.Header, body); err != nil {
		t.Errorf("openapi.json: %v", err)
	}
}

// exchange serves one request on a fresh test API (its handler is itself
// checked against the embedded document) and returns it for checking
// against another document.
type exchange struct {
	req    *http.Request
	status int
	header http.Header
	body   []byte
}

func serveExchange(t *testing.T, api *testAPI, method, target, auth, body string) exchange {
	t.Helper()
	req := newRequest(method, target, auth, body)
	rec := httptest.NewRecorder()
	api.handler.ServeHTTP(rec, req)
	return exchange{req: req, status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// driftedDoc is the embedded document with one change made by edit (its
// examples are not validated: they may no longer fit the change).
func driftedDoc(t *testing.T, edit func(doc map[string]any)) *docChecker {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	c, err := newDocChecker(data, openapi3.DisableExamplesValidation())
	if err != nil {
		t.Fatalf("drifted document: %v", err)
	}
	return c
}

// at walks doc along keys, each a map key.
func at(doc map[string]any, keys ...string) map[string]any {
	m := doc
	for _, k := range keys {
		m = m[k].(map[string]any)
	}
	return m
}

// TestOpenAPIDriftFails shows that the check fails when the document and
// the code disagree: each case is a real exchange with the API that the
// embedded document accepts and a document with one drift refuses.
func TestOpenAPIDriftFails(t *testing.T) {
	hookPath := hooksPath + "/{id}"
	tests := []struct {
		name    string
		edit    func(doc map[string]any)
		send    func(t *testing.T, api *testAPI) exchange
		wantErr string
	}{
		{
			name: "a route missing from the document",
			edit: func(doc map[string]any) { delete(at(doc, "paths", hookPath), "delete") },
			send: func(t *testing.T, api *testAPI) exchange {
				serveExchange(t, api, "POST", hooksPath, bearer(tokenA), createBody)
				return serveExchange(t, api, "DELETE", hooksPath+"/1", bearer(tokenA), "")
			},
			wantErr: "is not a route of the document",
		},
		{
			name: "a status the document does not list",
			edit: func(doc map[string]any) { delete(at(doc, "paths", hookPath, "put", "responses"), "404") },
			send: func(t *testing.T, api *testAPI) exchange {
				return serveExchange(t, api, "PUT", hooksPath+"/99", bearer(tokenA), `{"enable":true}`)
			},
			wantErr: "status is not supported",
		},
		{
			name: "an error body the document does not list",
			edit: func(doc map[string]any) {
				s := at(doc, "paths", hooksPath, "post", "responses", "400", "content", "application/json", "schema")
				s["enum"] = s["enum"].([]any)[1:] // without Invalid POST body
			},
			send: func(t *testing.T, api *testAPI) exchange {
				return serveExchange(t, api, "POST", hooksPath, bearer(tokenA), `{}`)
			},
			wantErr: "response body doesn't match schema",
		},
		{
			name: "a field the document does not have",
			edit: func(doc map[string]any) {
				delete(at(doc, "components", "schemas", "Hook", "properties"), "disabled_at")
			},
			send: func(t *testing.T, api *testAPI) exchange {
				serveExchange(t, api, "POST", hooksPath, bearer(tokenA), createBody)
				return serveExchange(t, api, "GET", hooksPath, bearer(tokenA), "")
			},
			wantErr: "response body doesn't match schema",
		},
		{
			name: "a method the document does not have",
			edit: func(doc map[string]any) {
				patch := maps.Clone(at(doc, "paths", hooksPath, "get"))
				patch["operationId"] = "patchHooks"
				at(doc, "paths", hooksPath)["patch"] = patch
			},
			send: func(t *testing.T, api *testAPI) exchange {
				return serveExchange(t, api, "PUT", hooksPath, bearer(tokenA), "") // 405, Allow: GET, POST
			},
			wantErr: "but the document has",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := tt.send(t, newTestAPI(t))
			if err := theDocChecker(t).check(ex.req, ex.status, ex.header, ex.body); err != nil {
				t.Fatalf("the embedded document refuses the exchange: %v", err)
			}
			err := driftedDoc(t, tt.edit).check(ex.req, ex.status, ex.header, ex.body)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("drifted document: check = %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}

// TestOpenAPIRoutesAreServed calls every operation of the document, with
// no token and no body: each answers as a route of the API (not the
// unknown-route 404 or 405), so the document names no route the code
// lacks. Each answer is also checked against the document.
func TestOpenAPIRoutesAreServed(t *testing.T) {
	api := newTestAPI(t)
	c := theDocChecker(t)
	for _, p := range c.paths {
		target := pathParam.ReplaceAllString(p.template, "1")
		for method := range p.item.Operations() {
			t.Run(method+" "+p.template, func(t *testing.T) {
				status, body := api.do(t, method, target, "", "")
				if status == http.StatusMethodNotAllowed || (status == http.StatusNotFound && body == bodyNotFound) {
					t.Errorf("%s %s: %d %s, want an answer of a route of the API", method, target, status, body)
				}
			})
		}
	}
}

// TestOpenAPIServed: GET /openapi.json answers the embedded document,
// without a token, and the document is OpenAPI 3.1.
func TestOpenAPIServed(t *testing.T) {
	status, body := newTestAPI(t).do(t, "GET", "/openapi.json", "", "")
	if status != http.StatusOK || body != string(openAPIDocument) {
		t.Fatalf("GET /openapi.json: %d, %d bytes; want 200 and the %d bytes of openapi.json", status, len(body), len(openAPIDocument))
	}
	if v := theDocChecker(t).doc.OpenAPI; !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", v)
	}
}
