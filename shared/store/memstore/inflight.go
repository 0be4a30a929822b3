package memstore

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
)

// In-flight leases (store/inflight.go): the leases of each account, granted
// with delivery.Grants as the store's conditions do.

// AcquireInFlight is store.Store.AcquireInFlight.
func (s *Store) AcquireInFlight(_ context.Context, clientID int64, leaseID string, reqs []delivery.SlotRequest, lease time.Duration) (delivery.Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("AcquireInFlight"); err != nil {
		return delivery.Lease{}, err
	}
	now := s.utcNow()
	if s.inflight == nil {
		s.inflight = map[int64]map[string]delivery.LeaseSlots{}
	}
	held := s.inflight[clientID]
	if held == nil {
		held = map[string]delivery.LeaseSlots{}
		s.inflight[clientID] = held
	}
	out := delivery.Lease{ID: leaseID, ClientID: clientID, ExpiresAt: time.UnixMilli(now.Add(lease).UnixMilli()).UTC()}
	if mine, ok := held[leaseID]; ok {
		out.Granted, out.ExpiresAt = maps.Clone(mine.Granted), mine.ExpiresAt
		return out, nil
	}
	// As the store: the whole request first, against every lease held
	// (expired or not); only when a cap would be passed are the expired
	// leases removed and a smaller grant decided.
	grants, _ := delivery.Grants(reqs, held, time.Time{})
	if !fits(reqs, grants) {
		var expired []string
		grants, expired = delivery.Grants(reqs, held, now)
		for _, id := range expired {
			delete(held, id)
		}
	}
	out.Granted = grants
	if len(grants) > 0 {
		held[leaseID] = delivery.LeaseSlots{Granted: maps.Clone(grants), ExpiresAt: out.ExpiresAt}
	}
	return out, nil
}

// ReleaseInFlight is store.Store.ReleaseInFlight.
func (s *Store) ReleaseInFlight(_ context.Context, l delivery.Lease) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !l.Holds() {
		return nil
	}
	if err := s.enter("ReleaseInFlight"); err != nil {
		return err
	}
	delete(s.inflight[l.ClientID], l.ID)
	return nil
}

// InFlight is store.Store.InFlight.
func (s *Store) InFlight(_ context.Context, clientID int64) (map[int64]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("InFlight"); err != nil {
		return nil, err
	}
	out := map[int64]int{}
	for _, l := range s.inflight[clientID] {
		for h, n := range l.Granted {
			out[h] += n
		}
	}
	return out, nil
}

// fits reports whether grants give every request all it wants, up to its
// hook's cap.
func fits(reqs []delivery.SlotRequest, grants map[int64]int) bool {
	for _, r := range reqs {
		if min(r.Want, delivery.CapOf(r.Cap)) > 0 && grants[r.HookID] != min(r.Want, delivery.CapOf(r.Cap)) {
			return false
		}
	}
	return true
}

// SetMaxInFlight is store.Store.SetMaxInFlight.
func (s *Store) SetMaxInFlight(_ context.Context, clientID, hookID int64, n int) (hook.Hook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("SetMaxInFlight"); err != nil {
		return hook.Hook{}, err
	}
	h, i := s.hookAt(clientID, hookID)
	if i < 0 {
		return hook.Hook{}, fmt.Errorf("set max in flight of hook %d: %w", hookID, hook.ErrNotFound)
	}
	h.MaxInFlight = n
	return cloneHook(*h), nil
}
