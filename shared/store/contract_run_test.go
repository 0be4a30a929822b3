package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/notify"
	"github.com/postloadhooks/hooks/shared/store"
	"github.com/postloadhooks/hooks/shared/store/memstore"
)

// Run items in the store's contract (run.go), on DynamoDB Local and
// memstore: loads counted once each, first N win, one claimer, the tables
// within their budget.

type runStore interface {
	AddRunLoad(ctx context.Context, k delivery.RunKey, l delivery.RunLoad) (delivery.Run, error)
	ClaimRun(ctx context.Context, k delivery.RunKey) (delivery.Run, bool, error)
}

var (
	_ runStore = (*store.Store)(nil)
	_ runStore = (*memstore.Store)(nil)
)

func TestContractRunDynamoDB(t *testing.T) {
	runRunContract(t, func(t *testing.T) (runStore, *testClock) {
		f := newFixture(t)
		return f.store, f.clock
	})
}

func TestContractRunMemstore(t *testing.T) {
	runRunContract(t, func(*testing.T) (runStore, *testClock) {
		clock := &testClock{now: time.Now().UTC().Truncate(time.Second).Add(123456789)}
		return memstore.New(clock.Now), clock
	})
}

func runRunContract(t *testing.T, open func(t *testing.T) (runStore, *testClock)) {
	for _, tt := range []struct {
		name string
		run  func(t *testing.T, s runStore, clock *testClock)
	}{
		{"LoadsCountedOnce", runCountedOnce},
		{"FirstNWinAndLateAddsNothing", runFirstNWin},
		{"ClaimCompleteOrIncomplete", runClaim},
		{"ConcurrentArrivalsAndClaims", runConcurrent},
		{"TablesWithinTheirBudget", runBudget},
		{"RunsAreSeparate", runSeparate},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, clock := open(t)
			tt.run(t, s, clock)
		})
	}
}

var runR1 = delivery.RunKey{ClientID: cClient, IntegrationName: "shopify", RunID: "r1"}

func runLoad(id string, expected int64, at time.Time, tables ...string) delivery.RunLoad {
	l := delivery.RunLoad{LoadID: id, DestinationID: 12345, Expected: expected, At: at}
	for _, name := range tables {
		l.Tables = append(l.Tables, notify.RunTable{DestinationTableName: name, Status: notify.StatusSucceeded, NumRows: 100, NumRowsRejected: 11})
	}
	return l
}

func mustAddRun(t *testing.T, s runStore, k delivery.RunKey, l delivery.RunLoad) delivery.Run {
	t.Helper()
	r, err := s.AddRunLoad(context.Background(), k, l)
	if err != nil {
		t.Fatalf("AddRunLoad(%s): %v", l.LoadID, err)
	}
	return r
}

func runCountedOnce(t *testing.T, s runStore, clock *testClock) {
	t0 := clock.Now().Truncate(time.Millisecond).UTC()
	r := mustAddRun(t, s, runR1, runLoad("a", 3, t0, "orders", "orders__items"))
	if r.Loads != 1 || !r.StartedAt.Equal(t0) || r.FirstLoad != delivery.SequenceHash("a") || r.LastLoad != r.FirstLoad || r.Claimed || r.Full() {
		t.Fatalf("first arrival: %+v", r)
	}
	t1 := t0.Add(2 * time.Second)
	if r = mustAddRun(t, s, runR1, runLoad("a", 3, t1, "orders")); r.Loads != 1 || len(r.Tables) != 2 || !r.FinishedAt.Equal(t0) {
		t.Fatalf("the same load again: %+v; want nothing added", r)
	}
	t2 := t0.Add(3 * time.Second)
	r = mustAddRun(t, s, runR1, runLoad("b", 3, t2, "customers"))
	want := delivery.Run{Key: runR1, DestinationID: 12345, Expected: 3, Loads: 2, StartedAt: t0, FinishedAt: t2,
		Tables: []notify.RunTable{
			{DestinationTableName: "orders", Status: "succeeded", NumRows: 100, NumRowsRejected: 11},
			{DestinationTableName: "orders__items", Status: "succeeded", NumRows: 100, NumRowsRejected: 11},
			{DestinationTableName: "customers", Status: "succeeded", NumRows: 100, NumRowsRejected: 11},
		},
		FirstLoad: delivery.SequenceHash("a"), LastLoad: delivery.SequenceHash("b")}
	if diff := cmp.Diff(r, want); diff != "" {
		t.Fatalf("second load: run (-got +want):\n%s", diff)
	}
}

func runFirstNWin(t *testing.T, s runStore, clock *testClock) {
	t0 := clock.Now()
	mustAddRun(t, s, runR1, runLoad("a", 2, t0, "orders"))
	r := mustAddRun(t, s, runR1, runLoad("b", 2, t0.Add(time.Second), "customers"))
	if r.Loads != 2 || !r.Full() || !r.CompleteNow() || r.LastLoad != delivery.SequenceHash("b") {
		t.Fatalf("second of two: %+v; want the run full", r)
	}
	// A third distinct load (and one announcing another count) is not counted.
	if r = mustAddRun(t, s, runR1, runLoad("c", 5, t0.Add(2*time.Second), "extra")); r.Loads != 2 || len(r.Tables) != 2 || r.LastLoad != delivery.SequenceHash("b") {
		t.Fatalf("third load of a full run: %+v", r)
	}
	c, claimed, err := s.ClaimRun(context.Background(), runR1)
	if err != nil || !claimed || !c.Complete {
		t.Fatalf("ClaimRun = %+v, %v, %v; want claimed complete", c, claimed, err)
	}
	if r = mustAddRun(t, s, runR1, runLoad("d", 2, t0.Add(3*time.Second), "late")); !r.Claimed || r.Loads != 2 || len(r.Tables) != 2 {
		t.Fatalf("late load after the claim: %+v", r)
	}
}

