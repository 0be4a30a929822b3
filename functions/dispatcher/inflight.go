package main

import (
	"context"
	"crypto/rand"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// Receiver protection: at most a hook's cap of requests in flight to it at
// once, across every dispatcher instance (see delivery.Grants).
//
// One invocation takes the slots its whole batch needs in one lease per
// account, and gives them back in one write when the batch has ended: the
// records of the batch wait at a gate until each of them has said which
// hooks it would attempt (or that it attempts none), then the batch's
// leases are acquired (one write per account), and each record takes its
// slots from them. A pair that got no slot is deferred: queued on the retry
// queue again with the same attempt number after DeferDelay, its attempt
// not used up (deliver.go).
//
// The lease outlives any invocation that holds it (inFlightLease, longer
// than the function's timeout), so the slots of a killed invocation come
// back when it runs out, and never before its holder has stopped.

// functionTimeout is the dispatcher's timeout in template.yaml: no
// invocation, and so no attempt it makes, lasts longer.
const functionTimeout = 60 * time.Second

// inFlightLease is how long a batch's in-flight lease lasts: longer than the
// function's timeout (hence than any attempt), so it never runs out while
// its invocation runs.
const inFlightLease = functionTimeout + leaseMargin

// slotStore keeps the in-flight leases (package store).
type slotStore interface {
	AcquireInFlight(ctx context.Context, clientID int64, leaseID string, reqs []delivery.SlotRequest, lease time.Duration) (delivery.Lease, error)
	ReleaseInFlight(ctx context.Context, l delivery.Lease) error
}

// gate is one invocation's in-flight slots.
type gate struct {
	h       *handler
	mu      sync.Mutex
	pending int                          // records that have not said what they need
	asks    map[int64]map[int64]*slotAsk // client -> hook -> what the batch asks
	leases  map[int64]delivery.Lease     // client -> the batch's lease
	errs    map[int64]error              // client -> why its lease could not be taken
	left    map[int64]map[int64]int      // client -> hook -> slots not yet handed out
	ready   chan struct{}                // closed once the leases are taken
}

type slotAsk struct {
	want int
	cap  int
}

func newGate(h *handler, records int) *gate {
	g := &gate{h: h, pending: records, asks: map[int64]map[int64]*slotAsk{}, ready: make(chan struct{})}
	if records == 0 {
		close(g.ready)
	}
	return g
}

// arrival is a record's one turn at the gate: take (which asks for slots)
// or pass (it needs none); whichever comes first counts, the other does
// nothing, so a record that returns early still lets the others through.
type arrival struct {
	g    *gate
	once sync.Once
}

func (g *gate) arrival() *arrival { return &arrival{g: g} }

// pass says the record needs no slot (or has taken them already).
func (a *arrival) pass(ctx context.Context) { a.once.Do(func() { a.g.arrive(ctx, 0, nil) }) }

// take asks for a slot of each of hooks (of client cid), waits until the
// batch's leases are taken, and returns the ids of the hooks it got a slot
// for. An error means the lease could not be taken (the record fails and
// SQS delivers it again).
func (a *arrival) take(ctx context.Context, cid int64, hooks []*hook.Hook) (map[int64]bool, error) {
	took := false
	a.once.Do(func() { took = true; a.g.arrive(ctx, cid, hooks) })
	if !took {
		panic("dispatcher: a record took in-flight slots twice")
	}
	g := a.g
	<-g.ready
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.errs[cid]; err != nil {
		return nil, err
	}
	got := map[int64]bool{}
	for _, hk := range hooks {
		if g.left[cid][hk.ID] > 0 {
			g.left[cid][hk.ID]--
			got[hk.ID] = true
		}
	}
	return got, nil
}

// arrive records what one record needs; the last to arrive takes the
// batch's leases and opens the gate.
func (g *gate) arrive(ctx context.Context, cid int64, hooks []*hook.Hook) {
	g.mu.Lock()
	if len(hooks) > 0 && g.asks[cid] == nil {
		g.asks[cid] = map[int64]*slotAsk{}
	}
	for _, hk := range hooks {
		a := g.asks[cid][hk.ID]
		if a == nil {
			a = &slotAsk{cap: hk.MaxInFlight}
			g.asks[cid][hk.ID] = a
		}
		a.want++
	}
	g.pending--
	last := g.pending == 0
	g.mu.Unlock()
	if last {
		g.acquire(ctx)
		close(g.ready)
	}
}

// acquire takes one lease per client of the batch, concurrently.
func (g *gate) acquire(ctx context.Context) {
	g.leases, g.errs, g.left = map[int64]delivery.Lease{}, map[int64]error{}, map[int64]map[int64]int{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for cid, asks := range g.asks {
		reqs := make([]delivery.SlotRequest, 0, len(asks))
		for _, id := range slices.Sorted(maps.Keys(asks)) {
			reqs = append(reqs, delivery.SlotRequest{HookID: id, Want: asks[id].want, Cap: asks[id].cap})
		}
		goWork(&wg, func() { // workers.go
			l, err := g.h.deliveries.AcquireInFlight(ctx, cid, rand.Text(), reqs, inFlightLease)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				g.h.log.ErrorContext(ctx, "in-flight slots not taken", "clientId", cid, "error", err.Error())
				g.errs[cid] = err
				return
			}
			g.leases[cid] = l
			g.left[cid] = maps.Clone(l.Granted)
		})
	}
	wg.Wait()
}

// release gives back every lease of the batch, once its records are done.
// A lease that could not be given back runs out by itself.
func (g *gate) release(ctx context.Context) {
	<-g.ready
	var wg sync.WaitGroup
	for cid, l := range g.leases {
		if !l.Holds() {
			continue
		}
		goWork(&wg, func() { // workers.go
			if err := g.h.deliveries.ReleaseInFlight(ctx, l); err != nil {
				g.h.log.ErrorContext(ctx, "in-flight slots not given back", "clientId", cid, "leaseExpiresAt", l.ExpiresAt, "error", err.Error())
			}
		})
	}
	wg.Wait()
}
