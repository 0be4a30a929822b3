package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/store"
	"github.com/postloadhooks/hooks/shared/store/memstore"
)

// Deferred hooks of a load (ClaimLoadDeferring), run against DynamoDB Local
// and memstore like the rest of the load record's contract.

type deferringStore interface {
	loadRecordStore
	ClaimLoadDeferring(ctx context.Context, l delivery.Load, hookIDs, deferIDs []int64, token string, lease time.Duration) ([]delivery.Claim, []int64, map[int64]*delivery.Record, error)
}

var (
	_ deferringStore = (*store.Store)(nil)
	_ deferringStore = (*memstore.Store)(nil)
)

func TestContractDeferDynamoDB(t *testing.T) {
	f := newFixture(t)
	lrDefer(t, lrContract{s: f.store, clock: f.clock})
}

func TestContractDeferMemstore(t *testing.T) {
	clock := &testClock{now: time.Now().UTC().Truncate(time.Second).Add(123456789)}
	lrDefer(t, lrContract{s: memstore.New(clock.Now), clock: clock})
}

// lrDefer: a deferred hook waits for attempt 1 (no attempt used, nothing in
// flight); its deferred message claims attempt 1 once, and so would the load
// message delivered again, but never both. Attempt 1 of a dead invocation is
// deferred as well, and the deferred message takes it over.
func lrDefer(t *testing.T, c lrContract) {
	ctx := context.Background()
	s := c.s.(deferringStore)
	digest := delivery.BodyDigest(lrBody)

	// A new record: hook 1 claimed, hook 2 deferred, in one write.
	claims, deferred, conflicts, err := s.ClaimLoadDeferring(ctx, lrLoad("D1"), []int64{1}, []int64{2}, "tok-D1", lrLease)
	if err != nil || len(claims) != 1 || claims[0].HookID != 1 || !slices.Equal(deferred, []int64{2}) || len(conflicts) != 0 {
		t.Fatalf("ClaimLoadDeferring(D1) = %v, %v, %v, %v", claims, deferred, conflicts, err)
	}
	d, err := c.s.GetDelivery(ctx, lrKey("D1", 2))
	if err != nil || d.Status != delivery.StatusWaiting || len(d.Attempts) != 0 {
		t.Fatalf("deferred entry = %+v, %v; want waiting with no attempt", d, err)
	}
	// Deferring again (the record delivered twice) changes nothing.
	_, deferred, conflicts, err = s.ClaimLoadDeferring(ctx, lrLoad("D1"), nil, []int64{2}, "tok-again", lrLease)
	if err != nil || !slices.Equal(deferred, []int64{2}) || len(conflicts) != 0 {
		t.Fatalf("deferring again = %v, %v, %v", deferred, conflicts, err)
	}
	// The deferred message claims attempt 1; the load delivered again then
	// finds it taken.
	cl := delivery.NewClaim(lrKey("D1", 2), 1)
	if claimed, cur, err := c.s.ClaimHook(ctx, cl, digest, lrLease); !claimed || err != nil {
		t.Fatalf("ClaimHook of the deferred attempt = %v, %+v, %v", claimed, cur, err)
	}
	if got, conflicts, err := c.s.ClaimLoad(ctx, lrLoad("D1"), []int64{2}, "tok-late", lrLease); err != nil || len(got) != 0 || conflicts[2] == nil {
		t.Fatalf("the load again after the deferred claim = %v, %v, %v; want a conflict", got, conflicts, err)
	}
	recs := c.record(t, delivery.Result{Claim: cl, Attempt: ok(c.clock.Now()), Status: delivery.StatusDelivered})
	if recs[0].Attempt != 1 || len(recs[0].Attempts) != 1 {
		t.Errorf("after the deferred attempt: %+v; want attempt 1, one attempt", recs[0])
	}

	// An existing record: hook 1 attempting is a conflict even when
	// deferred; hook 3 is deferred; the load delivered again claims the
	// deferred hook, and the deferred message then finds it taken.
	c.claimLoad(t, "D2", 1)
	_, deferred, conflicts, err = s.ClaimLoadDeferring(ctx, lrLoad("D2"), nil, []int64{1, 3}, "tok-D2", lrLease)
	if err != nil || !slices.Equal(deferred, []int64{3}) || conflicts[1] == nil || conflicts[1].Status != delivery.StatusAttempting {
		t.Fatalf("ClaimLoadDeferring(D2) = %v, %v, %v", deferred, conflicts, err)
	}
	if got, conflicts, err := c.s.ClaimLoad(ctx, lrLoad("D2"), []int64{3}, "tok-D2b", lrLease); err != nil || len(got) != 1 || len(conflicts) != 0 {
		t.Fatalf("the load again claims the deferred hook: %v, %v, %v", got, conflicts, err)
	}
	if claimed, cur, err := c.s.ClaimHook(ctx, delivery.NewClaim(lrKey("D2", 3), 1), digest, lrLease); claimed || err != nil || cur == nil {
		t.Fatalf("the deferred message after the load took it = %v, %+v, %v; want not claimed", claimed, cur, err)
	}

	// Attempt 1 of a dead invocation (its lease has run out), and the load
	// delivered again gets no in-flight slot for it: the hook is deferred,
	// not a conflict, and left as it is; its deferred message takes the
	// attempt over, once.
	old := c.claimLoad(t, "D3", 1, 2)
	c.clock.Advance(lrLease + time.Second)
	_, deferred, conflicts, err = s.ClaimLoadDeferring(ctx, lrLoad("D3"), []int64{2}, []int64{1}, "tok-D3", lrLease)
	if err != nil || !slices.Equal(deferred, []int64{1}) || len(conflicts) != 0 {
		t.Fatalf("ClaimLoadDeferring(D3) after the lease ran out = %v, %v, %v; want hook 1 deferred, no conflict", deferred, conflicts, err)
	}
	if d, err := c.s.GetDelivery(ctx, lrKey("D3", 1)); err != nil || d.Status != delivery.StatusAttempting || len(d.Attempts) != 0 {
		t.Fatalf("deferred entry of the dead attempt = %+v, %v; want still attempting, no attempt recorded", d, err)
	}
	takeover := delivery.NewClaim(lrKey("D3", 1), 1)
	if claimed, cur, err := c.s.ClaimHook(ctx, takeover, digest, lrLease); !claimed || err != nil {
		t.Fatalf("the deferred message takes the dead attempt over = %v, %+v, %v", claimed, cur, err)
	}
	if claimed, _, err := c.s.ClaimHook(ctx, delivery.NewClaim(lrKey("D3", 1), 1), digest, lrLease); claimed || err != nil {
		t.Fatalf("a second deferred message = %v, %v; want not claimed (the lease is live)", claimed, err)
	}
	_, errs := c.s.RecordResults(ctx, []delivery.Result{{Claim: old[0], Attempt: ok(c.clock.Now()), Status: delivery.StatusDelivered}})
	if !errors.Is(errs[0], delivery.ErrClaimLost) {
		t.Errorf("result of the dead invocation: %v, want ErrClaimLost", errs[0])
	}
	if recs := c.record(t, delivery.Result{Claim: takeover, Attempt: ok(c.clock.Now()), Status: delivery.StatusDelivered}); recs[0].Status != delivery.StatusDelivered || recs[0].Attempt != 1 {
		t.Errorf("after the takeover: %+v; want delivered at attempt 1", recs[0])
	}
}
