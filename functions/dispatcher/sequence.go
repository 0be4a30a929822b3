package main

import (
	"context"
	"sync"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// Sequence numbers of one invocation's loads (webhook-sequence, see package
// delivery). A load whose record keeps no number yet takes one from its
// table's counter; the batch's loads of one counter take theirs in one
// write. To know when all have asked, every distinct load record of the
// batch either asks (after its claim) or leaves (it needs no number: it
// sends nothing, its record keeps its number, or it failed); when the last
// one arrives, it makes one write per counter for all who asked, and every
// asker goes on with its number.

// sequenceWriter takes numbers (the store's AssignSequences).
type sequenceWriter interface {
	AssignSequences(ctx context.Context, k delivery.SequenceKey, loadIDs []string) (map[string]int64, error)
}

// sequencer gathers one invocation's asks.
type sequencer struct {
	store   sequenceWriter
	mu      sync.Mutex
	waiting int // load records that have neither asked nor left
	keys    []delivery.SequenceKey
	asks    map[delivery.SequenceKey][]string // load ids, in order of asking
	done    chan struct{}
	got     map[delivery.SequenceKey]map[string]int64
	errs    map[delivery.SequenceKey]error
}

func newSequencer(store sequenceWriter, loads int) *sequencer {
	return &sequencer{store: store, waiting: loads, asks: map[delivery.SequenceKey][]string{}, done: make(chan struct{}),
		got: map[delivery.SequenceKey]map[string]int64{}, errs: map[delivery.SequenceKey]error{}}
}

// seat is one load record's place at the sequencer: it asks or leaves once.
type seat struct {
	q       *sequencer
	arrived bool
}

func (q *sequencer) seat() *seat { return &seat{q: q} }

// leave says the record needs no number (a no-op once it has asked or left).
func (s *seat) leave(ctx context.Context) {
	if s.arrived {
		return
	}
	s.arrived = true
	s.q.arrive(ctx, nil, "")
}

// ask returns loadID's number in k.
func (s *seat) ask(ctx context.Context, k delivery.SequenceKey, loadID string) (int64, error) {
	if s.arrived {
		panic("sequencer: a record asked twice")
	}
	s.arrived = true
	s.q.arrive(ctx, &k, loadID)
	<-s.q.done
	if err := s.q.errs[k]; err != nil {
		return 0, err
	}
	return s.q.got[k][loadID], nil
}

// arrive counts one record in, and the last one makes the writes.
func (q *sequencer) arrive(ctx context.Context, k *delivery.SequenceKey, loadID string) {
	q.mu.Lock()
	if k != nil {
		ids, seen := q.asks[*k]
		if !seen {
			q.keys = append(q.keys, *k)
		}
		if !containsString(ids, loadID) {
			q.asks[*k] = append(ids, loadID)
		}
	}
	q.waiting--
	last := q.waiting == 0
	q.mu.Unlock()
	if !last {
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, key := range q.keys {
		goWork(&wg, func() { // workers.go
			got, err := q.store.AssignSequences(ctx, key, q.asks[key])
			mu.Lock()
			q.got[key], q.errs[key] = got, err
			mu.Unlock()
		})
	}
	wg.Wait()
	close(q.done)
}

func containsString(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
