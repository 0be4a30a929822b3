package apigw

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

// seen is what the test handler observed of the request it was given.
type seen struct {
	Method, Path, EscapedPath, RawQuery, Host, RemoteAddr, Proto string
	Header                                                       http.Header
	Body                                                         string
	ContentLength                                                int64
	Cookies                                                      []string
	RequestID                                                    string
	IAMUserARN                                                   string
	HasRequestContext                                            bool
}

func recordingHandler(t *testing.T, got *seen) http.Handler {
	t.Helper()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		*got = seen{
			Method: r.Method, Path: r.URL.Path, EscapedPath: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
			Host: r.Host, RemoteAddr: r.RemoteAddr, Proto: r.Proto,
			Header: r.Header, Body: string(b), ContentLength: r.ContentLength,
		}
		for _, c := range r.Cookies() {
			got.Cookies = append(got.Cookies, c.Name+"="+c.Value)
		}
		if rc, ok := RequestContext(r.Context()); ok {
			got.HasRequestContext = true
			got.RequestID = rc.RequestID
			if rc.Authorizer != nil && rc.Authorizer.IAM != nil {
				got.IAMUserARN = rc.Authorizer.IAM.UserARN
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func baseEvent() events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: "ANY /things/{id}",
		RawPath:  "/things/a%2Fb",
		Headers: map[string]string{
			"host":           "abc123.execute-api.us-east-1.amazonaws.com",
			"content-type":   "application/json",
			"accept":         "text/html,application/json",
			"content-length": "999",
		},
		RawQueryString: "q=1&q=2&x=%20y",
		Cookies:        []string{"a=1", "b=2"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID:  "req-1",
			DomainName: "abc123.execute-api.us-east-1.amazonaws.com",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: "POST", Path: "/things/a/b", Protocol: "HTTP/1.1", SourceIP: "203.0.113.9",
			},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{UserARN: "arn:aws:iam::123456789012:user/ops"},
			},
		},
		Body: `{"k":"v"}`,
	}
}

func TestNewRequest(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*events.APIGatewayV2HTTPRequest)
		want   seen
	}{
		{
			name:   "plain body, raw path and query kept, cookies rejoined, request context",
			modify: func(*events.APIGatewayV2HTTPRequest) {},
			want: seen{
				Method: "POST", Path: "/things/a/b", EscapedPath: "/things/a%2Fb", RawQuery: "q=1&q=2&x=%20y",
				Host: "abc123.execute-api.us-east-1.amazonaws.com", RemoteAddr: "203.0.113.9", Proto: "HTTP/1.1",
				Header: http.Header{
					"Content-Type": {"application/json"},
					"Accept":       {"text/html,application/json"},
					"Cookie":       {"a=1; b=2"},
				},
				Body: `{"k":"v"}`, ContentLength: 9,
				Cookies:   []string{"a=1", "b=2"},
				RequestID: "req-1", IAMUserARN: "arn:aws:iam::123456789012:user/ops", HasRequestContext: true,
			},
		},
		{
			name: "base64 body decoded, no cookies, no domain name: the host header is not used",
			modify: func(ev *events.APIGatewayV2HTTPRequest) {
				ev.Body = base64.StdEncoding.EncodeToString([]byte{0xff, 0x00, 'x'})
				ev.IsBase64Encoded = true
				ev.Cookies = nil
				ev.RawQueryString = ""
				ev.RequestContext.DomainName = ""
				ev.RequestContext.Authorizer = nil
				ev.RequestContext.HTTP.Method = "PUT"
			},
			want: seen{
				Method: "PUT", Path: "/things/a/b", EscapedPath: "/things/a%2Fb",
				Host: "localhost", RemoteAddr: "203.0.113.9", Proto: "HTTP/1.1",
				Header: http.Header{
					"Content-Type": {"application/json"},
					"Accept":       {"text/html,application/json"},
				},
				Body: string([]byte{0xff, 0x00, 'x'}), ContentLength: 3,
				RequestID: "req-1", HasRequestContext: true,
			},
		},
		{
			name: "no body, no raw path uses http.path",
			modify: func(ev *events.APIGatewayV2HTTPRequest) {
				ev.Body = ""
				ev.RawPath = ""
				ev.RequestContext.HTTP.Path = "/healthz"
				ev.RequestContext.HTTP.Method = "GET"
				ev.Headers = nil
				ev.Cookies = nil
				ev.RawQueryString = ""
			},
			want: seen{
				Method: "GET", Path: "/healthz", EscapedPath: "/healthz",
				Host: "abc123.execute-api.us-east-1.amazonaws.com", RemoteAddr: "203.0.113.9", Proto: "HTTP/1.1",
				Header:    http.Header{},
				RequestID: "req-1", IAMUserARN: "arn:aws:iam::123456789012:user/ops", HasRequestContext: true,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := baseEvent()
			tt.modify(&ev)
			var got seen
			res, err := Wrap(recordingHandler(t, &got))(context.Background(), ev)
			if err != nil {
				t.Fatalf("Wrap: %v", err)
			}
			if res.StatusCode != http.StatusNoContent {
				t.Errorf("status = %d, want %d", res.StatusCode, http.StatusNoContent)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("request seen by handler (-got +want):\n%s", diff)
			}
		})
	}
}

