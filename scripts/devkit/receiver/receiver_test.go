package receiver

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/shared/webhook"
)

// start serves a Server over TLS on loopback and writes its CA file.
func start(t *testing.T) (base, caFile string, caPEM []byte) {
	t.Helper()
	cfg, ca, err := NewTLS()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: New(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(tls.NewListener(ln, cfg))
	t.Cleanup(func() { srv.Close() })
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca, 0o644); err != nil {
		t.Fatal(err)
	}
	return "https://" + ln.Addr().String(), caFile, ca
}

// listen subscribes a session and returns its hook URL and its deliveries.
func listen(t *testing.T, base string, ca []byte, session, secret string, a Answer) (string, <-chan Delivery) {
	t.Helper()
	client, err := ClientFor(ca)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan Delivery, 10)
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- Listen(ctx, client, base, session, secret, a, func() { close(ready) }, func(d Delivery) { got <- d })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Listen: %v", err)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		done <- nil // for the clean-up
		t.Fatalf("Listen: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Listen never became ready")
	}
	return base + HooksPrefix + session, got
}

func next(t *testing.T, ch <-chan Delivery) Delivery {
	t.Helper()
	select {
	case d := <-ch:
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("no delivery reported")
		return Delivery{}
	}
}

var secret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("receiver test key"))

// The dispatcher's own client, trusting the receiver's CA as scripts/dev
// configures it (HOOKS_EXTRA_CA_FILE), reaches the receiver on 127.0.0.1,
// and a correctly signed delivery is reported verified.
func TestGoodSignatureVerifies(t *testing.T) {
	base, caFile, ca := start(t)
	url, got := listen(t, base, ca, "good", secret, Answer{Status: 202})
	c, err := webhook.NewClient(webhook.Options{AllowPrivate: true, ExtraCAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	a := c.Deliver(context.Background(), webhook.Request{URL: url, WebhookID: "msg_1", Secret: secret, Body: []byte(`{"load_id":"x"}`)})
	if a.StatusCode != 202 {
		t.Fatalf("delivery answered %d (%s, %s), want the 202 the listener asked for", a.StatusCode, a.Outcome, a.Error)
	}
	d := next(t, got)
	if !d.Verified || d.Problem != "" {
		t.Errorf("delivery verified=%t problem=%q, want verified", d.Verified, d.Problem)
	}
	if d.Body != `{"load_id":"x"}` || d.Header.Get("webhook-id") != "msg_1" || d.Answer.Status != 202 {
		t.Errorf("delivery = %+v, want the body, the webhook-id and the answer 202", d)
	}
}

func TestBadSignatureIsReported(t *testing.T) {
	base, _, ca := start(t)
	url, got := listen(t, base, ca, "bad", secret, Answer{})
	client, err := ClientFor(ca)
	if err != nil {
		t.Fatal(err)
	}
	other := "whsec_" + base64.StdEncoding.EncodeToString([]byte("not the hook's key"))
	ts := time.Now()
	body := []byte(`{"load_id":"x"}`)
	signed, err := webhook.Sign(other, "msg_2", ts, body)
	if err != nil {
		t.Fatal(err)
	}
	post := func(sig string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("webhook-id", "msg_2")
		req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
		if sig != "" {
			req.Header.Set("webhook-signature", sig)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, tt := range []struct{ sig, problem string }{
		{signed, webhook.ErrMismatch.Error()},
		{"", webhook.ErrNoSignature.Error()},
	} {
		if resp := post(tt.sig); resp.StatusCode != 200 {
			t.Errorf("answered %d, want 200", resp.StatusCode)
		}
		d := next(t, got)
		if d.Verified || d.Problem != tt.problem {
			t.Errorf("signature %q: verified=%t problem=%q, want not verified: %q", tt.sig, d.Verified, d.Problem, tt.problem)
		}
	}
}

func TestDelayAndUnknownPaths(t *testing.T) {
	base, _, ca := start(t)
	url, got := listen(t, base, ca, "slow", secret, Answer{Status: 503, Delay: 300 * time.Millisecond})
	client, err := ClientFor(ca)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	resp, err := client.Post(url, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || time.Since(t0) < 300*time.Millisecond {
		t.Errorf("answered %d after %v, want 503 after at least 300ms", resp.StatusCode, time.Since(t0))
	}
	if d := next(t, got); d.Answer.Status != 503 || d.Answer.Delay != 300*time.Millisecond {
		t.Errorf("reported answer %+v, want 503 after 300ms", d.Answer)
	}
	resp, err = client.Post(base+HooksPrefix+"nobody", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("a session nobody listens to answered %d, want 404", resp.StatusCode)
	}
	for _, q := range []string{"status=99", "delay=soon", "delay=-1s"} {
		resp, err := client.Get(base + "/_listen/x?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("listen with %s answered %d, want 400", q, resp.StatusCode)
		}
	}
}
