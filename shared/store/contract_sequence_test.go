package store_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/store"
	"github.com/postloadhooks/hooks/shared/store/memstore"
)

// Sequence counters in the store's contract (see sequence.go), on DynamoDB
// Local and memstore, and the sequence's way into the load record.

type sequenceStore interface {
	loadRecordStore
	AssignSequences(ctx context.Context, k delivery.SequenceKey, loadIDs []string) (map[string]int64, error)
}

var (
	_ sequenceStore = (*store.Store)(nil)
	_ sequenceStore = (*memstore.Store)(nil)
)

func TestContractSequenceDynamoDB(t *testing.T) {
	runSequenceContract(t, func(t *testing.T) (sequenceStore, *testClock) {
		f := newFixture(t)
		return f.store, f.clock
	})
}

func TestContractSequenceMemstore(t *testing.T) {
	runSequenceContract(t, func(*testing.T) (sequenceStore, *testClock) {
		clock := &testClock{now: time.Now().UTC().Truncate(time.Second).Add(123456789)}
		return memstore.New(clock.Now), clock
	})
}

func runSequenceContract(t *testing.T, open func(t *testing.T) (sequenceStore, *testClock)) {
	for _, tt := range []struct {
		name string
		run  func(t *testing.T, s sequenceStore, clock *testClock)
	}{
		{"OnePerLoadPerKey", seqOnePerLoad},
		{"ConcurrentLoadsOfOneTable", seqConcurrent},
		{"SeveralLoadsInOneAsk", seqSeveral},
		{"KeptInTheLoadRecord", seqInRecord},
		{"CrashBeforeRecordedWithinWindow", seqCrashWithinWindow},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, clock := open(t)
			tt.run(t, s, clock)
		})
	}
}

var seqOrders = delivery.SequenceKey{ClientID: cClient, IntegrationName: "shopify", Table: "orders"}

func mustAssign(t *testing.T, s sequenceStore, k delivery.SequenceKey, loadID string) int64 {
	t.Helper()
	got, err := s.AssignSequences(context.Background(), k, []string{loadID})
	if err != nil || len(got) != 1 {
		t.Fatalf("AssignSequences(%+v, %s) = %v, %v", k, loadID, got, err)
	}
	return got[loadID]
}

func seqOnePerLoad(t *testing.T, s sequenceStore, _ *testClock) {
	other := []delivery.SequenceKey{
		{ClientID: cClient, IntegrationName: "shopify", Table: "customers"},
		{ClientID: cClient, IntegrationName: "hubspot", Table: "orders"},
		{ClientID: cClient + 1, IntegrationName: "shopify", Table: "orders"},
		// names that would meet if the key only joined them with '#'
		{ClientID: cClient, IntegrationName: "shopify#orders", Table: ""},
	}
	if got := mustAssign(t, s, seqOrders, "L1"); got != 1 {
		t.Errorf("first load = %d, want 1", got)
	}
	if got := mustAssign(t, s, seqOrders, "L2"); got != 2 {
		t.Errorf("second load = %d, want 2", got)
	}
	if got := mustAssign(t, s, seqOrders, "L1"); got != 1 {
		t.Errorf("L1 again = %d, want its 1 (a duplicate uses no number)", got)
	}
	for _, k := range other {
		if got := mustAssign(t, s, k, "L1"); got != 1 {
			t.Errorf("%+v: %d, want 1 (its own counter)", k, got)
		}
	}
	if got := mustAssign(t, s, seqOrders, "L3"); got != 3 {
		t.Errorf("third load = %d, want 3", got)
	}
}

