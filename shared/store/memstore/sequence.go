package memstore

import (
	"context"

	"github.com/postloadhooks/hooks/shared/delivery"
)

// Sequence counters (store/sequence.go). This store keeps every binding;
// the DynamoDB store keeps at least delivery.SequenceWindow of the newest.

type sequence struct {
	latest int64
	bound  map[string]int64 // delivery.SequenceHash of the load id -> number
}

// AssignSequences is store.Store.AssignSequences.
func (s *Store) AssignSequences(_ context.Context, k delivery.SequenceKey, loadIDs []string) (map[string]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("AssignSequences"); err != nil {
		return nil, err
	}
	if s.seqs == nil {
		s.seqs = map[delivery.SequenceKey]*sequence{}
	}
	c := s.seqs[k]
	if c == nil {
		c = &sequence{bound: map[string]int64{}}
		s.seqs[k] = c
	}
	got := make(map[string]int64, len(loadIDs))
	for _, id := range loadIDs {
		h := delivery.SequenceHash(id)
		if _, ok := c.bound[h]; !ok {
			c.latest++
			c.bound[h] = c.latest
		}
		got[id] = c.bound[h]
	}
	return got, nil
}
