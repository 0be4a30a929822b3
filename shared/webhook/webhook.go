// Package webhook makes one webhook delivery attempt: it signs the body the
// Standard Webhooks way and POSTs it with an HTTP client that contacts only
// public addresses (checked by package netguard on the address actually
// dialled), ignores proxy settings, never follows redirects, bounds the
// whole attempt by a timeout and reads at most MaxResponseBytes of the
// answer. The result is a delivery.Attempt with a short outcome class.
//
// It makes exactly one attempt per call: retries, schedules and records are
// the caller's business. It does not log, and nothing it returns contains
// the signing secret, the URL or the response headers.
package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/netguard"
)

const (
	// DefaultTimeout bounds a whole attempt when Options.Timeout is zero.
	DefaultTimeout = 30 * time.Second
	// MaxResponseBytes is the most of a response body that is read.
	MaxResponseBytes = 64 << 10
	// DefaultMaxIdleConnsPerHost is Options.MaxIdleConnsPerHost when zero.
	DefaultMaxIdleConnsPerHost = 100
	// UserAgent is sent with every request.
	UserAgent = "StitchLoadingWebhook"
)

// Options configure a Client.
type Options struct {
	// Timeout bounds one whole attempt: DNS, connect, TLS, request, response
	// headers and reading the body. Zero means DefaultTimeout.
	Timeout time.Duration
	// AllowPrivate lifts the public-address check. Local runs and tests only.
	AllowPrivate bool
	// ExtraCAFile names a PEM file of roots trusted besides the system's.
	ExtraCAFile string
	// Now gives the attempt time (webhook-timestamp and Attempt.At). Nil
	// means time.Now.
	Now func() time.Time
	// MaxIdleConnsPerHost is how many connections to one host are kept
	// alive between attempts. Set it to the most attempts the caller makes
	// at once: below that, every attempt beyond it closes its connection
	// after use and a later one pays a new TCP and TLS handshake. Zero means
	// DefaultMaxIdleConnsPerHost.
	MaxIdleConnsPerHost int
}

// Client delivers webhooks. Build one per process and share it: its
// connections are kept alive across attempts, in one pool per account
// (Request.ClientID), so two accounts never share a connection (see
// pool.go). It is safe for concurrent use.
type Client struct {
	pools   *pools
	timeout time.Duration
	now     func() time.Time
}

// Request is one attempt to deliver Body to URL.
type Request struct {
	// ClientID is the account the attempt is made for. Attempts of
	// different accounts never share a connection.
	ClientID int64
	URL      string
	// LoadID, when set, is sent as the webhook-load-id header: the
	// loader's load_id of the load the request is about (a test
	// notification's "test-..." id). Callers set it on every request.
	LoadID string
	// Event is the request's event type, sent as the webhook-event header
	// (hook.EventTableLoaded, ...). Empty means EventTableLoaded.
	Event string
	// Sequence, when positive, is sent as the webhook-sequence header: the
	// load's number among the loads of its (account, integration,
	// destination root table), the same on every attempt (table_loaded
	// requests only; zero sends no header).
	Sequence  int64
	WebhookID string
	Secret    string // "whsec_" + base64
	// PreviousSecret, when set, is a secret that a rotation replaced: it
	// signs the attempt too (after Secret) when the attempt is made before
	// PreviousSecretExpiresAt, so a receiver still holding it keeps
	// verifying requests while it switches.
	PreviousSecret          string
	PreviousSecretExpiresAt time.Time
	Body                    []byte
	// Keys, when set, lends the signing MACs of the caller's batch of
	// attempts (see Keys); nil keys a MAC for each signature.
	Keys *Keys
}

// EventTableLoaded is the webhook-event of a request whose Event is empty:
// a table load's notification (the same name as hook.EventTableLoaded).
const EventTableLoaded = "table_loaded"

// EventOf is the webhook-event value of a request whose Event is event.
func EventOf(event string) string {
	if event == "" {
		return EventTableLoaded
	}
	return event
}

// signature is the webhook-signature value of an attempt made at ts (unix
// seconds, as webhook-timestamp says): the signature with Secret, then,
// while PreviousSecret is live at at, a space and the signature with it
// ("v1,<new> v1,<old>"), as Standard Webhooks allows during a rotation (a
// receiver accepts the request when any entry matches the secret it holds).
func (r *Request) signature(at time.Time, ts string) (string, error) {
	sig, err := sign(r.Keys, r.Secret, r.WebhookID, ts, r.Body)
	if err != nil || r.PreviousSecret == "" || !at.Before(r.PreviousSecretExpiresAt) {
		return sig, err
	}
	old, err := sign(r.Keys, r.PreviousSecret, r.WebhookID, ts, r.Body)
	if err != nil {
		return "", err
	}
	return sig + " " + old, nil
}

