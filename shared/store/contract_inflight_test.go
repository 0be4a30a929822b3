package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
	"github.com/postloadhooks/hooks/shared/store/memstore"
)

// The in-flight leases' contract (inflight.go), run against DynamoDB Local
// and memstore like the rest of the contract.

type inFlightStore interface {
	AcquireInFlight(ctx context.Context, clientID int64, leaseID string, reqs []delivery.SlotRequest, lease time.Duration) (delivery.Lease, error)
	ReleaseInFlight(ctx context.Context, l delivery.Lease) error
	InFlight(ctx context.Context, clientID int64) (map[int64]int, error)
}

var (
	_ inFlightStore = (*store.Store)(nil)
	_ inFlightStore = (*memstore.Store)(nil)
)

type ifContract struct {
	s     inFlightStore
	clock *testClock
}

func TestContractInFlightDynamoDB(t *testing.T) {
	runInFlightContract(t, func(t *testing.T) ifContract {
		f := newFixture(t)
		return ifContract{s: f.store, clock: f.clock}
	})
}

func TestContractInFlightMemstore(t *testing.T) {
	runInFlightContract(t, func(*testing.T) ifContract {
		clock := &testClock{now: time.Now().UTC().Truncate(time.Second).Add(123456789)}
		return ifContract{s: memstore.New(clock.Now), clock: clock}
	})
}

func runInFlightContract(t *testing.T, open func(t *testing.T) ifContract) {
	for _, tt := range []struct {
		name string
		run  func(t *testing.T, c ifContract)
	}{
		{"GrantsUpToTheCap", ifUpToCap},
		{"ReleaseGivesSlotsBack", ifRelease},
		{"ExpiredLeaseIsReclaimed", ifExpired},
		{"RepeatedAcquireTakesNothingMore", ifRepeated},
		{"ConcurrentAcquirersNeverPassTheCap", ifConcurrent},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open(t)) })
	}
}

const ifLease = 65 * time.Second

func (c ifContract) acquire(t *testing.T, id string, reqs ...delivery.SlotRequest) delivery.Lease {
	t.Helper()
	l, err := c.s.AcquireInFlight(context.Background(), cClient, id, reqs, ifLease)
	if err != nil {
		t.Fatalf("AcquireInFlight(%s): %v", id, err)
	}
	if l.ID != id || l.ClientID != cClient {
		t.Fatalf("AcquireInFlight(%s) = %+v: another lease", id, l)
	}
	return l
}

