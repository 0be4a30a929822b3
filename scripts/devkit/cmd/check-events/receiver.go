package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	kit "github.com/postloadhooks/hooks/scripts/devkit/receiver"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// receiver is the hook target of the dispatcher events: the kit's HTTPS
// receiver on loopback with its own CA (written as a CA file for
// HOOKS_EXTRA_CA_FILE). It answers 204 and records each request's
// webhook-id, and what is wrong with the request (headers, signature
// checked with the secret seeded for its URL).
type receiver struct {
	srv    *kit.Server
	l      *kit.Listener
	caFile string
	mu     sync.Mutex
	got    []received
}

type received struct {
	webhookID string
	problems  []string
}

// startReceiver starts the server and writes its CA certificate to dir.
func startReceiver(dir string) (*receiver, error) {
	cfg, ca, err := kit.NewTLS()
	if err != nil {
		return nil, err
	}
	r := &receiver{srv: kit.New(), caFile: filepath.Join(dir, "hook-receiver-ca.pem")}
	if err := os.WriteFile(r.caFile, ca, 0o600); err != nil {
		return nil, err
	}
	r.srv.Handle("", r.route("", false)) // a path no seeded hook has
	if r.l, err = kit.Serve("127.0.0.1:0", r.srv, cfg); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *receiver) url() string { return r.l.URL() }

func (r *receiver) close() { r.l.Down() }

// expectSecret registers the secret of the hook at url.
func (r *receiver) expectSecret(url, secret string) {
	r.srv.Handle(strings.TrimPrefix(url, r.l.URL()), r.route(secret, true))
}

// route answers 204 and records what is wrong with each request.
func (r *receiver) route(secret string, known bool) kit.Route {
	return kit.Route{Secret: secret, Answer: kit.Answer{Status: http.StatusNoContent}, OnDelivery: func(d kit.Delivery) {
		rec := received{webhookID: d.Header.Get("webhook-id"), problems: checkWebhook(d, known)}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, rec)
	}}
}

// checkWebhook lists what is wrong with one webhook request (the receiver
// took only POSTs and verified the signature with the secret of its path).
func checkWebhook(d kit.Delivery, known bool) []string {
	var p []string
	if !known {
		return append(p, "request to "+d.Path+", which no seeded hook has")
	}
	for k, want := range map[string]string{"Content-Type": "application/json", "User-Agent": "StitchLoadingWebhook"} {
		if got := d.Header.Get(k); got != want {
			p = append(p, fmt.Sprintf("header %s %q, want %q", k, got, want))
		}
	}
	tsRaw := d.Header.Get("webhook-timestamp")
	ts, err := strconv.ParseInt(tsRaw, 10, 64)
	if err != nil {
		return append(p, fmt.Sprintf("webhook-timestamp %q is not Unix seconds", tsRaw))
	}
	if age := time.Since(time.Unix(ts, 0)); age > 5*time.Minute || age < -5*time.Minute {
		p = append(p, fmt.Sprintf("webhook-timestamp %d is %s away from now", ts, age))
	}
	switch {
	case d.Verified:
	case d.Problem == webhook.ErrSecret.Error():
		p = append(p, "sign: "+d.Problem)
	default:
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
