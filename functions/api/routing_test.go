package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postloadhooks/hooks/shared/apigw"
)

// Routing is on the path as sent. A path that percent-encodes a character
// needing no encoding (or uses dot segments) is another spelling of a route,
// which http.ServeMux would decode and match: "/%61dmin/v1/..." reached the
// admin handler, where only the admin check then stopped it. Each such
// spelling is an unknown path: 404 {"error":"NotFound"}, before any
// authentication or store call.

// encodedSpellings are other spellings of real routes, each sent with
// credentials that the real route accepts.
var encodedSpellings = []struct {
	method, path, auth, body string
}{
	{"GET", "/%61dmin/v1/accounts/116078", bearer(adminToken), ""},
	{"GET", "/%41dmin/v1/accounts/116078", bearer(adminToken), ""},
	{"GET", "/admin/v1/%61ccounts/116078", bearer(adminToken), ""},
	{"GET", "/admin/%76%31/accounts/116078", bearer(adminToken), ""},
	{"GET", "/admin/v1/accounts/%31%31%36%30%37%38", bearer(adminToken), ""},
	{"PATCH", "/admin/v1/accounts/11607%38", bearer(adminToken), `{"plan":"standard"}`},
	{"POST", "/admin/v1/accounts/116078/%6Dembers", bearer(adminToken), `{"email":"ana@example.com"}`},
	{"DELETE", "/admin/v1/accounts/116078/members/member%61", bearer(adminToken), ""},
	{"POST", "/admin%2Fv1/accounts", bearer(adminToken), `{"client_id":7,"plan":"advanced"}`},
	{"GET", "/notifications/public/v1/api/%68ooks", bearer(tokenA), ""},
	{"GET", "/notifications/public/v1/api/hook%73", bearer(tokenA), ""},
	{"POST", "/notifications%2Fpublic/v1/api/hooks", bearer(tokenA), createBody},
	{"PUT", hooksPath + "/%31", bearer(tokenA), `{"enable":false}`},
	{"DELETE", hooksPath + "/%31", bearer(tokenA), ""},
	{"DELETE", hooksPath + "/1%2e", bearer(tokenA), ""},
	{"GET", "/notifications/public/v1/api/hooks/%2e%2e/hooks", bearer(tokenA), ""},
	{"GET", "/%68ealthz", "", ""},
	{"GET", "/healthz%7E", "", ""},
	{"GET", "/healthz%2d", "", ""},
	{"GET", "/healthz%5f", "", ""},
}

// newSpellingAPI is a test API with hook 1 of clientA, so that every
// canonical spelling above would succeed.
func newSpellingAPI(t *testing.T, admin adminCheck) *testAPI {
	t.Helper()
	api := newTestAPIWith(t, admin)
	if status, body := api.do(t, "POST", hooksPath, bearer(tokenA), createBody); status != http.StatusOK {
		t.Fatalf("create hook: %d %s", status, body)
	}
	api.store.ResetCalls()
	return api
}

func TestEncodedPathsReachNoRouteLocal(t *testing.T) {
	for _, tt := range encodedSpellings {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			api := newSpellingAPI(t, tokenAdmin(adminToken))
			srv := httptest.NewServer(api.handler) // the API's local mode: a plain http.Server
			defer srv.Close()
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if got := req.URL.EscapedPath(); got != tt.path {
				t.Fatalf("client would send %s, not %s", got, tt.path)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			checkResponse(t, resp.StatusCode, strings.TrimSuffix(string(body), "\n"), http.StatusNotFound, bodyNotFound)
			if api.store.Calls("") != 0 {
				t.Errorf("store called %d times", api.store.Calls(""))
			}
		})
	}
}

// lambdaEvent is an API Gateway HTTP API event (payload 2.0) for method
// and path on the domain api.example.com, with a JSON body and authorizer.
func lambdaEvent(method, path, body string, authorizer *events.APIGatewayV2HTTPRequestContextAuthorizerDescription) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: path,
		Headers: map[string]string{"content-type": "application/json"},
		Body:    body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "r1", DomainName: "api.example.com", Authorizer: authorizer,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, Protocol: "HTTP/1.1", SourceIP: "198.51.100.7"},
		},
	}
}

// iamAuthorizer is the request context of a caller API Gateway authorized
// with IAM.
var iamAuthorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
	IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
		AccessKey: "ASIAEXAMPLE", AccountID: "123456789012", CallerID: "AROAEXAMPLE:billing",
		UserARN: "arn:aws:sts::123456789012:assumed-role/billing/session", UserID: "AROAEXAMPLE:billing",
	},
}

func TestEncodedPathsReachNoRouteLambda(t *testing.T) {
	for _, tt := range encodedSpellings {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			api := newSpellingAPI(t, iamAdmin)
			ev := lambdaEvent(tt.method, tt.path, tt.body, iamAuthorizer)
			if tt.auth != "" && !strings.Contains(tt.path, "dmin") {
				ev.Headers["authorization"] = tt.auth
			}
			res, err := apigw.Wrap(api.handler)(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			checkResponse(t, res.StatusCode, strings.TrimSuffix(res.Body, "\n"), http.StatusNotFound, bodyNotFound)
			if api.store.Calls("") != 0 {
				t.Errorf("store called %d times", api.store.Calls(""))
			}
		})
	}
}

// TestLambdaHostHeaderCannotReroute: with no requestContext.domainName, a
// Host header such as "x/admin/v1/accounts/116078?" once became part of the
// URL the adapter parsed and moved the request onto the admin route. The
// request is routed on rawPath, whatever the Host header says.
func TestLambdaHostHeaderCannotReroute(t *testing.T) {
	for _, host := range []string{"x/admin/v1/accounts/116078?", "x/admin/v1/accounts/116078#", "a@x/admin/v1/accounts/116078?q="} {
		t.Run(host, func(t *testing.T) {
			api := newSpellingAPI(t, iamAdmin)
			ev := lambdaEvent("GET", "/healthz", "", iamAuthorizer)
			ev.RequestContext.DomainName = ""
			ev.Headers["host"] = host
			res, err := apigw.Wrap(api.handler)(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			checkResponse(t, res.StatusCode, strings.TrimSuffix(res.Body, "\n"), http.StatusOK, `{"status":"ok"}`)
			if api.store.Calls("") != 0 {
				t.Errorf("store called %d times: the request reached another route", api.store.Calls(""))
			}
		})
	}
}
