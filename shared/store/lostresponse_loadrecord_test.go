package store_test

import (
	"context"
	"testing"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// Lost responses on the load record: every write whose answer is dropped
// after it was applied is recognised as the caller's own on the retry.
func TestLostResponseLoadRecord(t *testing.T) {
	f := newFixture(t)
	s, l := f.lossy(t)
	ctx := context.Background()
	load := delivery.Load{ClientID: 1, LoadID: "load", IntegrationName: "shopify", Tables: []string{"orders"}, Body: lrBody}

	var claims []delivery.Claim
	mustLose(t, l, "ClaimLoad (new record)", func() {
		var conflicts map[int64]*delivery.Record
		var err error
		claims, conflicts, err = s.ClaimLoad(ctx, load, []int64{1, 2}, "tok", lrLease)
		if err != nil || len(claims) != 2 || len(conflicts) != 0 {
			t.Fatalf("ClaimLoad = %v, %v, %v", claims, conflicts, err)
		}
	})
	mustLose(t, l, "RecordResults", func() {
		_, errs := s.RecordResults(ctx, []delivery.Result{
			{Claim: claims[0], Attempt: ok(f.clock.Now()), Status: delivery.StatusDelivered},
			{Claim: claims[1], Attempt: delivery.Attempt{At: f.clock.Now(), Outcome: delivery.OutcomeTimeout}, Status: delivery.StatusWaiting},
		})
		for _, err := range errs {
			if err != nil {
				t.Fatalf("RecordResults: %v", err)
			}
		}
	})
	mustLose(t, l, "ClaimLoad (existing record)", func() {
		got, conflicts, err := s.ClaimLoad(ctx, load, []int64{1, 2, 3}, "tok2", lrLease)
		if err != nil || len(got) != 1 || got[0].HookID != 3 || len(conflicts) != 2 {
			t.Fatalf("ClaimLoad = %v, %v, %v; want hook 3 claimed", got, conflicts, err)
		}
	})
	retry := delivery.NewClaim(delivery.Key{ClientID: 1, LoadID: "load", HookID: 2}, 2)
	mustLose(t, l, "ClaimHook", func() {
		if claimed, cur, err := s.ClaimHook(ctx, retry, delivery.BodyDigest(lrBody), lrLease); !claimed || err != nil {
			t.Fatalf("ClaimHook = %v, %+v, %v", claimed, cur, err)
		}
	})
	mustLose(t, l, "CancelHook", func() {
		if err := s.CancelHook(ctx, retry); err != nil {
			t.Fatalf("CancelHook: %v", err)
		}
	})
	mustLose(t, l, "Resend", func() {
		if r, err := s.Resend(ctx, retry.Key); err != nil || r.Message.Attempt != 1 || r.Delivery.Status != delivery.StatusAttempting {
			t.Fatalf("Resend = %+v, %v", r, err)
		}
	})
}