// TestNewRequestHostHeaderCannotShapeTheURL: without requestContext.domainName
// the client's Host header once became part of the URL string that was
// parsed, so a Host of "x/admin/v1/accounts?" moved the routed path to the
// admin API. The path, query and host of the request the handler gets now
// come from the event's own fields only.
func TestNewRequestHostHeaderCannotShapeTheURL(t *testing.T) {
	for _, host := range []string{
		"x/admin/v1/accounts?",
		"x/admin/v1/accounts#",
		"x/admin/v1/accounts/116078/members?a=",
		"ops@x/admin/v1/accounts",
		"x?client_id=1",
		"[::1]/admin",
		"",
	} {
		t.Run(host, func(t *testing.T) {
			ev := baseEvent()
			ev.RequestContext.DomainName = ""
			ev.RawPath = "/notifications/public/v1/api/hooks"
			ev.RawQueryString = "limit=1"
			ev.Headers["host"] = host
			ev.Headers["Host"] = host
			var got seen
			if _, err := Wrap(recordingHandler(t, &got))(context.Background(), ev); err != nil {
				t.Fatalf("Wrap: %v", err)
			}
			want := []string{"/notifications/public/v1/api/hooks", "/notifications/public/v1/api/hooks", "limit=1", "localhost"}
			if diff := cmp.Diff([]string{got.Path, got.EscapedPath, got.RawQuery, got.Host}, want); diff != "" {
				t.Errorf("path, escaped path, query, host (-got +want):\n%s", diff)
			}
		})
	}
}

// TestNewRequestPathIsOnlyAPath: a raw path that is not an absolute path
// (or that would carry a query or a host of its own) is refused.
func TestNewRequestPathIsOnlyAPath(t *testing.T) {
	for _, p := range []string{"admin/v1/accounts", "/hooks?x=1", "/hooks#x", "https://x/admin", "/a b", "/%zz"} {
		t.Run(p, func(t *testing.T) {
			ev := baseEvent()
			ev.RawPath = p
			called := false
			h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })
			if _, err := Wrap(h)(context.Background(), ev); err == nil || called {
				t.Errorf("Wrap = %v, handler called %v; want an error and no call", err, called)
			}
		})
	}
}

func TestWrapErrors(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*events.APIGatewayV2HTTPRequest)
	}{
		{"bad base64", func(ev *events.APIGatewayV2HTTPRequest) { ev.Body, ev.IsBase64Encoded = "!!!", true }},
		{"no method", func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.HTTP.Method = "" }},
		{"invalid method", func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.HTTP.Method = "GE T" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := baseEvent()
			tt.modify(&ev)
			called := false
			h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })
			if _, err := Wrap(h)(context.Background(), ev); err == nil {
				t.Error("Wrap returned no error")
			}
			if called {
				t.Error("handler was called")
			}
		})
	}
}

func TestResponse(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    events.APIGatewayV2HTTPResponse
	}{
		{
			name: "status, joined headers, cookies, text body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Add("Vary", "Accept")
				w.Header().Add("Vary", "Origin")
				w.Header().Add("Set-Cookie", "a=1")
				w.Header().Add("Set-Cookie", "b=2; HttpOnly")
				w.WriteHeader(http.StatusCreated)
				w.WriteHeader(http.StatusTeapot) // ignored, as net/http does
				_, _ = io.WriteString(w, `{"ok":`)
				_, _ = io.WriteString(w, `true}`)
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: http.StatusCreated,
				Headers:    map[string]string{"Content-Type": "application/json", "Vary": "Accept,Origin"},
				Cookies:    []string{"a=1", "b=2; HttpOnly"},
				Body:       `{"ok":true}`,
			},
		},
		{
			name:    "nothing written is 200 with empty body",
			handler: func(http.ResponseWriter, *http.Request) {},
			want:    events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK},
		},
		{
			name:    "write without WriteHeader is 200",
			handler: func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hi") },
			want:    events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Body: "hi"},
		},
		{
			name:    "binary body is base64",
			handler: func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte{0xff, 0xfe}) },
			want:    events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Body: "//4=", IsBase64Encoded: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Wrap(tt.handler)(context.Background(), baseEvent())
			if err != nil {
				t.Fatalf("Wrap: %v", err)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("response (-got +want):\n%s", diff)
			}
		})
	}
}

func TestRequestContextAbsent(t *testing.T) {
	if _, ok := RequestContext(context.Background()); ok {
		t.Error("RequestContext reported a context that was never set")
	}
}
