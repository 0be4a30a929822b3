package memstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// Run items (store/run.go).

type runItem struct {
	run    delivery.Run
	loads  map[string]bool // delivery.SequenceHash of the counted load ids
	budget int64           // what the listed tables take of delivery.RunTablesBudget
}

// AddRunLoad is store.Store.AddRunLoad.
func (s *Store) AddRunLoad(_ context.Context, k delivery.RunKey, l delivery.RunLoad) (delivery.Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("AddRunLoad"); err != nil {
		return delivery.Run{}, fmt.Errorf("add load to run: %w", err)
	}
	if s.runs == nil {
		s.runs = map[delivery.RunKey]*runItem{}
	}
	h := delivery.SequenceHash(l.LoadID)
	it := s.runs[k]
	first := it == nil
	if first {
		it = &runItem{run: delivery.Run{Key: k, DestinationID: l.DestinationID, Expected: l.Expected,
			StartedAt: l.At.UTC(), FirstLoad: h}, loads: map[string]bool{}}
	} else if it.loads[h] || it.run.Claimed || it.run.Full() {
		return cloneRun(it.run), nil
	}
	tables, size := delivery.RunTablesWithin(l.Tables, delivery.RunTablesBudget-it.budget, first)
	it.run.Tables = append(it.run.Tables, tables...)
	it.budget += size
	it.loads[h] = true
	it.run.Loads++
	it.run.FinishedAt = l.At.UTC()
	it.run.LastLoad = h
	s.runs[k] = it
	return cloneRun(it.run), nil
}

// ClaimRun is store.Store.ClaimRun.
func (s *Store) ClaimRun(_ context.Context, k delivery.RunKey) (delivery.Run, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("ClaimRun"); err != nil {
		return delivery.Run{}, false, fmt.Errorf("claim run: %w", err)
	}
	it := s.runs[k]
	switch {
	case it == nil:
		return delivery.Run{}, false, fmt.Errorf("claim run: %w", hook.ErrNotFound)
	case it.run.Claimed:
		return cloneRun(it.run), false, nil
	}
	it.run.Claimed, it.run.Complete = true, it.run.CompleteNow()
	return cloneRun(it.run), true, nil
}

func cloneRun(r delivery.Run) delivery.Run {
	r.Tables = slices.Clone(r.Tables)
	return r
}
