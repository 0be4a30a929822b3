package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/postloadhooks/hooks/shared/hook"
)

// FreshnessRules is store.Store.FreshnessRules: an empty slice for an
// account without rules, or without an account.
func (s *Store) FreshnessRules(_ context.Context, clientID int64) ([]hook.FreshnessRule, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("FreshnessRules"); err != nil {
		return nil, err
	}
	return nonNil(slices.Clone(s.fresh[clientID])), nil
}

// PutFreshnessRules is store.Store.PutFreshnessRules: creation times kept
// for tables already ruled, the plan checked unless rules is empty.
func (s *Store) PutFreshnessRules(_ context.Context, p hook.Principal, rules []hook.FreshnessRule) ([]hook.FreshnessRule, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("PutFreshnessRules"); err != nil {
		return nil, err
	}
	ac := s.accounts[p.ClientID]
	switch {
	case ac == nil:
		return nil, fmt.Errorf("put freshness rules of %d: %w", p.ClientID, hook.ErrNotFound)
	case len(rules) > 0 && !ac.a.HasHooks():
		return nil, fmt.Errorf("put freshness rules of %d: %w", p.ClientID, hook.ErrNoAccess)
	}
	out := append([]hook.FreshnessRule{}, rules...)
	hook.KeepCreation(s.fresh[p.ClientID], out, s.utcNow().Truncate(time.Second))
	if s.fresh == nil {
		s.fresh = map[int64][]hook.FreshnessRule{}
	}
	if len(out) == 0 {
		delete(s.fresh, p.ClientID)
	} else {
		s.fresh[p.ClientID] = slices.Clone(out)
	}
	return out, nil
}
