package main

import (
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/postloadhooks/hooks/shared/webhook"
)

// receiver is the hook target of the dispatcher events: an HTTPS server on
// loopback with its own certificate (written as a CA file for
// HOOKS_EXTRA_CA_FILE). It answers 204 and records each request's
// webhook-id, and what is wrong with the request (headers, signature
// checked with the secret seeded for its URL).
type receiver struct {
	srv     *httptest.Server
	caFile  string
	mu      sync.Mutex
	secrets map[string]string // path -> secret
	got     []received
}

type received struct {
	webhookID string
	problems  []string
}

// startReceiver starts the server and writes its certificate to dir.
func startReceiver(dir string) (*receiver, error) {
	r := &receiver{secrets: map[string]string{}}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	r.srv.StartTLS()
	r.caFile = filepath.Join(dir, "hook-receiver-ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.srv.Certificate().Raw})
	if err := os.WriteFile(r.caFile, block, 0o600); err != nil {
		r.srv.Close()
		return nil, err
	}
	return r, nil
}

func (r *receiver) url() string { return r.srv.URL }

func (r *receiver) close() { r.srv.Close() }

// expectSecret registers the secret of the hook at url.
func (r *receiver) expectSecret(url, secret string) {
	path := strings.TrimPrefix(url, r.srv.URL)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets[path] = secret
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	rec := received{webhookID: req.Header.Get("webhook-id")}
	if err != nil {
		rec.problems = append(rec.problems, "read body: "+err.Error())
	}
	r.mu.Lock()
	secret, known := r.secrets[req.URL.Path]
	r.mu.Unlock()
	rec.problems = append(rec.problems, checkWebhook(req, body, secret, known)...)
	r.mu.Lock()
	r.got = append(r.got, rec)
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// checkWebhook lists what is wrong with one webhook request (SPEC 6).
func checkWebhook(req *http.Request, body []byte, secret string, known bool) []string {
	var p []string
	if req.Method != http.MethodPost {
		p = append(p, "method "+req.Method+", want POST")
	}
	if !known {
		return append(p, "request to "+req.URL.Path+", which no seeded hook has")
	}
	for k, want := range map[string]string{"Content-Type": "application/json", "User-Agent": "StitchLoadingWebhook"} {
		if got := req.Header.Get(k); got != want {
			p = append(p, fmt.Sprintf("header %s %q, want %q", k, got, want))
		}
	}
	id, tsRaw := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp")
	ts, err := strconv.ParseInt(tsRaw, 10, 64)
	if err != nil {
		return append(p, fmt.Sprintf("webhook-timestamp %q is not Unix seconds", tsRaw))
	}
	if d := time.Since(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		p = append(p, fmt.Sprintf("webhook-timestamp %d is %s away from now", ts, d))
	}
	switch err := webhook.Verify(secret, id, tsRaw, req.Header.Get("webhook-signature"), body); {
	case errors.Is(err, webhook.ErrSecret):
		p = append(p, "sign: "+err.Error())
	case err != nil:
		p = append(p, "webhook-signature does not verify with the hook's secret")
	}
	return p
}

// take returns and forgets what was received so far.
func (r *receiver) take() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}
