// Package apigw adapts a plain http.Handler to API Gateway HTTP API events
// (payload format 2.0), so the same handler serves HTTP locally and Lambda on
// AWS.
//
// It converts an events.APIGatewayV2HTTPRequest into an *http.Request (method,
// raw path, raw query string, headers, cookies, base64 bodies), runs the
// handler against a buffering http.ResponseWriter and converts what was
// written back into an events.APIGatewayV2HTTPResponse. The event's request
// context (authorizer details included) travels in the request's context and
// is read back with RequestContext.
//
// The request's URL is built from rawPath, rawQueryString and
// requestContext.domainName only: no header (Host included) takes part in
// it, so a client cannot change the path or query the handler routes on.
//
// It does not route on routeKey (the handler routes on the path), it does not
// strip a stage prefix from rawPath (the API is deployed on the $default
// stage), it does not stream responses, and it does not log.
package apigw

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

type requestContextKey struct{}

// RequestContext returns the API Gateway request context of the event that
// produced the request whose context is ctx. ok is false when the request did
// not come through Wrap (for example when served by a local http.Server).
func RequestContext(ctx context.Context) (rc events.APIGatewayV2HTTPRequestContext, ok bool) {
	rc, ok = ctx.Value(requestContextKey{}).(events.APIGatewayV2HTTPRequestContext)
	return rc, ok
}

// WithRequestContext returns a copy of ctx carrying rc, as Wrap does. It lets
// tests of handlers that read RequestContext build such a context directly.
func WithRequestContext(ctx context.Context, rc events.APIGatewayV2HTTPRequestContext) context.Context {
	return context.WithValue(ctx, requestContextKey{}, rc)
}

// Wrap returns a Lambda handler, for lambda.StartHandlerFunc, that serves
// each event with h. The returned
// error is non-nil only when the event cannot be turned into an HTTP request
// (an invalid method or path, or a body that is not valid base64); whatever
// the handler writes, including error statuses, is returned as a response.
func Wrap(h http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		r, err := NewRequest(ctx, ev)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		w := &responseWriter{header: http.Header{}}
		h.ServeHTTP(w, r)
		return w.response(), nil
	}
}

// NewRequest converts an API Gateway HTTP API event into an *http.Request
// whose context is ctx with the event's request context added.
func NewRequest(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	method := ev.RequestContext.HTTP.Method
	if method == "" {
		return nil, fmt.Errorf("apigw: event has no requestContext.http.method")
	}
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	if path == "" {
		path = "/"
	}
	// The URL is built from its parts, never by pasting strings, and its
	// host is API Gateway's own domain name: a client's Host header must not
	// be able to move the path or the query that the handler routes on.
	u, err := url.ParseRequestURI(path)
	if err != nil || !strings.HasPrefix(path, "/") || u.Host != "" || u.RawQuery != "" || u.ForceQuery ||
		strings.ContainsAny(path, "# ") {
		return nil, fmt.Errorf("apigw: rawPath is not an absolute path")
	}
	host := ev.RequestContext.DomainName
	if host == "" {
		host = placeholderHost // a hand-written event; the Host header is not used
	}
	u.Scheme, u.Host, u.RawQuery = "https", host, ev.RawQueryString

	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return nil, fmt.Errorf("apigw: decode base64 body: %w", err)
		}
		body = decoded
	}

	ctx = WithRequestContext(ctx, ev.RequestContext)
	r, err := http.NewRequestWithContext(ctx, method, "https://"+placeholderHost+"/", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("apigw: build request: %w", err)
	}
	r.URL = u
	// API Gateway joins repeated headers with commas; they stay joined here,
	// because splitting on commas would break values such as dates.
	for k, v := range ev.Headers {
		if strings.EqualFold(k, "host") {
			continue
		}
		r.Header.Add(k, v)
	}
	// Payload 2.0 moves the Cookie header into the cookies array.
	if len(ev.Cookies) > 0 {
		r.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	r.Host = host
	// The decoded body's length is authoritative, as it is for a request
	// read by net/http's server, whatever header the event carried.
	r.Header.Del("Content-Length")
	r.ContentLength = int64(len(body))
	r.RemoteAddr = ev.RequestContext.HTTP.SourceIP
	r.RequestURI = r.URL.RequestURI()
	if ev.RequestContext.HTTP.Protocol != "" {
		if major, minor, ok := http.ParseHTTPVersion(ev.RequestContext.HTTP.Protocol); ok {
			r.Proto, r.ProtoMajor, r.ProtoMinor = ev.RequestContext.HTTP.Protocol, major, minor
		}
	}
	return r, nil
}

// placeholderHost is the host of the URL the request is first built with,
// before its parsed URL replaces it.
const placeholderHost = "localhost"

// responseWriter buffers a handler's response.
type responseWriter struct {
	header      http.Header
	status      int
	body        bytes.Buffer
	wroteHeader bool
}

var _ http.ResponseWriter = (*responseWriter)(nil)

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	w.status = status
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// response converts what the handler wrote. Set-Cookie headers become the
// cookies array; other repeated headers are joined with commas. A body that
// is not valid UTF-8 is sent base64-encoded.
func (w *responseWriter) response() events.APIGatewayV2HTTPResponse {
	status := w.status
	if !w.wroteHeader {
		status = http.StatusOK
	}
	res := events.APIGatewayV2HTTPResponse{StatusCode: status}
	if len(w.header) > 0 {
		res.Headers = make(map[string]string, len(w.header))
		for k, v := range w.header {
			if len(v) == 0 {
				continue
			}
			if k == "Set-Cookie" {
				res.Cookies = append(res.Cookies, v...)
				continue
			}
			res.Headers[k] = strings.Join(v, ",")
		}
	}
	body := w.body.Bytes()
	if utf8.Valid(body) {
		res.Body = string(body)
	} else {
		res.Body = base64.StdEncoding.EncodeToString(body)
		res.IsBase64Encoded = true
	}
	return res
}
