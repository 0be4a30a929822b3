package main

import (
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/postloadhooks/hooks/scripts/devkit/devstack"
	"github.com/postloadhooks/hooks/shared/store"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// Test notifications end to end: the real handler over the real store on
// DynamoDB Local, sending through the dispatcher's webhook client to a TLS
// receiver on loopback.

// testReceiver is a TLS server on loopback answering status and body,
// recording each request.
type testReceiver struct {
	*httptest.Server
	caFile string

	mu       sync.Mutex
	status   int
	body     string
	requests []*http.Request
	bodies   []string
}

func newTestReceiver(t *testing.T) *testReceiver {
	t.Helper()
	rc := &testReceiver{status: http.StatusNoContent}
	rc.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.requests, rc.bodies = append(rc.requests, r), append(rc.bodies, string(b))
		w.WriteHeader(rc.status)
		io.WriteString(w, rc.body)
	}))
	t.Cleanup(rc.Close)
	rc.caFile = filepath.Join(t.TempDir(), "ca.pem")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rc.Certificate().Raw})
	if err := os.WriteFile(rc.caFile, ca, 0o600); err != nil {
		t.Fatal(err)
	}
	return rc
}

func (rc *testReceiver) answer(status int, body string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.status, rc.body = status, body
}

func (rc *testReceiver) seen() ([]*http.Request, []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*http.Request(nil), rc.requests...), append([]string(nil), rc.bodies...)
}

// newTestSendAPI is the API on a fresh table whose test notifications go
// through a webhook client with opts (loopback hooks accepted at creation).
func newTestSendAPI(t *testing.T, opts webhook.Options) *integrationAPI {
	t.Helper()
	client, err := webhook.NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	db, table := devstack.DynamoDB(t)
	st := store.New(db, table, time.Now)
	srv := httptest.NewServer(testRoutes(t, discardLogger(), newDynamoStore(st), tokenAdmin(adminToken), hooksConfig{allowPrivate: true, sender: client}))
	t.Cleanup(srv.Close)
	return &integrationAPI{url: srv.URL, client: srv.Client()}
}

func TestTestSendEndToEnd(t *testing.T) {
	rc := newTestReceiver(t)
	api := newTestSendAPI(t, webhook.Options{Timeout: testSendTimeout, AllowPrivate: true, ExtraCAFile: rc.caFile})
	tok := api.newMember(t, 116078, "advanced")
	var created struct {
		ID     int64  `json:"id"`
		Secret string `json:"secret"`
	}
	api.mustDo(t, "POST", hooksPath, tok, hookBody(rc.URL+"/catch"), http.StatusOK, &created)

	var got struct {
		Attempt struct {
			At         string `json:"at"`
			Outcome    string `json:"outcome"`
			StatusCode *int   `json:"status_code"`
			LatencyMs  int64  `json:"latency_ms"`
			Snippet    string `json:"response_snippet"`
		} `json:"attempt"`
	}
	api.mustDo(t, "POST", hookPath(created.ID)+"/test", tok, "", http.StatusOK, &got)
	if got.Attempt.Outcome != "success" || got.Attempt.StatusCode == nil || *got.Attempt.StatusCode != 204 || got.Attempt.At == "" {
		t.Errorf("attempt = %+v, want success 204", got.Attempt)
	}
	reqs, bodies := rc.seen()
	if len(reqs) != 1 {
		t.Fatalf("receiver saw %d requests, want 1", len(reqs))
	}
	h := reqs[0].Header
	if bodies[0] != exampleNotification || !strings.HasPrefix(h.Get("webhook-load-id"), "test-") ||
		h.Get("User-Agent") != webhook.UserAgent || h.Get("Content-Type") != "application/json" ||
		h.Get("webhook-event") != "table_loaded" {
		t.Errorf("request headers %v body %s", h, bodies[0])
	}
	if err := libraryVerify(t, created.Secret, bodies[0], h); err != nil {
		t.Errorf("the library refuses the test notification: %v", err)
	}

	// After a rotation the test carries both signatures, each verifiable.
	var rotated struct {
		Secret string `json:"secret"`
	}
	api.mustDo(t, "POST", hookPath(created.ID)+"/secret/rotate", tok, "", http.StatusOK, &rotated)
	rc.answer(http.StatusInternalServerError, "upstream unavailable")
	api.mustDo(t, "POST", hookPath(created.ID)+"/test", tok, "", http.StatusOK, &got)
	if got.Attempt.Outcome != "http_status" || *got.Attempt.StatusCode != 500 || got.Attempt.Snippet != "upstream unavailable" {
		t.Errorf("attempt = %+v, want http_status 500 with the body", got.Attempt)
	}
	reqs, bodies = rc.seen()
	if len(reqs) != 2 {
		t.Fatalf("receiver saw %d requests, want 2: a failed test is never retried", len(reqs))
	}
	h = reqs[1].Header
	if n := len(strings.Fields(h.Get("webhook-signature"))); n != 2 {
		t.Errorf("webhook-signature %q, want two signatures", h.Get("webhook-signature"))
	}
	for _, secret := range []string{rotated.Secret, created.Secret} {
		if err := libraryVerify(t, secret, bodies[1], h); err != nil {
			t.Errorf("the library refuses a secret of the overlap: %v", err)
		}
	}
	if h.Get("webhook-load-id") == reqs[0].Header.Get("webhook-load-id") || h.Get("webhook-id") == reqs[0].Header.Get("webhook-id") {
		t.Error("two tests share a load id or webhook-id")
	}
}

// TestTestSendRefusesPrivateAddresses: without the local-runs switch the
// test notification's client refuses a hook that resolves to loopback (the
// check runs on the address dialled, as for deliveries), and the answer
// says so.
func TestTestSendRefusesPrivateAddresses(t *testing.T) {
	rc := newTestReceiver(t)
	api := newTestSendAPI(t, webhook.Options{Timeout: testSendTimeout, ExtraCAFile: rc.caFile})
	tok := api.newMember(t, 116078, "advanced")
	var created apiHook
	api.mustDo(t, "POST", hooksPath, tok, hookBody(strings.Replace(rc.URL, "127.0.0.1", "localhost", 1)+"/catch"), http.StatusOK, &created)
	body := api.mustDo(t, "POST", hookPath(created.ID)+"/test", tok, "", http.StatusOK, nil)
	if !strings.Contains(body, `"outcome":"blocked_address","status_code":null`) {
		t.Errorf("answer %s, want blocked_address", body)
	}
	if reqs, _ := rc.seen(); len(reqs) != 0 {
		t.Errorf("receiver saw %d requests, want none", len(reqs))
	}
}

func libraryVerify(t *testing.T, secret, body string, h http.Header) error {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	return wh.Verify([]byte(body), h)
}