func (c ifContract) inFlight(t *testing.T) map[int64]int {
	t.Helper()
	got, err := c.s.InFlight(context.Background(), cClient)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func want(h int64, n, cap int) delivery.SlotRequest {
	return delivery.SlotRequest{HookID: h, Want: n, Cap: cap}
}

// ifUpToCap: each hook's grants stop at its cap (20 when unset), across
// leases and hooks of one lease; what is over is not granted.
func ifUpToCap(t *testing.T, c ifContract) {
	a := c.acquire(t, "a", want(1, 15, 0), want(2, 3, 5))
	if diff := cmp.Diff(map[int64]int{1: 15, 2: 3}, a.Granted); diff != "" {
		t.Errorf("first lease (-want +got):\n%s", diff)
	}
	if w := c.clock.Now().Add(ifLease); a.ExpiresAt.UnixMilli() != w.UnixMilli() {
		t.Errorf("expires at %v, want %v", a.ExpiresAt, w)
	}
	b := c.acquire(t, "b", want(1, 10, 0), want(2, 10, 5), want(3, 1, 0))
	if diff := cmp.Diff(map[int64]int{1: 5, 2: 2, 3: 1}, b.Granted); diff != "" {
		t.Errorf("second lease (-want +got):\n%s", diff)
	}
	full := c.acquire(t, "c", want(1, 10, 0), want(2, 1, 5))
	if len(full.Granted) != 0 || full.Holds() {
		t.Errorf("third lease = %v, want nothing granted", full.Granted)
	}
	if diff := cmp.Diff(map[int64]int{1: 20, 2: 5, 3: 1}, c.inFlight(t)); diff != "" {
		t.Errorf("in flight (-want +got):\n%s", diff)
	}
	// A higher cap set later lets more through at once.
	more := c.acquire(t, "d", want(1, 10, 25))
	if diff := cmp.Diff(map[int64]int{1: 5}, more.Granted); diff != "" {
		t.Errorf("lease under a cap of 25 (-want +got):\n%s", diff)
	}
}

// ifRelease: a released lease's slots are granted again; a second release
// changes nothing, and a lease that holds nothing releases without error.
func ifRelease(t *testing.T, c ifContract) {
	ctx := context.Background()
	a := c.acquire(t, "a", want(1, 20, 0), want(2, 4, 0))
	if err := c.s.ReleaseInFlight(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := c.s.ReleaseInFlight(ctx, a); err != nil {
		t.Fatalf("second release: %v", err)
	}
	if err := c.s.ReleaseInFlight(ctx, delivery.Lease{ID: "none", ClientID: cClient}); err != nil {
		t.Fatalf("release of an empty lease: %v", err)
	}
	if got := c.inFlight(t); len(got) != 0 {
		t.Errorf("in flight after release = %v, want nothing", got)
	}
	b := c.acquire(t, "b", want(1, 20, 0))
	if b.Granted[1] != 20 {
		t.Errorf("after release granted %v, want 20 of hook 1", b.Granted)
	}
}

// ifExpired: the slots of a lease whose holder died come back once it has
// run out (not before); the dead holder's late release does not give back
// slots twice.
func ifExpired(t *testing.T, c ifContract) {
	ctx := context.Background()
	dead := c.acquire(t, "dead", want(1, 20, 0))
	c.clock.Advance(ifLease)
	if got := c.acquire(t, "early", want(1, 1, 0)); got.Holds() {
		t.Fatalf("granted %v while the lease is live (at its expiry)", got.Granted)
	}
	c.clock.Advance(time.Millisecond)
	next := c.acquire(t, "next", want(1, 12, 0))
	if next.Granted[1] != 12 {
		t.Fatalf("after expiry granted %v, want 12", next.Granted)
	}
	if diff := cmp.Diff(map[int64]int{1: 12}, c.inFlight(t)); diff != "" {
		t.Errorf("in flight: the expired lease must be gone (-want +got):\n%s", diff)
	}
	if err := c.s.ReleaseInFlight(ctx, dead); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[int64]int{1: 12}, c.inFlight(t)); diff != "" {
		t.Errorf("in flight after the late release (-want +got):\n%s", diff)
	}
	if got := c.acquire(t, "last", want(1, 20, 0)); got.Granted[1] != 8 {
		t.Errorf("granted %v, want the 8 left", got.Granted)
	}
}

// ifRepeated: the same lease id acquired again (a retried write) returns its
// first grants and takes nothing more.
func ifRepeated(t *testing.T, c ifContract) {
	a := c.acquire(t, "a", want(1, 7, 0))
	c.acquire(t, "b", want(1, 13, 0))
	again := c.acquire(t, "a", want(1, 7, 0))
	if diff := cmp.Diff(a.Granted, again.Granted); diff != "" || !again.ExpiresAt.Equal(a.ExpiresAt) {
		t.Errorf("repeated acquire = %+v, want %+v", again, a)
	}
	if diff := cmp.Diff(map[int64]int{1: 20}, c.inFlight(t)); diff != "" {
		t.Errorf("in flight (-want +got):\n%s", diff)
	}
}

// ifConcurrent: acquirers racing for one hook together never hold more
// than its cap, and once all have released, the whole cap is granted again.
func ifConcurrent(t *testing.T, c ifContract) {
	ctx := context.Background()
	leases := make([]delivery.Lease, 12)
	errs := make([]error, len(leases))
	var wg sync.WaitGroup
	for i := range leases {
		wg.Go(func() {
			leases[i], errs[i] = c.s.AcquireInFlight(ctx, cClient, fmt.Sprintf("l%d", i), []delivery.SlotRequest{want(1, 4, 0), want(2, 1, 0)}, ifLease)
		})
	}
	wg.Wait()
	total, total2 := 0, 0
	for i, l := range leases {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		total += l.Granted[1]
		total2 += l.Granted[2]
	}
	if total > 20 || total2 > 12 {
		t.Fatalf("granted %d slots of hook 1 (cap 20) and %d of hook 2", total, total2)
	}
	if diff := cmp.Diff(total, c.inFlight(t)[1]); diff != "" {
		t.Errorf("in flight differs from the grants (-want +got):\n%s", diff)
	}
	for _, l := range leases {
		if err := c.s.ReleaseInFlight(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.acquire(t, "after", want(1, 20, 0)); got.Granted[1] != 20 {
		t.Errorf("after every release granted %v, want 20", got.Granted)
	}
}

type maxInFlightSetter interface {
	SetMaxInFlight(ctx context.Context, clientID, hookID int64, n int) (hook.Hook, error)
}

func TestContractMaxInFlightDynamoDB(t *testing.T) {
	f := newFixture(t)
	contractMaxInFlight(t, contract{s: f.store, clock: f.clock})
}

func TestContractMaxInFlightMemstore(t *testing.T) {
	clock := &testClock{now: time.Now().UTC().Truncate(time.Second).Add(123456789)}
	contractMaxInFlight(t, contract{s: memstore.New(clock.Now), clock: clock})
}

// contractMaxInFlight: operators set a hook's cap, the account's hooks are
// read with it, 0 goes back to the default (nothing stored), and another
// account's hook or a missing one is not found.
func contractMaxInFlight(t *testing.T, c contract) {
	ctx := context.Background()
	s := c.s.(maxInFlightSetter)
	c.account(t, cClient, "advanced")
	h := c.hook(t, member(cClient), "https://a.example.com/")
	if h.MaxInFlight != 0 {
		t.Fatalf("a new hook has cap %d, want 0 (the default)", h.MaxInFlight)
	}
	got, err := s.SetMaxInFlight(ctx, cClient, h.ID, 5)
	if err != nil || got.MaxInFlight != 5 || got.URL != h.URL {
		t.Fatalf("SetMaxInFlight = %+v, %v", got, err)
	}
	if hooks := c.hooks(t, cClient); len(hooks) != 1 || hooks[0].MaxInFlight != 5 {
		t.Errorf("the account's hooks = %+v, want cap 5", hooks)
	}
	if got, err := s.SetMaxInFlight(ctx, cClient, h.ID, 0); err != nil || got.MaxInFlight != 0 {
		t.Errorf("back to the default = %+v, %v", got, err)
	}
	if _, err := s.SetMaxInFlight(ctx, cClient+1, h.ID, 5); !errors.Is(err, hook.ErrNotFound) {
		t.Errorf("another account's hook: %v, want ErrNotFound", err)
	}
	if _, err := s.SetMaxInFlight(ctx, cClient, h.ID+100, 5); !errors.Is(err, hook.ErrNotFound) {
		t.Errorf("a missing hook: %v, want ErrNotFound", err)
	}
}