func runClaim(t *testing.T, s runStore, clock *testClock) {
	ctx := context.Background()
	if _, _, err := s.ClaimRun(ctx, runR1); !errors.Is(err, hook.ErrNotFound) {
		t.Fatalf("ClaimRun of no run: %v, want ErrNotFound", err)
	}
	mustAddRun(t, s, runR1, runLoad("a", 3, clock.Now(), "orders"))
	r, claimed, err := s.ClaimRun(ctx, runR1)
	if err != nil || !claimed || !r.Claimed || r.Complete || r.Loads != 1 || len(r.Tables) != 1 {
		t.Fatalf("ClaimRun of 1 of 3: %+v, %v, %v; want claimed incomplete with what arrived", r, claimed, err)
	}
	again, claimed, err := s.ClaimRun(ctx, runR1)
	if err != nil || claimed || !again.Claimed || again.Complete {
		t.Fatalf("ClaimRun again: %+v, %v, %v; want the incomplete claim, not claimed now", again, claimed, err)
	}
	if r := mustAddRun(t, s, runR1, runLoad("b", 3, clock.Now(), "customers")); r.Loads != 1 || len(r.Tables) != 1 {
		t.Fatalf("load after an incomplete claim: %+v", r)
	}
}

func runConcurrent(t *testing.T, s runStore, clock *testClock) {
	ctx := context.Background()
	const n = 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	// The loads whose call saw the run full with the load itself last.
	last := map[string]bool{}
	for i := range 2 * n { // each load twice, at once
		wg.Go(func() {
			id := fmt.Sprintf("l%d", i%n)
			r, err := s.AddRunLoad(ctx, runR1, runLoad(id, n, clock.Now(), fmt.Sprintf("t%d", i%n)))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if r.Full() && r.LastLoad == delivery.SequenceHash(id) {
				last[id] = true
			}
		})
	}
	wg.Wait()
	if len(last) != 1 {
		t.Fatalf("%d loads saw the run full with themselves last, want 1: %v", len(last), last)
	}
	claims := 0
	for range 6 {
		wg.Go(func() {
			r, ok, err := s.ClaimRun(ctx, runR1)
			if err != nil || !r.Complete || len(r.Tables) != n {
				t.Errorf("ClaimRun = %+v, %v", r, err)
			}
			if ok {
				mu.Lock()
				claims++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if claims != 1 {
		t.Fatalf("%d concurrent claims won, want 1", claims)
	}
}

func runBudget(t *testing.T, s runStore, clock *testClock) {
	huge := strings.Repeat("<", delivery.RunTablesBudget+100)
	r := mustAddRun(t, s, runR1, runLoad("a", 50, clock.Now(), huge, "orders__items"))
	if len(r.Tables) != 1 || r.Tables[0].DestinationTableName != huge {
		t.Fatalf("a first table over the budget: %d tables listed; want it alone", len(r.Tables))
	}
	r = mustAddRun(t, s, runR1, runLoad("b", 50, clock.Now(), "customers"))
	if r.Loads != 2 || len(r.Tables) != 1 || r.LastLoad != delivery.SequenceHash("b") {
		t.Fatalf("a load past the budget: %d loads, %d tables; want counted, not listed", r.Loads, len(r.Tables))
	}

	k := delivery.RunKey{ClientID: cClient, IntegrationName: "shopify", RunID: "r2"}
	name := strings.Repeat("t", 200) // 232 bytes of the budget each
	per := int(delivery.RunTablesBudget / delivery.RunTableSize(notify.RunTable{DestinationTableName: name}))
	for i := range per + 5 {
		r = mustAddRun(t, s, k, runLoad(fmt.Sprint(i), 50, clock.Now(), name))
	}
	if len(r.Tables) != per || r.Loads != int64(per+5) {
		t.Fatalf("%d loads of 232 bytes: %d listed, %d counted; want %d listed, all counted", per+5, len(r.Tables), r.Loads, per)
	}
	// A load of several tables lists those that still fit.
	k.RunID = "r3"
	for i := range per - 1 {
		mustAddRun(t, s, k, runLoad(fmt.Sprint(i), 50, clock.Now(), name))
	}
	r = mustAddRun(t, s, k, runLoad("last", 50, clock.Now(), name, name, name))
	if len(r.Tables) != per {
		t.Fatalf("a load of three tables with room for one: %d listed, want %d", len(r.Tables), per)
	}
}

func runSeparate(t *testing.T, s runStore, clock *testClock) {
	for _, k := range []delivery.RunKey{
		runR1,
		{ClientID: cClient + 1, IntegrationName: "shopify", RunID: "r1"},
		{ClientID: cClient, IntegrationName: "hubspot", RunID: "r1"},
		{ClientID: cClient, IntegrationName: "shopify#r", RunID: "1"}, // would meet runR1 if the key only joined them with '#'
		{ClientID: cClient, IntegrationName: "shopify", RunID: "r2"},
	} {
		if r := mustAddRun(t, s, k, runLoad("a", 2, clock.Now(), "orders")); r.Loads != 1 || r.Key != k || r.FirstLoad != delivery.SequenceHash("a") {
			t.Fatalf("run %+v: %+v; want its own first load", k, r)
		}
	}
	if runR1.EventID() == (delivery.RunKey{ClientID: cClient, IntegrationName: "shopify#r", RunID: "1"}).EventID() {
		t.Fatal("two runs share a summary event id")
	}
}
