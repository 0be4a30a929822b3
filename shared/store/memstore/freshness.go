package memstore

import (
	"context"
	"fmt"
	"slices"
	"sort"
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
	ac.a.FreshnessTables = nil
	if len(out) == 0 {
		delete(s.fresh, p.ClientID)
	} else {
		s.fresh[p.ClientID] = slices.Clone(out)
		for _, r := range out {
			ac.a.FreshnessTables = append(ac.a.FreshnessTables, r.Key().String())
		}
	}
	return out, nil
}

type freshKey struct {
	clientID int64
	key      hook.FreshnessKey
}

func (s *Store) state(clientID int64, k hook.FreshnessKey) *hook.FreshnessState {
	if s.states == nil {
		s.states = map[freshKey]*hook.FreshnessState{}
	}
	st := s.states[freshKey{clientID, k}]
	if st == nil {
		st = &hook.FreshnessState{}
		s.states[freshKey{clientID, k}] = st
	}
	return st
}

// RecordTableLoad is store.Store.RecordTableLoad: the last load only moves
// forward.
func (s *Store) RecordTableLoad(_ context.Context, clientID int64, k hook.FreshnessKey, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("RecordTableLoad"); err != nil {
		return err
	}
	if st := s.state(clientID, k); at.After(st.LastLoadedAt) {
		st.LastLoadedAt = at.UTC()
	}
	return nil
}

// FreshnessAccounts is store.Store.FreshnessAccounts: every account with
// rules (in client id order; the store's order is by registry partition).
func (s *Store) FreshnessAccounts(_ context.Context) ([]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("FreshnessAccounts"); err != nil {
		return nil, err
	}
	var ids []int64
	for id, rules := range s.fresh {
		if len(rules) > 0 {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}

// FreshnessCheck is store.Store.FreshnessCheck.
func (s *Store) FreshnessCheck(_ context.Context, clientID int64) ([]hook.FreshnessRule, map[hook.FreshnessKey]hook.FreshnessState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("FreshnessCheck"); err != nil {
		return nil, nil, err
	}
	rules := nonNil(slices.Clone(s.fresh[clientID]))
	states := map[hook.FreshnessKey]hook.FreshnessState{}
	for _, r := range rules {
		if st := s.states[freshKey{clientID, r.Key()}]; st != nil {
			states[r.Key()] = *st
		}
	}
	return rules, states, nil
}

// OpenFreshnessEpisode is store.Store.OpenFreshnessEpisode.
func (s *Store) OpenFreshnessEpisode(_ context.Context, clientID int64, k hook.FreshnessKey, read hook.FreshnessState, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("OpenFreshnessEpisode"); err != nil {
		return false, err
	}
	st := s.state(clientID, k)
	if st.Episode != read.Episode || st.Open || !st.LastLoadedAt.Equal(read.LastLoadedAt) {
		return false, nil
	}
	st.Episode, st.Open, st.OverdueSent, st.OpenedLoad = read.Episode+1, true, false, read.LastLoadedAt
	return true, nil
}

// FinishFreshnessNotice is store.Store.FinishFreshnessNotice.
func (s *Store) FinishFreshnessNotice(_ context.Context, clientID int64, k hook.FreshnessKey, episode int64, back bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("FinishFreshnessNotice"); err != nil {
		return err
	}
	st := s.state(clientID, k)
	switch {
	case st.Episode != episode || !st.Open:
	case !back:
		st.OverdueSent = true
	case st.OverdueSent:
		st.Open = false
	}
	return nil
}