// header is the request's header, each key as Header.Set writes it
// (canonical: "Webhook-Id" for webhook-id), every value in one array.
func (r *Request) header(ts, sig string) http.Header {
	values := []string{"application/json", UserAgent, r.WebhookID, ts, sig, EventOf(r.Event), r.LoadID, ""}
	h := http.Header{
		"Content-Type":      values[0:1:1],
		"User-Agent":        values[1:2:2],
		"Webhook-Id":        values[2:3:3],
		"Webhook-Timestamp": values[3:4:4],
		"Webhook-Signature": values[4:5:5],
		"Webhook-Event":     values[5:6:6],
	}
	if r.LoadID != "" {
		h["Webhook-Load-Id"] = values[6:7:7]
	}
	if r.Sequence > 0 {
		values[7] = strconv.FormatInt(r.Sequence, 10)
		h["Webhook-Sequence"] = values[7:8:8]
	}
	return h
}

// NewClient builds a Client. It fails when ExtraCAFile cannot be read or
// holds no certificate. It reads no file otherwise: the system roots are
// loaded by crypto/tls at the first handshake.
func NewClient(o Options) (*Client, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	// Without an extra CA file RootCAs stays nil: crypto/tls then uses the
	// system roots, loaded once at the first handshake. Loading them here
	// (x509.SystemCertPool) added about 13 ms to every cold start under
	// aws-lambda-rie, also to those that deliver nothing.
	var roots *x509.CertPool
	if o.ExtraCAFile != "" {
		pem, err := os.ReadFile(o.ExtraCAFile)
		if err != nil {
			return nil, fmt.Errorf("read extra CA file: %w", err)
		}
		roots, err = x509.SystemCertPool()
		if err != nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("extra CA file %s: no PEM certificate", o.ExtraCAFile)
		}
	}
	perHost := o.MaxIdleConnsPerHost
	if perHost <= 0 {
		perHost = DefaultMaxIdleConnsPerHost
	}

	dialer := &net.Dialer{KeepAlive: 30 * time.Second}
	if !o.AllowPrivate {
		dialer.Control = netguard.Control(false)
	}
	tlsConfig := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	var protocols http.Protocols
	protocols.SetHTTP1(true) // HTTP/1.1 only: see pool.go
	// Attempts go to the transport itself, not through an http.Client:
	// a transport never follows a redirect (a 3xx is the attempt's answer),
	// and a client would copy every request's header for the redirects it
	// could follow.
	newTransport := func(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport {
		return &http.Transport{
			Proxy:                  nil, // proxy environment variables are ignored
			DialContext:            dial,
			TLSClientConfig:        tlsConfig.Clone(),
			Protocols:              &protocols,
			MaxIdleConns:           perHost,
			MaxIdleConnsPerHost:    perHost,
			IdleConnTimeout:        90 * time.Second,
			TLSHandshakeTimeout:    10 * time.Second,
			MaxResponseHeaderBytes: MaxResponseBytes,
			// Bodies are read raw, so MaxResponseBytes counts bytes on the wire.
			DisableCompression: true,
		}
	}
	return &Client{
		pools: &pools{
			newTransport: newTransport,
			dial:         dialer.DialContext, // the netguard check runs on every dial of every pool
			budget:       int64(max(256, 2*perHost)),
			byKey:        map[int64]*pool{},
		},
		timeout: o.Timeout,
		now:     o.Now,
	}, nil
}

// Deliver makes one attempt and reports it. At is the attempt's time from
// Options.Now; LatencyMs is measured on the monotonic clock. The timeout
// covers reading the body: a response that completes only after the
// deadline is a timeout, whatever its status. Error is a short fixed text
// naming the class of failure (empty on success and for http_status).
//
// Deliver refuses a URL that is not https without sending anything.
func (c *Client) Deliver(ctx context.Context, r Request) delivery.Attempt {
	at := c.now()
	start := time.Now()
	a := c.attempt(ctx, &r, at)
	a.At = at
	a.LatencyMs = time.Since(start).Milliseconds()
	return a
}

