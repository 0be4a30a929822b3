package webhook

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/postloadhooks/hooks/shared/delivery"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// receiver is an HTTPS test server on loopback that records what it sees.
type receiver struct {
	*httptest.Server
	caFile   string
	newConns atomic.Int64
	requests atomic.Int64

	mu     sync.Mutex
	header http.Header
	body   []byte
	method string
}

// newReceiver starts a TLS server whose handler runs after the request is
// recorded. cert, when not nil, replaces httptest's own certificate.
func newReceiver(t testing.TB, handler http.HandlerFunc, cert *tls.Certificate) *receiver {
	t.Helper()
	rc := &receiver{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.requests.Add(1)
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.header, rc.body, rc.method = r.Header.Clone(), body, r.Method
		rc.mu.Unlock()
		if handler != nil {
			handler(w, r)
		}
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			rc.newConns.Add(1)
		}
	}
	if cert != nil {
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	rc.Server = srv
	rc.caFile = writeCA(t, srv.Certificate())
	return rc
}

func writeCA(t testing.TB, cert *x509.Certificate) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (rc *receiver) seen() (method string, h http.Header, body []byte) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.method, rc.header, rc.body
}

func newTestClient(t testing.TB, o Options) *Client {
	t.Helper()
	c, err := NewClient(o)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// ignoreLatency compares attempts without their measured latency.
var ignoreLatency = cmpopts.IgnoreFields(delivery.Attempt{}, "LatencyMs")

func TestDeliverSendsSignedRequest(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"ok":true}`)
	}, nil)
	now := time.Now().Truncate(time.Second)
	c := newTestClient(t, Options{AllowPrivate: true, ExtraCAFile: rc.caFile, Now: func() time.Time { return now }})
	body := []byte(`{"version":"1.0","integration_name":"shopify"}`)

	got := c.Deliver(context.Background(), Request{URL: rc.URL + "/catch?x=1", WebhookID: "msg_abc", Secret: testSecret, Body: body})

	want := delivery.Attempt{At: now, Outcome: delivery.OutcomeSuccess, StatusCode: 200, Snippet: `{"ok":true}`}
	if diff := cmp.Diff(got, want, ignoreLatency); diff != "" {
		t.Errorf("Deliver attempt (-got +want):\n%s", diff)
	}
	method, h, gotBody := rc.seen()
	if method != http.MethodPost {
		t.Errorf("method = %q, want POST", method)
	}
	if !bytes.Equal(gotBody, body) {
		t.Errorf("body = %q, want %q", gotBody, body)
	}
	wantHeaders := map[string]string{
		"Content-Type":      "application/json",
		"User-Agent":        "StitchLoadingWebhook",
		"webhook-id":        "msg_abc",
		"webhook-timestamp": strconv.FormatInt(now.Unix(), 10),
	}
	for k, want := range wantHeaders {
		if got := h.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(h.Get("webhook-signature"), "v1,") {
		t.Errorf("webhook-signature = %q, want v1,...", h.Get("webhook-signature"))
	}
	wh, err := standardwebhooks.NewWebhook(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(gotBody, h); err != nil {
		t.Errorf("Standard Webhooks verification: %v", err)
	}
	other, _ := standardwebhooks.NewWebhook("whsec_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	if err := other.Verify(gotBody, h); err == nil {
		t.Error("verification with another secret passed, want failure")
	}
}

func TestDeliverStatusOutcomes(t *testing.T) {
	target := newReceiver(t, nil, nil)
	tests := []struct {
		status int
		want   delivery.Attempt
	}{
		{200, delivery.Attempt{Outcome: delivery.OutcomeSuccess, StatusCode: 200, Snippet: "answer"}},
		{201, delivery.Attempt{Outcome: delivery.OutcomeSuccess, StatusCode: 201, Snippet: "answer"}},
		{204, delivery.Attempt{Outcome: delivery.OutcomeSuccess, StatusCode: 204}},
		{299, delivery.Attempt{Outcome: delivery.OutcomeSuccess, StatusCode: 299, Snippet: "answer"}},
		{301, delivery.Attempt{Outcome: delivery.OutcomeRedirect, StatusCode: 301, Error: "redirect not followed", Snippet: "answer"}},
		{302, delivery.Attempt{Outcome: delivery.OutcomeRedirect, StatusCode: 302, Error: "redirect not followed", Snippet: "answer"}},
		{307, delivery.Attempt{Outcome: delivery.OutcomeRedirect, StatusCode: 307, Error: "redirect not followed", Snippet: "answer"}},
		{308, delivery.Attempt{Outcome: delivery.OutcomeRedirect, StatusCode: 308, Error: "redirect not followed", Snippet: "answer"}},
		{400, delivery.Attempt{Outcome: delivery.OutcomeHTTPStatus, StatusCode: 400, Snippet: "answer"}},
		{404, delivery.Attempt{Outcome: delivery.OutcomeHTTPStatus, StatusCode: 404, Snippet: "answer"}},
		{500, delivery.Attempt{Outcome: delivery.OutcomeHTTPStatus, StatusCode: 500, Snippet: "answer"}},
		{503, delivery.Attempt{Outcome: delivery.OutcomeHTTPStatus, StatusCode: 503, Snippet: "answer"}},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Location", target.URL+"/elsewhere")
				w.WriteHeader(tt.status)
				io.WriteString(w, "answer")
			}, nil)
			c := newTestClient(t, Options{AllowPrivate: true, ExtraCAFile: rc.caFile})
			got := c.Deliver(context.Background(), Request{URL: rc.URL + "/h?token=s3cr3t", WebhookID: "msg_1", Secret: testSecret, Body: []byte("{}")})
			if diff := cmp.Diff(got, tt.want, ignoreLatency, cmpopts.IgnoreFields(delivery.Attempt{}, "At")); diff != "" {
				t.Errorf("Deliver attempt (-got +want):\n%s", diff)
			}
			if rc.requests.Load() != 1 {
				t.Errorf("receiver saw %d requests, want 1", rc.requests.Load())
			}
		})
	}
	if n := target.requests.Load(); n != 0 {
		t.Errorf("redirect target saw %d requests, want 0 (redirects must not be followed)", n)
	}
	if n := target.newConns.Load(); n != 0 {
		t.Errorf("redirect target saw %d connections, want 0", n)
	}
}

func TestDeliverTimeout(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}, nil)
	defer close(release)
	c := newTestClient(t, Options{AllowPrivate: true, ExtraCAFile: rc.caFile, Timeout: 300 * time.Millisecond})

	start := time.Now()
	got := c.Deliver(context.Background(), Request{URL: rc.URL, WebhookID: "msg_1", Secret: testSecret, Body: []byte("{}")})
	elapsed := time.Since(start)

	want := delivery.Attempt{Outcome: delivery.OutcomeTimeout, Error: "no complete response in time"}
	if diff := cmp.Diff(got, want, ignoreLatency, cmpopts.IgnoreFields(delivery.Attempt{}, "At")); diff != "" {
		t.Errorf("Deliver attempt (-got +want):\n%s", diff)
	}
	if elapsed < 300*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("Deliver took %v, want about 300ms", elapsed)
	}
	if got.LatencyMs < 300 {
		t.Errorf("LatencyMs = %d, want >= 300", got.LatencyMs)
	}
}

// TestDeliverTimeoutCoversBody: headers arrive at once, the body never
// ends; the attempt still ends at the timeout.
func TestDeliverTimeoutCoversBody(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}, nil)
	c := newTestClient(t, Options{AllowPrivate: true, ExtraCAFile: rc.caFile, Timeout: 300 * time.Millisecond})

	got := c.Deliver(context.Background(), Request{URL: rc.URL, WebhookID: "msg_1", Secret: testSecret, Body: []byte("{}")})

	want := delivery.Attempt{Outcome: delivery.OutcomeTimeout, StatusCode: 200, Error: "no complete response in time", Snippet: "partial"}
	if diff := cmp.Diff(got, want, ignoreLatency, cmpopts.IgnoreFields(delivery.Attempt{}, "At")); diff != "" {
		t.Errorf("Deliver attempt (-got +want):\n%s", diff)
	}
}

// TestDeliverReadsAtMost64KiB: the server sends exactly 64 KiB and then
// stalls. A client reading past the cap would wait for the timeout.
func TestDeliverReadsAtMost64KiB(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("a"), MaxResponseBytes))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}, nil)
	c := newTestClient(t, Options{AllowPrivate: true, ExtraCAFile: rc.caFile, Timeout: 5 * time.Second})

	start := time.Now()
	got := c.Deliver(context.Background(), Request{URL: rc.URL, WebhookID: "msg_1", Secret: testSecret, Body: []byte("{}")})

	want := delivery.Attempt{Outcome: delivery.OutcomeSuccess, StatusCode: 200, Snippet: strings.Repeat("a", delivery.SnippetBytes)}
	if diff := cmp.Diff(got, want, ignoreLatency, cmpopts.IgnoreFields(delivery.Attempt{}, "At")); diff != "" {
		t.Errorf("Deliver attempt (-got +want):\n%s", diff)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Deliver took %v: it read past %d bytes", elapsed, MaxResponseBytes)
	}
}

func TestDeliverSnippet(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"short", "hello", "hello"},
		{"empty", "", ""},
		{"exactly 1 KiB", strings.Repeat("b", 1024), strings.Repeat("b", 1024)},
		{"large", strings.Repeat("c", 1024) + strings.Repeat("d", 300<<10), strings.Repeat("c", 1024)},
		{"rune cut at 1 KiB", strings.Repeat("e", 1023) + "é and more", strings.Repeat("e", 1023)},
		{"3-byte rune cut at 1 KiB", strings.Repeat("e", 1022) + "€ and more", strings.Repeat("e", 1022)},
		{"whole rune at the end", strings.Repeat("e", 1022) + "é", strings.Repeat("e", 1022) + "é"},
		{"invalid bytes", "ok\xff\xfeok", "ok?ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusInternalServerError)
				io.WriteString(w, tt.body)
			}, nil)
			c := newTestClient(t, Options{AllowPrivate: true, ExtraCAFile: rc.caFile})
			got := c.Deliver(context.Background(), Request{URL: rc.URL, WebhookID: "msg_1", Secret: testSecret, Body: []byte("{}")})
			if got.Snippet != tt.want {
				t.Errorf("Snippet = %q (%d bytes), want %q (%d bytes)", got.Snippet, len(got.Snippet), tt.want, len(tt.want))
			}
			if !utf8.ValidString(got.Snippet) || len(got.Snippet) > delivery.SnippetBytes {
				t.Errorf("Snippet is not valid UTF-8 of at most %d bytes: %d bytes", delivery.SnippetBytes, len(got.Snippet))
			}
			if got.Outcome != delivery.OutcomeHTTPStatus || got.StatusCode != 500 {
				t.Errorf("Outcome, StatusCode = %q, %d; want %q, 500", got.Outcome, got.StatusCode, delivery.OutcomeHTTPStatus)
			}
		})
	}
}

func TestDeliverReusesConnection(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, strings.Repeat("x", 5000))
	}, nil)
	c := newTestClient(t, Options{AllowPrivate: true, ExtraCAFile: rc.caFile})
	for i := range 20 {
		got := c.Deliver(context.Background(), Request{URL: rc.URL, WebhookID: "msg_" + strconv.Itoa(i), Secret: testSecret, Body: []byte("{}")})
		if got.Outcome != delivery.OutcomeSuccess {
			t.Fatalf("delivery %d: %+v", i, got)
		}
	}
	if got := rc.newConns.Load(); got != 1 {
		t.Errorf("server saw %d new connections for 20 deliveries, want 1", got)
	}
}

func TestDeliverConcurrently(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(20 * time.Millisecond)
	}, nil)
	c := newTestClient(t, Options{AllowPrivate: true, ExtraCAFile: rc.caFile})
	var wg sync.WaitGroup
	results := make([]delivery.Attempt, 10)
	for i := range results {
		wg.Go(func() {
			results[i] = c.Deliver(context.Background(), Request{URL: rc.URL, WebhookID: "msg_" + strconv.Itoa(i), Secret: testSecret, Body: []byte("{}")})
		})
	}
	wg.Wait()
	for i, a := range results {
		if a.Outcome != delivery.OutcomeSuccess {
			t.Errorf("delivery %d: %+v", i, a)
		}
	}
	if n := rc.requests.Load(); n != 10 {
		t.Errorf("receiver saw %d requests, want 10", n)
	}
}

// TestDeliverKeepsConcurrentConnections makes rounds of concurrent attempts
// to one host, as a dispatcher batch does: every connection a round opens
// must stay alive for the next one, up to MaxIdleConnsPerHost (below that,
// each round beyond the idle limit pays new TCP and TLS handshakes).
func TestDeliverKeepsConcurrentConnections(t *testing.T) {
	for _, tt := range []struct {
		name     string
		perHost  int // Options.MaxIdleConnsPerHost
		parallel int
	}{
		{"default", 0, 100},
		{"configured", 12, 12},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// Each request waits until the whole round has arrived, so the
			// round really holds `parallel` connections at once.
			var arrived sync.WaitGroup
			arrived.Add(tt.parallel)
			var round atomic.Int64
			rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
				if round.Load() == 0 {
					arrived.Done()
					arrived.Wait()
				}
				w.WriteHeader(http.StatusNoContent)
			}, nil)
			c := newTestClient(t, Options{AllowPrivate: true, ExtraCAFile: rc.caFile, MaxIdleConnsPerHost: tt.perHost})
			deliverRound := func() {
				var wg sync.WaitGroup
				for i := range tt.parallel {
					wg.Go(func() {
						if a := c.Deliver(context.Background(), Request{URL: rc.URL, WebhookID: "msg_" + strconv.Itoa(i), Secret: testSecret, Body: []byte("{}")}); a.Outcome != delivery.OutcomeSuccess {
							t.Errorf("delivery %d: %+v", i, a)
						}
					})
				}
				wg.Wait()
			}
			deliverRound()
			opened := rc.newConns.Load()
			if opened != int64(tt.parallel) {
				t.Fatalf("first round opened %d connections, want %d (one per concurrent attempt)", opened, tt.parallel)
			}
			round.Store(1)
			for range 3 {
				deliverRound()
			}
			if got := rc.newConns.Load() - opened; got != 0 {
				t.Errorf("later rounds opened %d new connections, want 0 (all %d kept alive)", got, tt.parallel)
			}
		})
	}
}

// TestDeliverIgnoresProxyEnv points HTTPS_PROXY at a dead port and delivers
// to a host name (not an IP literal or "localhost", which the standard proxy
// rules would never proxy) that resolves to loopback.
func TestDeliverIgnoresProxyEnv(t *testing.T) {
	c := newTestClient(t, Options{})
	for _, account := range []int64{1, 2} {
		if p := c.pools.acquire(account).transport.Proxy; p != nil {
			t.Fatalf("account %d: Transport.Proxy is set, want nil", account)
		}
	}

	host := loopbackHostName(t)
	cert, ca := certFor(t, host)
	rc := newReceiver(t, nil, &cert)
	dead := deadPort(t)
	t.Setenv("HTTPS_PROXY", "http://"+dead)
	t.Setenv("https_proxy", "http://"+dead)
	t.Setenv("HTTP_PROXY", "http://"+dead)
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")

	c = newTestClient(t, Options{AllowPrivate: true, ExtraCAFile: writeCA(t, ca)})
	_, port, _ := net.SplitHostPort(rc.Listener.Addr().String())
	got := c.Deliver(context.Background(), Request{URL: "https://" + net.JoinHostPort(host, port) + "/", WebhookID: "msg_1", Secret: testSecret, Body: []byte("{}")})
	if got.Outcome != delivery.OutcomeSuccess || rc.requests.Load() != 1 {
		t.Errorf("Deliver = %+v, receiver requests %d; want success straight to the receiver", got, rc.requests.Load())
	}
}

// loopbackHostName returns a name other than "localhost" that resolves
// (through /etc/hosts) to 127.0.0.1.
func loopbackHostName(t *testing.T) string {
	t.Helper()
	names := []string{"vm"}
	if h, err := os.Hostname(); err == nil {
		names = append([]string{h}, names...)
	}
	for _, name := range names {
		addrs, err := net.DefaultResolver.LookupHost(context.Background(), name)
		if err == nil && len(addrs) > 0 && addrs[0] == "127.0.0.1" && name != "localhost" {
			return name
		}
	}
	t.Skip("no host name other than localhost resolves to 127.0.0.1 here")
	return ""
}

// certFor makes a self-signed certificate for host and 127.0.0.1.
func certFor(t *testing.T, host string) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: host},
		DNSNames:              []string{host},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf
}

// deadPort returns a loopback address nothing listens on.
func deadPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestDeliverBlocksPrivateAddresses(t *testing.T) {
	rc := newReceiver(t, nil, nil)
	_, port, _ := net.SplitHostPort(rc.Listener.Addr().String())
	c := newTestClient(t, Options{ExtraCAFile: rc.caFile})

	urls := []string{
		"https://localhost:" + port + "/h",          // a name that resolves to loopback
		"https://127.0.0.1:" + port + "/h",          // a literal
		"https://[::ffff:127.0.0.1]:" + port + "/h", // a mapped literal
	}
	if name, err := os.Hostname(); err == nil {
		if addrs, err := net.LookupHost(name); err == nil && len(addrs) > 0 && addrs[0] == "127.0.0.1" {
			urls = append(urls, "https://"+name+":"+port+"/h")
		}
	}
	for _, u := range urls {
		t.Run(u, func(t *testing.T) {
			// Every account's pool has its own transport: each one dials
			// through the guard.
			for _, account := range []int64{0, 1, 116078} {
				got := c.Deliver(context.Background(), Request{ClientID: account, URL: u, WebhookID: "msg_1", Secret: testSecret, Body: []byte("{}")})
				want := delivery.Attempt{Outcome: delivery.OutcomeBlocked, Error: "address not allowed"}
				if diff := cmp.Diff(got, want, ignoreLatency, cmpopts.IgnoreFields(delivery.Attempt{}, "At")); diff != "" {
					t.Errorf("account %d: Deliver attempt (-got +want):\n%s", account, diff)
				}
			}
		})
	}
	if n, r := rc.newConns.Load(), rc.requests.Load(); n != 0 || r != 0 {
		t.Errorf("server saw %d connections and %d requests, want none", n, r)
	}
}

func TestDeliverFailures(t *testing.T) {
	rc := newReceiver(t, nil, nil)
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer plain.Close()
	closing := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		c, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			c.Close()
		}
	}))
	closing.StartTLS()
	defer closing.Close()

	tests := []struct {
		name string
		opts Options
		url  string
		want delivery.Attempt
	}{
		{"unknown authority", Options{AllowPrivate: true}, rc.URL,
			delivery.Attempt{Outcome: delivery.OutcomeTLS, Error: "certificate signed by unknown authority"}},
		{"wrong host name", Options{AllowPrivate: true, ExtraCAFile: rc.caFile}, strings.Replace(rc.URL, "127.0.0.1", "localhost", 1),
			delivery.Attempt{Outcome: delivery.OutcomeTLS, Error: "certificate does not match host"}},
		{"not TLS", Options{AllowPrivate: true}, strings.Replace(plain.URL, "http:", "https:", 1),
			delivery.Attempt{Outcome: delivery.OutcomeTLS, Error: "tls handshake failed"}},
		{"refused", Options{AllowPrivate: true}, "https://" + deadPort(t) + "/",
			delivery.Attempt{Outcome: delivery.OutcomeConnection, Error: "connection refused"}},
		{"closed without answer", Options{AllowPrivate: true, ExtraCAFile: writeCA(t, closing.Certificate())}, closing.URL,
			delivery.Attempt{Outcome: delivery.OutcomeConnection, Error: "connection closed"}},
		{"no such host", Options{AllowPrivate: true}, "https://no-such-host.invalid/",
			delivery.Attempt{Outcome: delivery.OutcomeConnection, Error: "no such host"}},
		{"http refused", Options{AllowPrivate: true}, plain.URL,
			delivery.Attempt{Outcome: delivery.OutcomeConnection, Error: "invalid url"}},
		{"unparsable", Options{AllowPrivate: true}, "https://[::1/",
			delivery.Attempt{Outcome: delivery.OutcomeConnection, Error: "invalid url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, tt.opts)
			got := c.Deliver(context.Background(), Request{URL: tt.url + "?token=s3cr3t", WebhookID: "msg_1", Secret: testSecret, Body: []byte("{}")})
			if diff := cmp.Diff(got, tt.want, ignoreLatency, cmpopts.IgnoreFields(delivery.Attempt{}, "At")); diff != "" {
				t.Errorf("Deliver attempt (-got +want):\n%s", diff)
			}
		})
	}
	if n := rc.requests.Load(); n != 0 {
		t.Errorf("TLS-failing receiver saw %d requests, want 0", n)
	}
}

func TestDeliverBadSecretSendsNothing(t *testing.T) {
	rc := newReceiver(t, nil, nil)
	c := newTestClient(t, Options{AllowPrivate: true, ExtraCAFile: rc.caFile})
	for _, secret := range []string{"", "s3cr3t", "whsec_", "whsec_not base64!"} {
		got := c.Deliver(context.Background(), Request{URL: rc.URL, WebhookID: "msg_1", Secret: secret, Body: []byte("{}")})
		if got.Outcome != delivery.OutcomeConnection || got.Error != "malformed signing secret" {
			t.Errorf("Deliver with secret %q = %+v, want connection_error, malformed signing secret", secret, got)
		}
		if strings.Contains(got.Error, secret) && secret != "" {
			t.Errorf("Error %q contains the secret", got.Error)
		}
	}
	if n := rc.requests.Load(); n != 0 {
		t.Errorf("receiver saw %d requests, want 0", n)
	}
}

func TestNewClientExtraCA(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing.pem"), notPEM} {
		if _, err := NewClient(Options{ExtraCAFile: path}); err == nil {
			t.Errorf("NewClient(ExtraCAFile %s) succeeded, want error", filepath.Base(path))
		}
	}
}

func TestSign(t *testing.T) {
	// Known answer from the Standard Webhooks / Svix documentation.
	got, err := Sign(testSecret, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}

	// Agreement with the reference library over a few inputs.
	wh, err := standardwebhooks.NewWebhook(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"", "{}", `{"a":"é\n"}`, strings.Repeat("z", 10000)} {
		ts := time.Unix(1700000000, 999)
		got, err := Sign(testSecret, "msg_x", ts, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := wh.Sign("msg_x", ts, []byte(body))
		if got != want {
			t.Errorf("Sign(body %.20q) = %q, reference library %q", body, got, want)
		}
	}

	for _, secret := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_***"} {
		if _, err := Sign(secret, "msg_x", time.Unix(1, 0), nil); err == nil {
			t.Errorf("Sign(secret %q) succeeded, want ErrSecret", secret)
		}
	}
}

// TestKeysSignAsNewMAC checks that the MACs Keys lends, new or given back
// and reset, sign exactly as Sign does, when attempts of several secrets sign
// at once, and that a malformed secret still fails.
func TestKeysSignAsNewMAC(t *testing.T) {
	const other = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	var keys Keys
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			secret := []string{testSecret, other}[i%2]
			body := []byte(strings.Repeat("b", i))
			ts := strconv.Itoa(1700000000 + i)
			got, err := sign(&keys, secret, "msg_x", ts, body)
			if err != nil {
				t.Error(err)
				return
			}
			want, _ := sign(nil, secret, "msg_x", ts, body)
			if got != want {
				t.Errorf("attempt %d: lent MAC signed %q, a new one %q", i, got, want)
			}
		})
	}
	wg.Wait()
	if _, err := sign(&keys, "whsec_***", "msg_x", "1", nil); err == nil {
		t.Error("sign with a malformed secret succeeded, want ErrSecret")
	}
}

func TestVerify(t *testing.T) {
	const id, ts, body = "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", `{"test": 2432232314}`
	const good = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	other := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another key"))
	tests := []struct {
		name, secret, id, ts, header, body string
		want                               error
	}{
		{"documented answer", testSecret, id, ts, good, body, nil},
		{"one of several, as in a rotation", testSecret, id, ts, "v1,AAAA " + good, body, nil},
		{"other secret", other, id, ts, good, body, ErrMismatch},
		{"body changed", testSecret, id, ts, good, body + " ", ErrMismatch},
		{"webhook-id changed", testSecret, "msg_other", ts, good, body, ErrMismatch},
		{"timestamp changed", testSecret, id, "1614265331", good, body, ErrMismatch},
		{"no signature", testSecret, id, ts, " ", body, ErrNoSignature},
		{"timestamp not seconds", testSecret, id, "2021-02-25", good, body, ErrTimestamp},
		{"malformed secret", "whsec_***", id, ts, good, body, ErrSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Verify(tt.secret, tt.id, tt.ts, tt.header, []byte(tt.body)); !errors.Is(got, tt.want) {
				t.Errorf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

func BenchmarkSign(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 2048)
	ts := time.Unix(1700000000, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(testSecret, "msg_p5jXN8AQM9LWM0D4loKWxJek", ts, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDeliver(b *testing.B) {
	rc := newReceiver(b, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}, nil)
	c := newTestClient(b, Options{AllowPrivate: true, ExtraCAFile: rc.caFile})
	req := Request{URL: rc.URL + "/hook", WebhookID: "msg_bench", Secret: testSecret, Body: bytes.Repeat([]byte("x"), 2048)}
	b.ReportAllocs()
	for b.Loop() {
		if a := c.Deliver(context.Background(), req); a.Outcome != delivery.OutcomeSuccess {
			b.Fatalf("Deliver: %+v", a)
		}
	}
}

// TestDeliverOneAccountCannotFailAnother reproduces a receiver that answers
// one path with 100 KB of response headers, on a host (offering HTTP/2)
// that two accounts' hooks point at. Over one shared HTTP/2 connection
// that response ended the connection with PROTOCOL_ERROR and failed every
// concurrent delivery on it, the other account's included. Now only the
// oversized response's own request fails; every other one succeeds, and no
// connection ever carries requests of two accounts.
func TestDeliverOneAccountCannotFailAnother(t *testing.T) {
	const concurrent = 8 // 1 huge + 2 normal of account 1, 5 of account 2
	var arrived sync.WaitGroup
	arrived.Add(concurrent)
	var barrier atomic.Bool
	barrier.Store(true)
	var mu sync.Mutex
	connOf := map[string]string{} // webhook-id -> client address
	var protos []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		connOf[r.Header.Get("webhook-id")] = r.RemoteAddr
		protos = append(protos, r.Proto)
		mu.Unlock()
		if barrier.Load() {
			// Hold every answer until all requests are in flight at once.
			arrived.Done()
			done := make(chan struct{})
			go func() { arrived.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
			}
		}
		if r.URL.Path == "/huge" {
			for i := range 100 {
				w.Header().Set("X-Big-"+strconv.Itoa(i), strings.Repeat("h", 1000))
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	c := newTestClient(t, Options{AllowPrivate: true, ExtraCAFile: writeCA(t, srv.Certificate())})

	type job struct {
		account int64
		path    string
		id      string
	}
	var jobs []job
	jobs = append(jobs, job{1, "/huge", "msg_a1_huge"})
	for i := range 2 {
		jobs = append(jobs, job{1, "/ok", "msg_a1_" + strconv.Itoa(i)})
	}
	for i := range 5 {
		jobs = append(jobs, job{2, "/ok", "msg_a2_" + strconv.Itoa(i)})
	}
	round := func(suffix string) []delivery.Attempt {
		got := make([]delivery.Attempt, len(jobs))
		var wg sync.WaitGroup
		for i, j := range jobs {
			wg.Go(func() {
				got[i] = c.Deliver(context.Background(), Request{ClientID: j.account, URL: srv.URL + j.path, WebhookID: j.id + suffix, Secret: testSecret, Body: []byte("{}")})
			})
		}
		wg.Wait()
		return got
	}
	check := func(name string, got []delivery.Attempt) {
		for i, j := range jobs {
			a := got[i]
			if j.path == "/huge" {
				if a.Outcome != delivery.OutcomeConnection || a.Error != "response headers too large" {
					t.Errorf("%s: huge-header response: %+v, want %s %q", name, a, delivery.OutcomeConnection, "response headers too large")
				}
				continue
			}
			if a.Outcome != delivery.OutcomeSuccess {
				t.Errorf("%s: account %d delivery %s: %+v, want success", name, j.account, j.id, a)
			}
		}
	}
	check("concurrent round", round(""))
	barrier.Store(false)
	check("second round (connections reused)", round("_again"))

	mu.Lock()
	defer mu.Unlock()
	accountOf := map[string]int64{} // client address -> account
	for _, suffix := range []string{"", "_again"} {
		for _, j := range jobs {
			addr, ok := connOf[j.id+suffix]
			if !ok {
				t.Errorf("receiver never saw %s", j.id+suffix)
				continue
			}
			if prev, ok := accountOf[addr]; ok && prev != j.account {
				t.Errorf("connection %s carried requests of accounts %d and %d", addr, prev, j.account)
			}
			accountOf[addr] = j.account
		}
	}
	for _, p := range protos {
		if p != "HTTP/1.1" {
			t.Errorf("request over %s, want HTTP/1.1 only", p)
		}
	}
}

// TestDeliverPoolsStayBounded delivers for many accounts in turn: pools of
// accounts with nothing in flight are closed once the open connections or
// the pools pass the budget, so neither grows with the number of accounts.
func TestDeliverPoolsStayBounded(t *testing.T) {
	rc := newReceiver(t, nil, nil)
	c := newTestClient(t, Options{AllowPrivate: true, ExtraCAFile: rc.caFile, MaxIdleConnsPerHost: 4})
	const accounts = 40 // budget is max(256, 2*4) = 256: lower it to see the trim
	c.pools.budget = 10
	for a := range int64(accounts) {
		if got := c.Deliver(context.Background(), Request{ClientID: a, URL: rc.URL, WebhookID: "msg_1", Secret: testSecret, Body: []byte("{}")}); got.Outcome != delivery.OutcomeSuccess {
			t.Fatalf("account %d: %+v", a, got)
		}
	}
	pools, conns := c.pools.openConns()
	if conns > 10 || pools > 10 {
		t.Errorf("after %d accounts: %d pools holding %d open connections, want at most the budget (10) of each", accounts, pools, conns)
	}
	if pools == 0 {
		t.Errorf("no pool kept: connections are no longer kept alive")
	}
}