// delivery.SequenceWindow loads of one table at once, each asked for twice at
// once (a duplicate message): every load gets one number, the numbers are
// exactly 1..SequenceWindow. No more loads than the window: a counter may
// forget a binding once SequenceWindow newer numbers are taken, so with 40
// loads a duplicate that the scheduler held back that long got a second
// number, as the window allows (seen on a 2-core machine under -race: "load-39
// got 1 and 40").
func seqConcurrent(t *testing.T, s sequenceStore, _ *testClock) {
	const loads = delivery.SequenceWindow
	got := make([][2]int64, loads)
	errs := make(chan error, 2*loads)
	var wg sync.WaitGroup
	for i := range loads {
		for j := range 2 {
			wg.Go(func() {
				id := fmt.Sprintf("load-%d", i)
				n, err := s.AssignSequences(context.Background(), seqOrders, []string{id})
				if err != nil {
					errs <- err
				}
				got[i][j] = n[id]
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var all []int64
	for i, g := range got {
		if g[0] != g[1] {
			t.Errorf("load-%d got %d and %d", i, g[0], g[1])
		}
		all = append(all, g[0])
	}
	slices.Sort(all)
	for i, n := range all {
		if n != int64(i+1) {
			t.Fatalf("numbers = %v, want 1..%d each once", all, loads)
		}
	}
}

// The number reaches the record with the first result, and every later
// claim (a retry, a hook added by a re-sent load) reads it back.
func seqInRecord(t *testing.T, s sequenceStore, _ *testClock) {
	ctx := context.Background()
	claims, _, err := s.ClaimLoad(ctx, lrLoad("L1"), []int64{1, 2}, "tok", lrLease)
	if err != nil || len(claims) != 2 || claims[0].Sequence != 0 {
		t.Fatalf("ClaimLoad = %+v, %v; want two claims without a number", claims, err)
	}
	n := mustAssign(t, s, seqOrders, "L1")
	var rs []delivery.Result
	for _, c := range claims {
		c.Sequence = n
		rs = append(rs, delivery.Result{Claim: c, Attempt: delivery.Attempt{At: time.Now(), Outcome: delivery.OutcomeHTTPStatus, StatusCode: 500}, Status: delivery.StatusWaiting})
	}
	recs, errs := s.RecordResults(ctx, rs)
	for i := range rs {
		if errs[i] != nil || recs[i].Sequence != n {
			t.Fatalf("RecordResults[%d] = %+v, %v; want sequence %d", i, recs[i], errs[i], n)
		}
	}
	claimed, cur, err := s.ClaimHook(ctx, delivery.NewClaim(lrKey("L1", 1), 2), delivery.BodyDigest(lrBody), lrLease)
	if !claimed || err != nil || cur == nil || cur.Sequence != n {
		t.Fatalf("ClaimHook of the retry = %v, %+v, %v; want claimed with sequence %d", claimed, cur, err, n)
	}
	more, _, err := s.ClaimLoad(ctx, lrLoad("L1"), []int64{1, 2, 3}, "tok2", lrLease)
	if err != nil || len(more) != 1 || more[0].HookID != 3 || more[0].Sequence != n {
		t.Fatalf("ClaimLoad of a re-sent load with a new hook = %+v, %v; want hook 3 with sequence %d", more, err, n)
	}
}

// A load that took its number and died before recording it gets the same
// number back when it asks again after fewer than delivery.SequenceWindow
// newer numbers, so nothing is skipped.
func seqCrashWithinWindow(t *testing.T, s sequenceStore, _ *testClock) {
	first := mustAssign(t, s, seqOrders, "crashed")
	for i := range delivery.SequenceWindow - 1 {
		mustAssign(t, s, seqOrders, fmt.Sprintf("later-%d", i))
	}
	if got := mustAssign(t, s, seqOrders, "crashed"); got != first {
		t.Errorf("the crashed load asks again: %d, want its %d", got, first)
	}
	if got := mustAssign(t, s, seqOrders, "next"); got != int64(delivery.SequenceWindow+1) {
		t.Errorf("next load = %d, want %d", got, delivery.SequenceWindow+1)
	}
}

// Several loads in one ask take consecutive numbers in the order given; a
// load bound before keeps its number and uses none.
func seqSeveral(t *testing.T, s sequenceStore, _ *testClock) {
	mustAssign(t, s, seqOrders, "L2")
	got, err := s.AssignSequences(context.Background(), seqOrders, []string{"L1", "L2", "L3"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{"L2": 1, "L1": 2, "L3": 3}; !maps.Equal(got, want) {
		t.Errorf("AssignSequences = %v, want %v", got, want)
	}
	if n := mustAssign(t, s, seqOrders, "L4"); n != 4 {
		t.Errorf("next = %d, want 4", n)
	}
}