func (c *Client) attempt(ctx context.Context, r *Request, at time.Time) delivery.Attempt {
	ts := strconv.FormatInt(at.Unix(), 10)
	sig, err := r.signature(at, ts)
	if err != nil {
		return delivery.Attempt{Outcome: delivery.OutcomeConnection, Error: "malformed signing secret"}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil || req.URL.Scheme != "https" || req.URL.Host == "" {
		return delivery.Attempt{Outcome: delivery.OutcomeConnection, Error: "invalid url"}
	}
	req.Header = r.header(ts, sig)
	if u := req.URL.User; u != nil {
		// What an http.Client does with user info (hook URLs have none:
		// package hookurl refuses it).
		password, _ := u.Password()
		req.SetBasicAuth(u.Username(), password)
	}

	p := c.pools.acquire(r.ClientID)
	defer c.pools.release(p)
	resp, err := p.transport.RoundTrip(req)
	if err != nil {
		outcome, msg := classify(ctx, err)
		return delivery.Attempt{Outcome: outcome, Error: msg}
	}
	defer resp.Body.Close()
	if ctx.Err() != nil {
		// The headers came only once the deadline had passed (the server
		// reacting to our cancellation, say): no response came in time.
		outcome, msg := classify(ctx, ctx.Err())
		return delivery.Attempt{Outcome: outcome, Error: msg}
	}
	snippet, err := readBody(resp.Body)
	if err == nil {
		// The attempt's time covers the body: a response that only
		// completes once the deadline has passed (the server reacting to
		// our cancellation, say) is still a timeout.
		err = ctx.Err()
	}
	a := delivery.Attempt{StatusCode: resp.StatusCode, Snippet: snippet}
	switch {
	case err != nil:
		a.Outcome, a.Error = classify(ctx, err)
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		a.Outcome = delivery.OutcomeSuccess
	case resp.StatusCode >= 300 && resp.StatusCode <= 399:
		a.Outcome, a.Error = delivery.OutcomeRedirect, "redirect not followed"
	default:
		a.Outcome = delivery.OutcomeHTTPStatus
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			a.RetryAfter = retryAfter(resp.Header, at)
		}
	}
	return a
}

// snippetBufs holds delivery.SnippetBytes buffers for readBody: most responses are
// short or empty, and a fresh buffer per attempt was most of the bytes a
// delivery allocated.
var snippetBufs = sync.Pool{New: func() any { return new([delivery.SnippetBytes]byte) }}

// readBody reads at most MaxResponseBytes of body and returns the first
// delivery.SnippetBytes of it as valid UTF-8. Reading a short body to its end lets
// the connection be reused; a longer one is cut off and its connection
// closed.
func readBody(body io.Reader) (string, error) {
	buf := snippetBufs.Get().(*[delivery.SnippetBytes]byte)
	defer snippetBufs.Put(buf)
	n := 0
	var err error
	for n < len(buf) && err == nil {
		var m int
		m, err = body.Read(buf[n:]) // the snippet is far below MaxResponseBytes
		n += m
	}
	if err == nil {
		// The snippet is full: discard the rest, up to the limit
		// (io.Discard reads with its own pooled buffer).
		_, err = io.Copy(io.Discard, io.LimitReader(body, MaxResponseBytes-int64(n)))
	} else if err == io.EOF {
		err = nil
	}
	// A body cut short (io.ErrUnexpectedEOF) is a failure too.
	return snippetText(buf[:n]), err
}

// snippetText drops a rune cut in half at the end and replaces other
// invalid UTF-8 with "?", so the text never grows past its input.
func snippetText(b []byte) string {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				b = b[:i]
			}
			break
		}
	}
	return strings.ToValidUTF8(string(b), "?")
}

// classify maps a transport or body error to an outcome and a short text
// that names the class of failure only (url.Error text would carry the URL).
func classify(ctx context.Context, err error) (outcome, msg string) {
	var (
		netErr      net.Error
		dnsErr      *net.DNSError
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidErr  x509.CertificateInvalidError
		certErr     *tls.CertificateVerificationError
		recordErr   tls.RecordHeaderError
		alertErr    tls.AlertError
	)
	switch {
	case errors.Is(err, netguard.ErrBlocked):
		return delivery.OutcomeBlocked, "address not allowed"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(ctx.Err(), context.DeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return delivery.OutcomeTimeout, "no complete response in time"
	case errors.As(err, &unknownAuth):
		return delivery.OutcomeTLS, "certificate signed by unknown authority"
	case errors.As(err, &hostErr):
		return delivery.OutcomeTLS, "certificate does not match host"
	case errors.As(err, &invalidErr):
		return delivery.OutcomeTLS, "certificate invalid"
	case errors.As(err, &certErr):
		return delivery.OutcomeTLS, "certificate verification failed"
	case errors.As(err, &recordErr), errors.As(err, &alertErr),
		// net/http replaces the RecordHeaderError by a plain error when the
		// server answers in clear HTTP.
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return delivery.OutcomeTLS, "tls handshake failed"
	case strings.Contains(err.Error(), "server response headers exceeded"):
		// net/http's plain error for a response over MaxResponseHeaderBytes:
		// it ends this request's connection only.
		return delivery.OutcomeConnection, "response headers too large"
	case errors.Is(err, context.Canceled):
		return delivery.OutcomeConnection, "canceled"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return delivery.OutcomeConnection, "no such host"
		}
		return delivery.OutcomeConnection, "dns lookup failed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return delivery.OutcomeConnection, "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return delivery.OutcomeConnection, "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return delivery.OutcomeConnection, "host unreachable"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return delivery.OutcomeConnection, "connection closed"
	default:
		return delivery.OutcomeConnection, "connection failed"
	}
}
