package main

import (
	"context"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/webhook"
)

// resultClaims passes every call to the store and keeps the claim of each
// result recorded.
type resultClaims struct {
	deliveryStore
	mu     sync.Mutex
	claims []delivery.Claim
}

func (r *resultClaims) RecordResults(ctx context.Context, rs []delivery.Result) ([]delivery.Record, []error) {
	r.mu.Lock()
	for _, res := range rs {
		r.claims = append(r.claims, res.Claim)
	}
	r.mu.Unlock()
	return r.deliveryStore.RecordResults(ctx, rs)
}

// A retry's result carries the attempts its claim found, which the store
// keeps the new response snippet against (an outage's error pages differ
// little from one attempt to the next).
func TestRetryResultCarriesTheAttemptsItsClaimFound(t *testing.T) {
	e := newEnv(t)
	e.store.SetHooks(testClient, e.store.Hooks(testClient)[:1])
	rec := &resultClaims{deliveryStore: e.h.deliveries}
	e.h.deliveries = rec
	e.hooks.respond = func(webhook.Request) delivery.Attempt {
		return delivery.Attempt{At: e.clock.now(), Outcome: "http_status", StatusCode: 502, LatencyMs: 5, Snippet: "<html>Bad gateway</html>"}
	}
	e.mustRun(t, sqsEvent(loadMessage(testClient, "L1", "succeeded")))
	first := e.record(key("L1", 1)).Attempts
	e.mustRun(t, sqsEvent(e.queue.on(retryURL)[0].Body))
	if len(rec.claims) != 2 {
		t.Fatalf("%d results recorded, want 2", len(rec.claims))
	}
	if got := rec.claims[0].Prior; len(got) != 0 {
		t.Errorf("attempt 1's claim found attempts %v, want none", got)
	}
	if diff := cmp.Diff(rec.claims[1].Prior, first); diff != "" || len(first) != 1 {
		t.Errorf("attempt 2's claim: the attempts it found (-got +want):\n%s", diff)
	}
}
